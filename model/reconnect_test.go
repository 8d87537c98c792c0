package model_test

// Peers that go away: gone clients (F16), a request lost with a dying
// REP (F19), requests sent while it is down (F21), what a dropped
// connection loses (F22) and the reconnect interval (F23). These table
// tests keep the cases the scripts f16_* to f23_* in spec/testdata do not
// show (close, crash and cut in every combination, the binding REQ, every
// jitter and cap of the interval); see facts_test.go.

import (
	"slices"
	"testing"
	"time"

	"github.com/zeromq-lockstep/lockstep/model"
)

// TestF16_ClientGone: F16, a reply to a client that has gone is dropped
// silently, the send succeeds and REP can receive again; a request that
// reached REP before its client left is still handed to the application
// (RFC 28, REP: "SHALL silently discard the reply, or return an error").
func TestF16_ClientGone(t *testing.T) {
	cases := []struct {
		name       string
		readFirst  bool // REP reads before the client goes
		goAway     func(d *driver)
		wantReason string
	}{
		{"client closes, request unread", false, func(d *driver) { d.ok(d.w.Close("c")) }, "client gone"},
		{"client crashes, request unread", false, func(d *driver) { d.ok(d.w.Crash("c")) }, "client gone"},
		{"client closes, request read", true, func(d *driver) { d.ok(d.w.Close("c")) }, "client gone"},
		{"link cut, request read", true, func(d *driver) { d.w.Cut("c", "s") }, "client gone"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := reqrep(t, nil, model.Options{}, model.Options{})
			d.newREQ("other", model.Options{})
			d.connect("other", epS)
			d.send("c", "r1")
			var got model.Message
			if tc.readFirst {
				got = d.recv("s")
			}
			tc.goAway(d)
			d.settle()
			if !tc.readFirst {
				got = d.recv("s")
			}
			wantMsg(t, "request handed to the application", got, msg("r1"))
			d.ok(d.w.Send("s", msg("a1")))
			d.settle()
			d.wantDrop("a1", tc.wantReason)
			if d.state("s").OwesReply {
				t.Fatal("REP still owes a reply")
			}
			wantErr(t, "REP ready to receive again", recvS(d), model.ErrAgain)
			d.send("other", "r2")
			if got := d.serve("s"); got != "r2" {
				t.Fatalf("server read %q, want r2", got)
			}
			wantMsg(t, "other's reply", d.recv("other"), msg("re:r2"))
		})
	}
}

// TestF19_LostRequestHangs: F19, a request that reached a REP which then
// dies, read or unread, is lost and never resent; a strict REQ then waits
// forever (recv EAGAIN, send EFSM), also after a new REP has bound and the
// REQ has reconnected; closing and reopening the REQ recovers (zguide ch. 4,
// Lazy Pirate: "the client just hangs forever"; observed on libzmq 4.3.4).
func TestF19_LostRequestHangs(t *testing.T) {
	cases := []struct {
		name      string
		crash     bool // Crash, else Close
		read      bool // the REP application had read the request
		immediate bool
		reqBinds  bool
	}{
		{"SIGKILL, read", true, true, false, false},
		{"SIGKILL, unread", true, false, false, false},
		{"clean close, read", false, true, false, false},
		{"clean close, unread", false, false, false, false},
		{"IMMEDIATE=1, read", true, true, true, false},
		{"IMMEDIATE=1, unread", true, false, true, false},
		{"REQ binds, read", true, true, false, true},
		{"REQ binds, unread", false, false, false, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := newDriver(t, nil)
			copts := model.Options{Immediate: tc.immediate}
			up := func() { // (re)starts the REP and lets the REQ reach it
				d.newREP("s", model.Options{})
				if tc.reqBinds {
					d.connect("s", epS)
				} else {
					d.bind("s", epS)
					d.fireAll()
				}
			}
			d.newREQ("c", copts)
			if tc.reqBinds {
				d.bind("c", epS)
			}
			d.newREP("s", model.Options{})
			if tc.reqBinds {
				d.connect("s", epS)
			} else {
				d.bind("s", epS)
				d.connect("c", epS)
			}
			d.send("c", "r1")
			how := "closed"
			if tc.read {
				wantMsg(t, "REP read", d.recv("s"), msg("r1"))
			}
			if tc.crash {
				how = "crashed"
				d.ok(d.w.Crash("s"))
			} else {
				d.ok(d.w.Close("s"))
			}
			d.settle()
			if tc.read {
				d.wantDrop("r1", "request held by server that "+how)
			} else {
				d.wantDrop("r1", "unread when socket "+how)
			}
			hangs := func(when string) {
				t.Helper()
				wantErr(t, when+": recv", recvC(d), model.ErrAgain)
				wantErr(t, when+": send", d.w.Send("c", msg("r2")), model.ErrFSM)
			}
			hangs("REP dead")
			up()
			if n := len(d.w.ConnectionsOf("c")); n != 1 {
				t.Fatalf("REQ has %d connections after the restart, want 1", n)
			}
			hangs("REP restarted")
			wantErr(t, "new REP has nothing", recvS(d), model.ErrAgain)
			// Recovery: close and reopen the REQ.
			d.ok(d.w.Close("c"))
			d.newREQ("c", copts)
			if tc.reqBinds {
				d.bind("c", epS)
				d.fireAll()
			} else {
				d.connect("c", epS)
			}
			d.send("c", "r3")
			if got := d.serve("s"); got != "r3" {
				t.Fatalf("server read %q, want r3", got)
			}
			wantMsg(t, "reply after reopening", d.recv("c"), msg("re:r3"))
		})
	}
}

