package model_test

// When a send blocks or queues: no pipe (F11), IMMEDIATE off and on (F12,
// F13), REP never blocks (F17), the send high-water mark (F18) and the
// application queue (F24). These table tests keep the cases the scripts
// f11_* to f18_* and f24_app_queue in spec/testdata do not show (a refused
// IMMEDIATE=1 endpoint, more marks and pipes, the default mark, ten
// thousand queued messages); see facts_test.go.

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/zeromq-lockstep/lockstep/model"
)

// TestF11_NoPipeBlocks: F11, with no pipe at all a REQ send blocks: EAGAIN
// with DONTWAIT (RFC 28, REQ: "SHALL block on sending, or return a suitable
// error"; libzmq test_block_on_send_no_peers).
func TestF11_NoPipeBlocks(t *testing.T) {
	cases := []struct {
		name  string
		setup func(d *driver)
		heal  func(d *driver) // gives the REQ a peer afterwards
	}{
		// f11_no_pipe_blocks shows a REQ neither bound nor connected, and
		// bound with no peer.
		{"IMMEDIATE=1, endpoint refused", func(d *driver) {
			d.ok(d.w.Close("s"))
			d.connect("c", epS)
		}, func(d *driver) {
			d.newREP("s", model.Options{})
			d.bind("s", epS)
			d.fireAll()
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := newDriver(t, nil)
			d.newREP("s", model.Options{})
			d.bind("s", epS)
			d.newREQ("c", model.Options{Immediate: tc.name == "IMMEDIATE=1, endpoint refused"})
			tc.setup(d)
			wantErr(t, "send", d.w.Send("c", msg("r1")), model.ErrAgain)
			if d.state("c").AwaitingReply || d.w.Writable("c") {
				t.Fatal("a blocked send changed the REQ's state")
			}
			wantErr(t, "recv", recvC(d), model.ErrFSM)
			tc.heal(d)
			d.send("c", "r2")
			if got := d.serve("s"); got != "r2" {
				t.Fatalf("server read %q, want r2", got)
			}
			wantMsg(t, "reply", d.recv("c"), msg("re:r2"))
		})
	}
}

// TestF12_ImmediateOffQueues: F12, with IMMEDIATE=0 a send succeeds while the
// server is not running; the request waits in the pipe and is delivered once
// the server binds, and an endpoint that never comes up still takes its turn
// (ZMQ_IMMEDIATE docs; libzmq test_immediate_1).
func TestF12_ImmediateOffQueues(t *testing.T) {
	t.Run("delivered once the server binds", func(t *testing.T) {
		d := newDriver(t, nil)
		d.newREQ("c", model.Options{})
		d.connect("c", epS)
		d.send("c", "early")
		st := d.state("c")
		if len(st.Pipes) != 1 || st.Pipes[0].Out != 1 || st.Pipes[0].Connected {
			t.Fatalf("request not waiting in an unconnected pipe: %+v", st.Pipes)
		}
		if len(d.timersOf("c")) != 1 {
			t.Fatal("no reconnect after the refusal")
		}
		d.newREP("s", model.Options{})
		d.bind("s", epS)
		d.fireAll()
		if got := d.serve("s"); got != "early" {
			t.Fatalf("server read %q, want early", got)
		}
		wantMsg(t, "reply", d.recv("c"), msg("re:early"))
	})
	cases := []struct {
		name     string
		relaxed  bool
		sends    []string
		wantLive []string // what the live peer receives
		wantDead int      // requests waiting in the dead pipe
	}{
		{"strict: the first request goes to the dead endpoint", false,
			[]string{"r1"}, nil, 1},
		{"relaxed: dead endpoint keeps its turn", true,
			[]string{"r1", "r2", "r3", "r4"}, []string{"|r2", "|r4"}, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := newDriver(t, nil)
			d.newDEALER("live", model.Options{})
			d.bind("live", epB)
			d.newREQ("c", model.Options{ReqRelaxed: tc.relaxed})
			d.connect("c", epX)
			d.connect("c", epB)
			for _, r := range tc.sends {
				d.send("c", r)
			}
			got := d.drain("live")
			if !slices.Equal(got, tc.wantLive) {
				t.Fatalf("live peer got %q, want %q", got, tc.wantLive)
			}
			if out := d.state("c").Pipes[0].Out; out != tc.wantDead {
				t.Fatalf("dead pipe holds %d, want %d", out, tc.wantDead)
			}
		})
	}
}

