package model

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func canon(w *World, names ...string) []byte {
	rank := func(string) int { return -1 }
	var b []byte
	for _, n := range names {
		b = w.AppendCanonical(b, n, rank)
	}
	return b
}

// TestCloneIsDeep: a clone encodes like the original, and running the
// clone changes neither the original's encoding nor what the original
// does next.
func TestCloneIsDeep(t *testing.T) {
	w := NewWorld(LibZMQ, nil)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(w.NewREP("s", Options{}))
	must(w.Bind("s", "tcp://s:1"))
	must(w.NewREQ("c", Options{}))
	must(w.Connect("c", "tcp://s:1"))
	must(w.Send("c", Message{"0"})) // queued on the pipe before the connection (F12)
	for _, d := range w.PendingDials() {
		w.DialDone(d.Attempt, true)
	}
	before := canon(w, "c", "s")
	c := w.Clone(nil)
	if got := canon(c, "c", "s"); !bytes.Equal(got, before) {
		t.Fatalf("clone encodes differently:\n%q\n%q", got, before)
	}
	for _, f := range c.InFlight() {
		c.Arrive(f.Conn, f.Dir)
	}
	if _, err := c.Recv("s"); err != nil {
		t.Fatalf("clone: serve: %v", err)
	}
	if bytes.Equal(canon(c, "c", "s"), before) {
		t.Fatal("the clone's steps did not change its encoding")
	}
	if got := canon(w, "c", "s"); !bytes.Equal(got, before) {
		t.Fatalf("the clone's steps changed the original:\n%q\n%q", got, before)
	}
	if len(w.InFlight()) != 1 {
		t.Fatalf("original: want the request still in flight, got %+v", w.InFlight())
	}
	st, _ := w.State("s")
	if st.OwesReply {
		t.Fatal("original REP owes a reply it never read")
	}
}

// TestCanonicalIgnoresIDs: two worlds that differ only in how many ids
// were spent encode alike.
func TestCanonicalIgnoresIDs(t *testing.T) {
	build := func(extra int) *World {
		w := NewWorld(LibZMQ, nil)
		w.nextID = extra
		_ = w.NewREP("s", Options{})
		_ = w.Bind("s", "tcp://s:1")
		_ = w.NewREQ("c", Options{})
		_ = w.Connect("c", "tcp://s:1")
		for _, d := range w.PendingDials() {
			w.DialDone(d.Attempt, true)
		}
		return w
	}
	a, b := build(0), build(1000)
	if !bytes.Equal(canon(a, "c", "s"), canon(b, "c", "s")) {
		t.Fatal("ids leak into the canonical encoding")
	}
	_ = b.Send("c", Message{"0"})
	if bytes.Equal(canon(a, "c", "s"), canon(b, "c", "s")) {
		t.Fatal("a queued request does not change the encoding")
	}
}

// TestCloneHandlesEveryField: CloneInto copies the nodes of a World field
// by field where a field refers to memory (a pointer, slice, map or
// interface), and copies the rest by value. A field added to socket, pipe,
// connection, connecter or World that refers to memory must be added to
// the cloner (or here, with why it may be shared), or a copy would share
// it with its original and the explorer would merge states silently.
func TestCloneHandlesEveryField(t *testing.T) {
	handled := map[reflect.Type]map[string]string{
		reflect.TypeFor[socket](): {
			"pipes": "deep", "binds": "shared, full (an append moves it)", "connect": "deep", "replyPipe": "deep", "envPipe": "deep", "arrivals": "deep",
			"lb": "deep (its pipes)", "fq": "deep (its pipes)",
			// Messages are never changed in place once made (reqSend, repRecv).
			"request": "shared message", "requestMsg": "shared message", "envelope": "shared message", "held": "shared message",
			"prefetch": "shared message", "prefetchPipe": "deep", "ackPipe": "deep",
		},
		reflect.TypeFor[pipe]():       {"owner": "deep", "out": "copied", "in": "copied", "conn": "deep", "connecter": "deep"},
		reflect.TypeFor[connection](): {"pipes": "deep", "wire": "copied"},
		reflect.TypeFor[connecter]():  {"sock": "deep", "pipe": "deep", "conn": "deep"},
		reflect.TypeFor[World](): {
			"sockets": "rebuilt", "binds": "rebuilt", "live": "rebuilt", "attempts": "rebuilt", "timers": "rebuilt",
			"chooser": "replaced", "effects": "emptied", "mutable": "value (a Mutation in the teeth build)", "mem": "the copy's Scratch",
			"refills": "not copied: empty between calls (roomIn)",
		},
	}
	for typ, fields := range handled {
		for i := 0; i < typ.NumField(); i++ {
			f := typ.Field(i)
			if refersToMemory(f.Type) && fields[f.Name] == "" {
				t.Errorf("%s.%s (%s) refers to memory, and CloneInto does not say how it copies it", typ.Name(), f.Name, f.Type)
			}
		}
		for name := range fields {
			if _, ok := typ.FieldByName(name); !ok {
				t.Errorf("%s has no field %s any more: update CloneInto and this list", typ.Name(), name)
			}
		}
	}
}