// TestF21_RequestWhileDown: F21, a request sent while the REP is down waits in
// a connecting IMMEDIATE=0 REQ's surviving pipe and is answered by the new
// REP; with IMMEDIATE=1 or REQ as the binding side the pipe is destroyed and
// sends block until a new connection exists (observed on libzmq 4.3.4).
func TestF21_RequestWhileDown(t *testing.T) {
	cases := []struct {
		name      string
		immediate bool
		reqBinds  bool
		wantBlock bool
	}{
		{"IMMEDIATE=0 connecting: waits in the pipe", false, false, false},
		{"IMMEDIATE=1: blocks", true, false, true},
		{"REQ binds: blocks", false, true, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := newDriver(t, nil)
			d.newREQ("c", model.Options{Immediate: tc.immediate})
			d.newREP("s", model.Options{})
			if tc.reqBinds {
				d.bind("c", epS)
				d.connect("s", epS)
			} else {
				d.bind("s", epS)
				d.connect("c", epS)
			}
			d.send("c", "r0")
			d.serve("s")
			d.recv("c")
			d.ok(d.w.Crash("s"))
			d.settle()
			err := d.w.Send("c", msg("r1"))
			if tc.wantBlock {
				wantErr(t, "send while down", err, model.ErrAgain)
				if n := len(d.state("c").Pipes); n != 0 {
					t.Fatalf("REQ kept %d pipes", n)
				}
			} else {
				d.ok(err)
				if st := d.state("c"); len(st.Pipes) != 1 || st.Pipes[0].Out != 1 {
					t.Fatalf("request not waiting in the pipe: %+v", st.Pipes)
				}
			}
			d.newREP("s", model.Options{})
			if tc.reqBinds {
				d.connect("s", epS)
			} else {
				d.bind("s", epS)
				d.fireAll()
			}
			if tc.wantBlock {
				d.send("c", "r1")
			}
			if got := d.serve("s"); got != "r1" {
				t.Fatalf("new REP read %q, want r1", got)
			}
			wantMsg(t, "reply", d.recv("c"), msg("re:r1"))
		})
	}
}