// TestF13_ImmediateOn: F13, with IMMEDIATE=1 only completed connections
// count: sends block until one exists and dead endpoints are skipped
// (libzmq test_immediate_2, test_immediate_3).
func TestF13_ImmediateOn(t *testing.T) {
	cases := []struct {
		name    string
		connect []string
	}{
		// f13_immediate_on shows a dead endpoint first.
		{"dead endpoint last", []string{epS, epX}},
		{"two dead endpoints", []string{epX, epS, "tcp://dead:2"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := newDriver(t, nil)
			d.newREP("s", model.Options{})
			d.bind("s", epS)
			d.newREQ("c", model.Options{Immediate: true})
			for _, ep := range tc.connect {
				d.ok(d.w.Connect("c", ep))
			}
			// Dials not completed yet: no pipe, the send blocks.
			d.collect()
			wantErr(t, "send before any connection", d.w.Send("c", msg("r0")), model.ErrAgain)
			d.settle()
			if n := len(d.state("c").Pipes); n != 1 {
				t.Fatalf("REQ has %d pipes, want only the live one", n)
			}
			for _, r := range []string{"r1", "r2", "r3"} {
				d.send("c", r)
				if got := d.serve("s"); got != r {
					t.Fatalf("server read %q, want %q", got, r)
				}
				wantMsg(t, "reply", d.recv("c"), msg("re:"+r))
			}
		})
	}
}

// TestF17_REPNeverBlocks: F17, REP never blocks on send: when the pipe back
// to the client is full, the reply is dropped and the send succeeds (RFC 28,
// REP: "SHALL not block on sending"). A connected pipe never fills (F18), so
// the REP here connects (IMMEDIATE=0) and its client goes away after
// sending: the pipe survives with the requests, SNDHWM replies wait in it,
// the next is dropped, and the waiting ones reach the client that binds the
// endpoint again (F21).
func TestF17_REPNeverBlocks(t *testing.T) {
	// f17_rep_never_blocks shows hwm 1.
	for _, hwm := range []int{2, 3} {
		t.Run("hwm "+string(rune('0'+hwm)), func(t *testing.T) {
			d := newDriver(t, nil)
			d.newDEALER("client", model.Options{})
			d.bind("client", epA)
			d.newREP("s", model.Options{SndHWM: hwm})
			d.connect("s", epA)
			n := hwm + 1
			for i := range n {
				d.send("client", "", "q"+string(rune('a'+i)))
			}
			d.ok(d.w.Close("client"))
			d.settle()
			for i := range n {
				wantMsg(t, "request", d.recv("s"), msg("q"+string(rune('a'+i))))
				if err := d.w.Send("s", msg("a"+string(rune('a'+i)))); err != nil {
					t.Fatalf("reply %d: REP send failed: %v", i, err)
				}
				d.settle()
				if d.w.Writable("s") || d.state("s").OwesReply {
					t.Fatal("REP still owes a reply after sending it")
				}
			}
			last := "a" + string(rune('a'+n-1))
			d.wantDrop(last, "pipe to client full")
			if got := d.state("s").Pipes[0].Out; got != hwm {
				t.Fatalf("REP's pipe holds %d replies, want SNDHWM %d", got, hwm)
			}
			d.newDEALER("client", model.Options{})
			d.bind("client", epA)
			d.fireAll()
			for i := range n - 1 {
				wantMsg(t, "client got", d.recv("client"), msg("", "a"+string(rune('a'+i))))
			}
			_, err := d.w.Recv("client")
			wantErr(t, "dropped reply", err, model.ErrAgain)
		})
	}
}