// refersToMemory says whether a value of type t can share mutable memory
// with a copy of it. Strings are immutable, so they cannot.
func refersToMemory(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Map, reflect.Interface, reflect.Chan, reflect.Func, reflect.UnsafePointer:
		return true
	case reflect.Array:
		return refersToMemory(t.Elem())
	case reflect.Struct:
		for i := 0; i < t.NumField(); i++ {
			if refersToMemory(t.Field(i).Type) {
				return true
			}
		}
	}
	return false
}

// TestCloneIntoReusesMemoryFaithfully: copying worlds of different shapes
// one after another into one Scratch (the explorer's pattern: the slabs
// and the message slab hold another world's nodes each time) gives copies
// that encode like their originals and stay independent of them.
func TestCloneIntoReusesMemoryFaithfully(t *testing.T) {
	build := func(servers int, sends int) *World {
		w := NewWorld(LibZMQ, nil)
		for j := 0; j < servers; j++ {
			name := string(rune('a' + j))
			_ = w.NewREP(name, Options{})
			_ = w.Bind(name, "tcp://"+name+":1")
		}
		_ = w.NewREQ("c", Options{ReqRelaxed: true})
		for j := 0; j < servers; j++ {
			_ = w.Connect("c", "tcp://"+string(rune('a'+j))+":1")
		}
		for k := 0; k < sends; k++ {
			_ = w.Send("c", Message{string(rune('0' + k))})
		}
		for _, d := range w.PendingDials() {
			w.DialDone(d.Attempt, true)
		}
		return w
	}
	names := []string{"c", "a", "b", "d"}
	var s Scratch
	// Growing, shrinking and growing again: a slot of a slab then holds
	// memory of an earlier copy while the slab is too small for this one.
	shapes := [][2]int{{1, 1}, {3, 5}, {2, 0}, {3, 2}, {1, 4}, {3, 9}, {3, 3}, {3, 12}, {1, 0}, {3, 12}}
	for _, shape := range shapes {
		w := build(shape[0], shape[1])
		before := canon(w, names...)
		c := w.CloneInto(&s, nil)
		if got := canon(c, names...); !bytes.Equal(got, before) {
			t.Fatalf("%v: the copy encodes differently:\n%q\n%q", shape, got, before)
		}
		for _, f := range c.InFlight() {
			c.Arrive(f.Conn, f.Dir)
		}
		for _, n := range names[1:] {
			_, _ = c.Recv(n)
			_ = c.Send(n, Message{"r"})
		}
		_ = c.Send("c", Message{"x"})
		if got := canon(w, names...); !bytes.Equal(got, before) {
			t.Fatalf("%v: running the copy changed the original:\n%q\n%q", shape, got, before)
		}
	}
}