// TestF22_ConnectionDrop: F22, when a connection drops, messages its engine
// had sent that have not reached the other side are lost; those that have
// are still read: a receiving engine that stopped for want of room takes
// them before it sees the end (stream_engine_base.cpp). Messages sent
// while the connection is down wait only in a pipe that survives, and a
// destroyed pipe discards its contents (libzmq session_base.cpp, pipe.cpp).
func TestF22_ConnectionDrop(t *testing.T) {
	cases := []struct {
		name      string
		immediate bool
		end       func(d *driver)
		reason    string
		wantLater []string // what the server reads after the reconnect
	}{
		{"cut, IMMEDIATE=0: pipe survives", false,
			func(d *driver) { d.w.Cut("client", "s") }, "link cut", []string{"m4"}},
		{"cut, IMMEDIATE=1: no pipe", true,
			func(d *driver) { d.w.Cut("client", "s") }, "link cut", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := newDriver(t, nil)
			// RCVHWM 1: the server's pipe takes m1; m2 and m3 wait at its
			// engine (F18).
			d.newREP("s", model.Options{RcvHWM: 1})
			d.bind("s", epS)
			d.newDEALER("client", model.Options{Immediate: tc.immediate})
			d.connect("client", epS)
			for _, b := range []string{"m1", "m2", "m3"} {
				d.send("client", "", b)
			}
			d.ok(d.w.Send("client", msg("", "m0")))
			d.collect() // m0 on the wire, not arrived
			tc.end(d)
			d.settle()
			d.wantDrop("m0", "in flight when connection ended: "+tc.reason)
			if len(d.drops()) != 1 {
				t.Fatalf("drops %+v, want only m0", d.drops())
			}
			err := d.w.Send("client", msg("", "m4"))
			if tc.immediate {
				wantErr(t, "send with no pipe (F13)", err, model.ErrAgain)
			} else {
				d.ok(err)
			}
			d.settle()
			if !d.state("s").Pipes[0].Connected {
				t.Fatal("the server saw the end before it took what had reached it")
			}
			for _, m := range []string{"m1", "m2", "m3"} {
				wantMsg(t, "what had reached the server", d.recv("s"), msg(m))
				d.send("s", "late")
			}
			d.fireAll()
			var got []string
			for {
				m, err := d.w.Recv("s")
				if err != nil {
					break
				}
				got = append(got, m.Text())
				d.send("s", "ok")
			}
			if !slices.Equal(got, tc.wantLater) {
				t.Fatalf("REP got %q after reconnecting, want %q", got, tc.wantLater)
			}
		})
	}
	t.Run("server crash: what reached it dies with it", func(t *testing.T) {
		d := newDriver(t, nil)
		d.newREP("s", model.Options{RcvHWM: 1})
		d.bind("s", epS)
		d.newDEALER("client", model.Options{})
		d.connect("client", epS)
		d.send("client", "", "m1")
		d.send("client", "", "m2")
		d.ok(d.w.Crash("s"))
		d.wantDrop("m1", "unread when socket crashed")
		d.wantDrop("m2", "in flight when connection ended: s crashed")
	})
	t.Run("disconnect: pipe destroyed", func(t *testing.T) {
		d := newDriver(t, nil)
		d.newDEALER("client", model.Options{})
		d.connect("client", epS) // nothing bound: the messages wait in the pipe (F12)
		d.send("client", "", "m1")
		d.send("client", "", "m2")
		d.ok(d.w.Disconnect("client", epS))
		d.wantDrop("m1", "pipe destroyed: disconnect")
		d.wantDrop("m2", "pipe destroyed: disconnect")
	})
}