// TestF18_ConnectedPipeNeverFills: F18, TCP holds what the receiver's pipe
// has no room for, so a sender with SNDHWM=1 facing a receiver with
// RCVHWM=1 that reads nothing sends on; the receiver then reads every
// message in order (observed on libzmq 4.3.4: 172 to 287 small messages
// before the kernel's buffers fill; LIBZMQ-FINDINGS.md).
func TestF18_ConnectedPipeNeverFills(t *testing.T) {
	d := newDriver(t, nil)
	d.newREP("s", model.Options{RcvHWM: 1})
	d.bind("s", epS)
	d.newDEALER("c", model.Options{SndHWM: 1})
	d.connect("c", epS)
	const n = 50
	for i := range n {
		d.send("c", "", fmt.Sprint(i))
		if st := d.state("s").Pipes[0]; st.In != 1 {
			t.Fatalf("after %d sends REP's pipe holds %d, want its RCVHWM 1", i+1, st.In)
		}
	}
	for i := range n {
		wantMsg(t, "request", d.recv("s"), msg(fmt.Sprint(i)))
		d.send("s", "ok")
	}
	if _, err := d.w.Recv("s"); !errors.Is(err, model.ErrAgain) {
		t.Fatalf("REP read more than was sent: %v", err)
	}
}

// TestF18_LowWaterMark: F18, a pipe's writer learns what its reader has
// read only every LWM = (HWM+1)/2 reads (pipe.cpp), so messages the
// engine took from a pipe still count against SNDHWM until then. A DEALER
// sends `first` messages while connected, its server goes away, and it
// sends on until EAGAIN: the counts are libzmq 4.3.4's, probed.
func TestF18_LowWaterMark(t *testing.T) {
	cases := []struct{ hwm, first, down int }{
		{1, 0, 1}, {1, 1, 1}, {2, 1, 2}, {2, 3, 2},
		{3, 0, 3}, {3, 1, 2}, {3, 2, 3}, {3, 3, 2}, {3, 5, 2},
		{5, 1, 4}, {5, 2, 3}, {5, 3, 5},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("sndhwm=%d first=%d", tc.hwm, tc.first), func(t *testing.T) {
			d := newDriver(t, nil)
			d.newREP("s", model.Options{})
			d.bind("s", epS)
			d.newDEALER("c", model.Options{SndHWM: tc.hwm})
			d.connect("c", epS)
			for i := range tc.first {
				d.send("c", "", fmt.Sprint("m", i))
			}
			d.ok(d.w.Close("s"))
			d.settle()
			n := 0
			for d.w.Send("c", msg("", "down")) == nil {
				n++
				d.settle()
			}
			if n != tc.down {
				t.Fatalf("%d sends while the server is down, libzmq %d", n, tc.down)
			}
		})
	}
}

// TestF18_SendHWM: F18, SNDHWM (default 1000) counts whole messages per pipe;
// when every pipe is full a send returns EAGAIN; in strict REQ the lockstep
// check comes first (observed on libzmq 4.3.4; lb.cpp).
func TestF18_SendHWM(t *testing.T) {
	cases := []struct {
		name    string
		typ     model.SocketType
		opts    model.Options
		pipes   int // pipes to endpoints that never come up
		nOK     int
		wantErr error
	}{
		{"DEALER hwm 2, one pipe", model.DEALER, model.Options{SndHWM: 2}, 1, 2, model.ErrAgain},
		{"DEALER hwm 2, two pipes", model.DEALER, model.Options{SndHWM: 2}, 2, 4, model.ErrAgain},
		{"DEALER default hwm", model.DEALER, model.Options{}, 1, model.DefaultHWM, model.ErrAgain},
		{"relaxed REQ hwm 1", model.REQ, model.Options{SndHWM: 1, ReqRelaxed: true}, 1, 1, model.ErrAgain},
		{"relaxed REQ hwm 3, two pipes", model.REQ, model.Options{SndHWM: 3, ReqRelaxed: true}, 2, 6, model.ErrAgain},
		{"strict REQ hwm 1: EFSM first", model.REQ, model.Options{SndHWM: 1}, 1, 1, model.ErrFSM},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := newDriver(t, nil)
			if tc.typ == model.DEALER {
				d.newDEALER("c", tc.opts)
			} else {
				d.newREQ("c", tc.opts)
			}
			for i := range tc.pipes {
				d.connect("c", "tcp://dead:"+string(rune('1'+i)))
			}
			// Three frames per message: the mark counts messages.
			body := msg("f1", "f2", "f3")
			if tc.typ == model.DEALER {
				body = msg("", "f1", "f2")
			}
			for i := range tc.nOK {
				if err := d.w.Send("c", body); err != nil {
					t.Fatalf("send %d: %v", i+1, err)
				}
			}
			wantErr(t, "send over the mark", d.w.Send("c", body), tc.wantErr)
			total := 0
			for _, p := range d.state("c").Pipes {
				if errors.Is(tc.wantErr, model.ErrAgain) && p.Out != tc.opts.SndHWM && tc.opts.SndHWM > 0 {
					t.Fatalf("a pipe holds %d, want %d", p.Out, tc.opts.SndHWM)
				}
				total += p.Out
			}
			if total != tc.nOK {
				t.Fatalf("pipes hold %d messages, want %d", total, tc.nOK)
			}
		})
	}
}

