package model_test

// What libzmq's flow control does at a full RCVHWM besides holding
// messages back (F18): a connecting REP whose surviving pipe is full
// stalls its handshake (F21), and a REQ's session refuses a reply with a
// request id once and then takes it for a wrong frame (F6). The counts
// and outcomes are libzmq 4.3.4's, probed (LIBZMQ-FINDINGS.md); the
// scripts f21_restarted_binder_blocks.txt and f06_full_pipe_request_id.txt
// show them on libzmq.

import (
	"testing"

	"github.com/zeromq-lockstep/lockstep/model"
)

// restartedBinder: a relaxed REQ c binds, a REP s with RCVHWM=rcvhwm
// connects, c sends `unread` requests that s does not read, and c
// restarts; s reconnects on the pipe that survived (IMMEDIATE=0, F21).
func restartedBinder(t *testing.T, rcvhwm, unread int) *driver {
	d := newDriver(t, nil)
	d.newREQ("c", model.Options{ReqRelaxed: true})
	d.bind("c", epA)
	d.newREP("s", model.Options{RcvHWM: rcvhwm})
	d.connect("s", epA)
	for i := range unread {
		d.send("c", "r"+string(rune('0'+i)))
	}
	d.ok(d.w.Close("c"))
	d.settle()
	d.newREQ("c", model.Options{ReqRelaxed: true})
	d.bind("c", epA)
	d.fireAll()
	if len(d.w.ConnectionsOf("s")) != 1 {
		t.Fatal("setup: s did not reconnect")
	}
	return d
}

// TestF21_StalledHandshake: F21, a REP that reconnects on a pipe at its
// RCVHWM cannot push the new peer's routing id and leaves its handshake
// unfinished: the first message from the peer is taken for a handshake
// command, a protocol error, which ends the REP's connect() for good
// (F6); the restarted REQ's pipe goes with the connection, so its next
// send blocks. The REP still reads what its pipe held.
func TestF21_StalledHandshake(t *testing.T) {
	for _, tc := range []struct{ rcvhwm, unread int }{{1, 1}, {2, 2}, {3, 3}} {
		d := restartedBinder(t, tc.rcvhwm, tc.unread)
		if !d.state("s").Pipes[0].Stalled {
			t.Fatalf("rcvhwm=%d: s's handshake did not stall", tc.rcvhwm)
		}
		timers := len(d.timersOf("s"))
		d.send("c", "a")
		d.wantDrop("a", "taken for a handshake command")
		wantErr(t, "send after the connection ended", d.w.Send("c", msg("b")), model.ErrAgain)
		for i := range tc.unread {
			wantMsg(t, "held request", d.recv("s"), msg("r"+string(rune('0'+i))))
			d.send("s", "late")
		}
		d.fireAll()
		if len(d.timersOf("s")) != timers || len(d.w.ConnectionsOf("s")) != 0 {
			t.Fatalf("rcvhwm=%d: s reconnects after the protocol error", tc.rcvhwm)
		}
	}
	// A pipe with room takes the routing id: the handshake completes.
	d := restartedBinder(t, 2, 1)
	if d.state("s").Pipes[0].Stalled {
		t.Fatal("a pipe below its RCVHWM stalled the handshake")
	}
	d.send("c", "a")
	wantMsg(t, "old request", d.recv("s"), msg("r0"))
	d.send("s", "re")
	wantMsg(t, "new request", d.recv("s"), msg("a"))
}

// TestF21_StalledReadAborts: F21, a read that tells the stalled engine of
// room is where libzmq 4.3.4 aborts (an assertion in restart_input); the
// model reports it and ends the connection. With RCVHWM=3 the LWM is 2,
// so the first read tells nothing.
func TestF21_StalledReadAborts(t *testing.T) {
	d := restartedBinder(t, 3, 3)
	wantMsg(t, "first read", d.recv("s"), msg("r0"))
	d.send("s", "re")
	if !d.state("s").Pipes[0].Stalled {
		t.Fatal("one read below the LWM ended the stall")
	}
	wantMsg(t, "second read", d.recv("s"), msg("r1"))
	d.collect()
	found := false
	for _, o := range d.obs {
		found = found || o.Kind == model.EventError && o.Actor == "s" && o.Reason == model.AbortStalledRead
	}
	if !found {
		t.Fatal("no error event where libzmq aborts")
	}
	if len(d.w.ConnectionsOf("s")) != 0 {
		t.Fatal("the stalled connection outlived the read")
	}
}