// walk takes n steps on w drawn from r among every operation a driver
// has: sends, receives, arrivals, dial completions (reachable or not),
// timers, crashes and reopens, disconnects and reconnects, cuts. It
// returns what each step did (its error and its effects), so that two
// walks can be compared.
func walk(w *World, r *rand.Rand, n int) []string {
	var out []string
	reqs, reps := []string{"c1", "c2"}, []string{"s1", "s2"}
	ep := func(s string) string { return "tcp://" + s + ":1" }
	reopen := func(name string) error {
		if name[0] == 's' {
			if err := w.NewREP(name, Options{}); err != nil {
				return err
			}
			return w.Bind(name, ep(name))
		}
		if err := w.NewREQ(name, Options{ReqCorrelate: name == "c2"}); err != nil {
			return err
		}
		for _, s := range reps {
			if err := w.Connect(name, ep(s)); err != nil {
				return err
			}
		}
		return nil
	}
	for i := 0; i < n; i++ {
		var what string
		var err error
		c, s := reqs[r.IntN(2)], reps[r.IntN(2)]
		switch r.IntN(11) {
		case 0, 1:
			what = "send " + c
			err = w.Send(c, Message{string(rune('a' + i%26))})
		case 2:
			what = "recv " + c
			_, err = w.Recv(c)
		case 3:
			what = "serve " + s
			var m Message
			if m, err = w.Recv(s); err == nil {
				err = w.Send(s, append(Message{"re"}, m...))
			}
		case 4, 5:
			if f := w.InFlight(); len(f) > 0 {
				k := f[r.IntN(len(f))]
				what = fmt.Sprintf("arrive %d/%d", k.Conn, k.Dir)
				w.Arrive(k.Conn, k.Dir)
			}
		case 6:
			if d := w.PendingDials(); len(d) > 0 {
				k := d[r.IntN(len(d))]
				what = fmt.Sprintf("dial %d", k.Attempt)
				w.DialDone(k.Attempt, r.IntN(4) > 0)
			}
		case 7:
			if t := w.PendingTimers(); len(t) > 0 {
				k := t[r.IntN(len(t))]
				what = fmt.Sprintf("timer %d", k.Timer)
				w.TimerFired(k.Timer)
			}
		case 8:
			name := append(reqs, reps...)[r.IntN(4)]
			what = "crash and reopen " + name
			if err = w.Crash(name); err == nil {
				err = reopen(name)
			}
		case 9:
			what = "disconnect and reconnect " + c + " " + s
			if err = w.Disconnect(c, ep(s)); err == nil {
				err = w.Connect(c, ep(s))
			}
		case 10:
			what = fmt.Sprintf("cut %s %s: %d", c, s, w.Cut(c, s))
		}
		out = append(out, fmt.Sprintf("%s: %v %v", what, err, w.Ready()))
	}
	return out
}

