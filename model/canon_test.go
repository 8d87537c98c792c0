package model

import (
	"bytes"
	"testing"
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