// TestF6_RequestIDRefusedByFullPipe: F6, a reply that starts with a
// request id and finds the REQ's pipe at its RCVHWM ends the connection
// once the pipe has room (req.cpp: req_session_t keeps the state of the
// refused push); a reply that starts with the delimiter waits, and is
// taken after the REQ's next send, which drained only what its pipe held
// (F9), as the answer to that request.
func TestF6_RequestIDRefusedByFullPipe(t *testing.T) {
	for _, withID := range []bool{true, false} {
		d := newDriver(t, nil)
		d.newDEALER("r", model.Options{}) // a ROUTER facing the REQ
		d.bind("r", epA)
		d.newREQ("q", model.Options{RcvHWM: 1})
		d.connect("q", epA)
		var head []string
		if withID {
			head = []string{"\x01\x00\x00\x00"}
		}
		for _, b := range []string{"x0", "x1", "x2"} {
			d.send("r", append(append(head[:len(head):len(head)], ""), b)...)
		}
		d.send("q", "hello")
		if withID {
			d.wantDrop("hello", "pipe destroyed: protocol error")
			wantErr(t, "ROUTER send after the protocol error", d.w.Send("r", msg("", "x3")), model.ErrAgain)
			continue
		}
		wantMsg(t, "request", d.recv("r"), msg("", "hello"))
		wantMsg(t, "reply", d.recv("q"), msg("x1"))
	}
}

// TestF9_DrainRefillRace: F9, REQ's send drains the replies its pipes
// hold; a pipe whose engine holds more (F18) is refilled on libzmq's I/O
// thread, before or after the drain ends (ChoiceDrainRefill; probed: the
// first refill comes after in 18 of 30 trials). What the drain did not
// eat is taken as the answer to the new request.
func TestF9_DrainRefillRace(t *testing.T) {
	for _, tc := range []struct {
		during int    // refills that come before the drain ends
		want   string // the reply the REQ then takes
	}{{0, "x1"}, {1, "x2"}, {2, ""}} {
		asked := 0
		ch := model.ChooserFunc(func(c model.Choice, n int) int {
			if c != model.ChoiceDrainRefill {
				return 0
			}
			if asked++; asked <= tc.during {
				return 1
			}
			return 0
		})
		d := newDriver(t, ch)
		d.newDEALER("r", model.Options{})
		d.bind("r", epA)
		d.newREQ("q", model.Options{RcvHWM: 1})
		d.connect("q", epA)
		for _, b := range []string{"x0", "x1", "x2"} {
			d.send("r", "", b)
		}
		d.send("q", "hello")
		if tc.want == "" {
			if _, err := d.w.Recv("q"); err == nil {
				t.Fatalf("%d refills during the drain: the REQ took a reply", tc.during)
			}
			continue
		}
		wantMsg(t, "reply", d.recv("q"), msg(tc.want))
	}
}

// TestPollMovesRotations: World.Poll is ZMQ_EVENTS, which walks the load
// balancer past pipes that cannot take a message (lb.cpp has_out, F8):
// probed on libzmq 4.3.4, a binding REQ whose first and third pipes ended
// and whose fourth peer reconnected sends to the second peer after a
// poll, to the reconnected one without (5 of 5 trials each).
func TestPollMovesRotations(t *testing.T) {
	for _, poll := range []bool{false, true} {
		d := newDriver(t, nil)
		d.newREQ("q", model.Options{ReqRelaxed: true})
		d.bind("q", epA)
		for _, s := range []string{"s1", "s2", "s3"} {
			d.newREP(s, model.Options{})
			d.connect(s, epA)
		}
		d.newDEALER("r", model.Options{}) // a ROUTER facing the REQ
		d.connect("r", epA)
		d.ok(d.w.Close("s1"))
		d.ok(d.w.Close("s3"))
		d.send("r", "bad") // a protocol error: r reconnects (F6)
		if poll {
			d.w.Poll("q")
		}
		d.fireAll()
		d.send("q", "hello")
		want := "r"
		if poll {
			want = "s2"
		}
		st := d.state(want)
		if len(st.Pipes) != 1 || st.Pipes[0].In != 1 {
			t.Fatalf("poll=%v: %s did not get the request: %+v", poll, want, st)
		}
	}
}

// TestF8_DisconnectedPipeLeavesRotation: F8, zmq_disconnect ends the pipe
// from the socket's side, so the pipe leaves the rotations when its term
// ack returns, before the socket's next send, and a connect() to the same
// endpoint attaches a pipe at the end: the next request goes to the other
// peer (found by TestModelAgreesWithLibzmq).
func TestF8_DisconnectedPipeLeavesRotation(t *testing.T) {
	d := newDriver(t, nil)
	d.newREP("s1", model.Options{})
	d.bind("s1", epA)
	d.newREP("s2", model.Options{})
	d.bind("s2", epB)
	d.newREQ("c", model.Options{})
	d.connect("c", epA)
	d.connect("c", epB)
	d.ok(d.w.Disconnect("c", epA))
	d.settle()
	d.connect("c", epA)
	d.send("c", "x")
	if st := d.state("s2"); st.Pipes[0].In != 1 {
		t.Fatalf("s2 did not get the request: %+v", st)
	}
}