// TestF23_Reconnect: F23, the first attempt is immediate at connect(); after a
// refusal or a disconnect the wait is RECONNECT_IVL + rand() % RECONNECT_IVL
// (default 100..199 ms); RECONNECT_IVL_MAX doubles the base up to a cap;
// RECONNECT_IVL=-1 never retries (libzmq stream_connecter_base.cpp).
func TestF23_Reconnect(t *testing.T) {
	ms := time.Millisecond
	t.Run("first attempt is immediate", func(t *testing.T) {
		w := model.NewWorld(model.LibZMQ, nil)
		if err := w.NewREQ("c", model.Options{}); err != nil {
			t.Fatal(err)
		}
		if err := w.Connect("c", epS); err != nil {
			t.Fatal(err)
		}
		eff := w.Ready()
		if len(eff) != 1 {
			t.Fatalf("effects %+v, want one Dial", eff)
		}
		if x, ok := eff[0].(model.Dial); !ok || x.From != "c" || x.Endpoint != epS {
			t.Fatalf("effect %+v, want Dial from c to %s", eff[0], epS)
		}
	})
	refused := func(n int) func(d *driver) { // connect, then n more refusals
		return func(d *driver) {
			d.connect("c", epS)
			for range n {
				d.fireAll()
			}
		}
	}
	dropped := func(d *driver) { // connected, then the server dies
		d.newREP("s", model.Options{})
		d.bind("s", epS)
		d.connect("c", epS)
		d.ok(d.w.Crash("s"))
		d.settle()
	}
	cases := []struct {
		name      string
		opts      model.Options
		jitter    int
		script    func(d *driver)
		want      []time.Duration
		wantDials int
	}{
		{"refused, jitter 0", model.Options{}, 0, refused(0), []time.Duration{100 * ms}, 1},
		{"refused, jitter 57", model.Options{}, 57, refused(0), []time.Duration{157 * ms}, 1},
		{"refused, jitter 99", model.Options{}, 99, refused(0), []time.Duration{199 * ms}, 1},
		{"disconnect, jitter 0", model.Options{}, 0, dropped, []time.Duration{100 * ms}, 1},
		{"disconnect, jitter 99", model.Options{}, 99, dropped, []time.Duration{199 * ms}, 1},
		{"no max: the base stays", model.Options{}, 0, refused(3),
			[]time.Duration{100 * ms, 100 * ms, 100 * ms, 100 * ms}, 4},
		{"max not above ivl: no doubling", model.Options{ReconnectIvlMax: 100 * ms}, 0, refused(2),
			[]time.Duration{100 * ms, 100 * ms, 100 * ms}, 3},
		{"max 350: doubles to the cap", model.Options{ReconnectIvlMax: 350 * ms}, 0, refused(4),
			[]time.Duration{100 * ms, 200 * ms, 350 * ms, 350 * ms, 350 * ms}, 5},
		{"max 350, jitter on the configured ivl", model.Options{ReconnectIvlMax: 350 * ms}, 99, refused(3),
			[]time.Duration{199 * ms, 299 * ms, 449 * ms, 449 * ms}, 4},
		{"ivl 250", model.Options{ReconnectIvl: 250 * ms}, 249, refused(1),
			[]time.Duration{499 * ms, 499 * ms}, 2},
		{"a connection resets the base", model.Options{ReconnectIvlMax: time.Second}, 0, func(d *driver) {
			refused(1)(d) // 100, 200
			d.newREP("s", model.Options{})
			d.bind("s", epS)
			d.fireAll() // connects
			d.ok(d.w.Crash("s"))
			d.settle() // 100 again
		}, []time.Duration{100 * ms, 200 * ms, 100 * ms}, 3},
		{"ivl -1, refused: never retries", model.Options{ReconnectIvl: model.NoReconnect}, 0, refused(2), nil, 1},
		{"ivl -1, disconnect: never retries", model.Options{ReconnectIvl: model.NoReconnect}, 0, func(d *driver) {
			dropped(d)
			d.newREP("s", model.Options{})
			d.bind("s", epS)
			d.fireAll()
			if n := len(d.w.ConnectionsOf("c")); n != 0 {
				d.t.Fatalf("reconnected with RECONNECT_IVL=-1: %d connections", n)
			}
		}, nil, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ch := &scripted{pick: map[model.Choice]func(int) int{
				model.ChoiceReconnectJitter: func(int) int { return tc.jitter },
			}}
			d := newDriver(t, ch)
			d.newREQ("c", tc.opts)
			tc.script(d)
			var got []time.Duration
			for _, x := range d.timersOf("c") {
				got = append(got, x.After)
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("reconnect waits %v, want %v", got, tc.want)
			}
			ivl := tc.opts.ReconnectIvl
			if ivl == 0 {
				ivl = model.DefaultReconnectIvl
			}
			for _, n := range ch.asked(model.ChoiceReconnectJitter) {
				if time.Duration(n)*ms != ivl {
					t.Fatalf("jitter drawn modulo %d ms, want %v", n, ivl)
				}
			}
			if n := len(ch.asked(model.ChoiceReconnectJitter)); n != len(tc.want) {
				t.Fatalf("jitter drawn %d times, want %d", n, len(tc.want))
			}
			dials := 0
			for _, x := range d.dialed {
				if x.From == "c" {
					dials++
				}
			}
			if dials != tc.wantDials {
				t.Fatalf("%d dials, want %d", dials, tc.wantDials)
			}
		})
	}
}