// TestF24_AppQueue: F24, the Node.js binding's own queue in front of the REQ
// socket: send() appends, the head goes to the socket whenever it can send;
// that queue grows without bound while no reply comes, and the socket holds
// one request at a time (F1) (the scenario 000_db34673ac59b73a5.txt).
func TestF24_AppQueue(t *testing.T) {
	cases := []struct {
		name      string
		enqueue   int
		replies   int  // replies the server sends
		connected bool // the REQ has a peer at all
		wantSent  int
	}{
		{"no peer: nothing leaves", 5, 0, false, 0},
		{"no reply: one request leaves", 5, 0, true, 1},
		{"no reply, ten thousand queued", 10000, 0, true, 1},
		{"every reply lets the next one go", 5, 3, true, 4},
		{"all answered", 3, 3, true, 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := newDriver(t, nil)
			d.newREP("s", model.Options{})
			d.bind("s", epS)
			d.newREQ("c", model.Options{})
			if tc.connected {
				d.connect("c", epS)
			}
			var q model.AppQueue
			var all []model.Message
			for i := range tc.enqueue {
				m := msg("m", string(rune('0'+i%10)))
				all = append(all, m)
				if !q.Enqueue(m) {
					t.Fatalf("message %d not kept", i)
				}
			}
			var sent []model.Message
			sent = append(sent, q.Flush(d.w, "c")...)
			d.settle()
			for range tc.replies {
				if len(sent) == 0 {
					break
				}
				d.serve("s")
				d.recv("c")
				sent = append(sent, q.Flush(d.w, "c")...)
				d.settle()
			}
			if len(sent) != tc.wantSent {
				t.Fatalf("socket took %d messages, want %d", len(sent), tc.wantSent)
			}
			for i, m := range sent {
				wantMsg(t, "sent in order", m, all[i])
			}
			if q.Len() != tc.enqueue-tc.wantSent {
				t.Fatalf("queue holds %d, want %d", q.Len(), tc.enqueue-tc.wantSent)
			}
			if items := q.Items(); len(items) > 0 {
				wantMsg(t, "queue head", items[0], all[tc.wantSent])
			}
			// The socket side holds at most one request: in REQ's pipes,
			// in REP's pipes or held by REP's application.
			st := d.state("c")
			inSocket := 0
			for _, name := range []string{"c", "s"} {
				for _, p := range d.state(name).Pipes {
					inSocket += p.Out + p.In
				}
			}
			if d.state("s").OwesReply {
				inSocket++
			}
			if inSocket > 1 {
				t.Fatalf("socket side holds %d requests, want at most 1", inSocket)
			}
			if outstanding := tc.wantSent - tc.replies; outstanding > 0 {
				if !st.AwaitingReply || !slices.Equal(st.Request, all[tc.wantSent-1]) {
					t.Fatalf("REQ outstanding request %q (awaiting %v), want %q", st.Request, st.AwaitingReply, all[tc.wantSent-1])
				}
			}
		})
	}
}