// TestSaveRestoreUndoesSteps: after any steps on a copy, Restore returns
// it to what Save recorded: it encodes as before, and from then on it
// does exactly what an untouched copy of the same world does, however
// often it is restored.
func TestSaveRestoreUndoesSteps(t *testing.T) {
	names := []string{"c1", "c2", "s1", "s2"}
	for seed := uint64(0); seed < 300; seed++ {
		w := NewWorld(LibZMQ, nil)
		for _, s := range []string{"s1", "s2"} {
			_ = w.NewREP(s, Options{})
			_ = w.Bind(s, "tcp://"+s+":1")
		}
		for _, c := range []string{"c1", "c2"} {
			_ = w.NewREQ(c, Options{ReqCorrelate: c == "c2"})
			for _, s := range []string{"s1", "s2"} {
				_ = w.Connect(c, "tcp://"+s+":1")
			}
		}
		warm := rand.New(rand.NewPCG(seed, 0))
		walk(w, warm, warm.IntN(40))
		w.Ready()
		// Copies of copies, as the explorer makes them.
		c := w.Clone(nil).CloneInto(&Scratch{}, nil)
		var sn Snapshot
		c.Save(&sn)
		before := canon(c, names...)
		for round := uint64(0); round < 4; round++ {
			got := walk(c, rand.New(rand.NewPCG(seed, round+1)), 1+int(round*7))
			c.Restore(&sn)
			if enc := canon(c, names...); !bytes.Equal(enc, before) {
				t.Fatalf("seed %d round %d: restored world encodes differently:\n%q\n%q", seed, round, enc, before)
			}
			want := walk(w.Clone(nil), rand.New(rand.NewPCG(seed, round+1)), 1+int(round*7))
			if !slices.Equal(got, want) {
				t.Fatalf("seed %d round %d: a walk from the saved copy differs from one from an untouched copy:\n%s\n---\n%s", seed, round, strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		}
	}
}

// TestStateRoundTrip: LoadState rebuilds what AppendState encoded, under
// libzmq's profile and zmq4's: the world encodes again to the same
// bytes, and from then on does exactly what the original does, ids
// included; so does a world rebuilt into a Scratch that held another,
// and one saved and restored.
func TestStateRoundTrip(t *testing.T) {
	var s [2]Scratch
	for seed := uint64(0); seed < 300; seed++ {
		profile := LibZMQ
		if seed%3 == 2 {
			profile = ZMQ4 // its rotations are in attach order (sendRR, recvRR)
		}
		w := NewWorld(profile, nil)
		for _, n := range []string{"s1", "s2"} {
			_ = w.NewREP(n, Options{})
			_ = w.Bind(n, "tcp://"+n+":1")
		}
		for _, c := range []string{"c1", "c2"} {
			_ = w.NewREQ(c, Options{ReqCorrelate: c == "c2", SndHWM: 2, ReconnectIvlMax: time.Second})
			for _, n := range []string{"s1", "s2"} {
				_ = w.Connect(c, "tcp://"+n+":1")
			}
		}
		warm := rand.New(rand.NewPCG(seed, 0))
		walk(w, warm, warm.IntN(60))
		w.Ready()
		b := w.AppendState([]byte("prefix"))[len("prefix"):]
		got, rest, err := s[seed%2].LoadState(append(b, "suffix"...), w)
		if err != nil || string(rest) != "suffix" {
			t.Fatalf("seed %d: LoadState: %v, rest %q", seed, err, rest)
		}
		if again := got.AppendState(nil); !bytes.Equal(again, b) {
			t.Fatalf("seed %d: the rebuilt world encodes differently:\n%q\n%q", seed, again, b)
		}
		var sn Snapshot
		got.Save(&sn)
		walk(got, rand.New(rand.NewPCG(seed, 2)), 5)
		got.Restore(&sn)
		r1, r2 := rand.New(rand.NewPCG(seed, 1)), rand.New(rand.NewPCG(seed, 1))
		a, c := walk(got, r1, 30), walk(w.Clone(nil), r2, 30)
		if !slices.Equal(a, c) {
			t.Fatalf("seed %d: the rebuilt world does otherwise:\n%s\n---\n%s", seed, strings.Join(a, "\n"), strings.Join(c, "\n"))
		}
	}
	for _, bad := range [][]byte{nil, {1}, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1}, []byte("\x01\x05\x05\x05\x05")} {
		if _, _, err := s[0].LoadState(bad, NewWorld(LibZMQ, nil)); err == nil {
			t.Errorf("LoadState(%q) did not fail", bad)
		}
	}
}

// TestStateHandlesEveryField: AppendState writes, and LoadState reads,
// every field of the nodes of a World and of the World itself, or says
// here why it may leave one out. A field added to socket, pipe,
// connection, connecter or World must be added to both (and here), or a
// rebuilt world would lose it and the explorer, which keeps its states
// encoded, would merge states silently.
func TestStateHandlesEveryField(t *testing.T) {
	handled := map[reflect.Type][]string{
		reflect.TypeFor[socket](): {"slot", "name", "typ", "opts", "pipes", "lb", "fq", "sendRR", "recvRR", "binds", "connect",
			"receivingReply", "replyPipe", "requestID", "idStarted", "request", "requestMsg", "peerGone",
			"sendingReply", "envelope", "envPipe", "held", "arrivals", "replyFull", "prefetch", "prefetchPipe", "ackPipe", "ackBack", "attached"},
		reflect.TypeFor[pipe]():       {"slot", "id", "owner", "peer", "out", "in", "conn", "connecter", "terminated", "detached", "outLag", "inLag", "outMail", "woke", "eof"},
		reflect.TypeFor[connection](): {"slot", "id", "pipes", "wire", "landed", "stalled", "ended", "reason"},
		reflect.TypeFor[connecter]():  {"slot", "sock", "endpoint", "pipe", "conn", "attempt", "timer", "ivl", "stopped"},
		// profile, chooser and mutable come from LoadState's like;
		// effects are left out, as Clone leaves them; mem is the Scratch.
		reflect.TypeFor[World](): {"mutable", "profile", "chooser", "sockets", "binds", "live", "attempts", "timers", "mem", "nextID", "effects",
			// Empty between calls (roomIn).
			"holdRefills", "refills"},
		reflect.TypeFor[Options]():  {"ReqCorrelate", "ReqRelaxed", "Immediate", "SndHWM", "RcvHWM", "ReconnectIvl", "ReconnectIvlMax"},
		reflect.TypeFor[rotation](): {"pipes", "active", "current"},
	}
	for typ, fields := range handled {
		for i := 0; i < typ.NumField(); i++ {
			if f := typ.Field(i); !slices.Contains(fields, f.Name) {
				t.Errorf("%s.%s: AppendState and LoadState do not say how they keep it", typ.Name(), f.Name)
			}
		}
		for _, name := range fields {
			if _, ok := typ.FieldByName(name); !ok {
				t.Errorf("%s has no field %s any more: update AppendState, LoadState and this list", typ.Name(), name)
			}
		}
	}
}
