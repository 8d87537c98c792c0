package model_test

// Which pipe: REQ's round-robin (F8), replies only from the request's
// pipe (F9, F10), REP's fair queue (F14) and reply routing (F15). These
// table tests keep the cases the scripts f08_* to f15_* in spec/testdata
// do not show (more orders and pipes, every fair-queue answer and the
// questions REP asks); see facts_test.go.

import (
	"slices"
	"testing"

	"github.com/zeromq-lockstep/lockstep/model"
)

// TestF8_RoundRobin: F8, REQ sends round-robin over its pipes in attach
// order, which with IMMEDIATE=0 is the connect order; the rotation advances
// once per whole message and skips full or closed pipes (RFC 28, REQ;
// libzmq test_reqrep_tcp test_multi_connect).
func TestF8_RoundRobin(t *testing.T) {
	eps := map[string]string{"A": epA, "B": epB, "C": epC}
	cases := []struct {
		name       string
		connect    []string // REP names in connect order
		disconnect string   // disconnected after the first request, if set
		want       []string // the REP that serves each request
	}{
		{"A then B", []string{"A", "B"}, "", []string{"A", "B", "A", "B"}},
		{"B then A", []string{"B", "A"}, "", []string{"B", "A", "B", "A"}},
		{"three", []string{"A", "B", "C"}, "", []string{"A", "B", "C", "A", "B", "C"}},
		{"closed pipe skipped", []string{"A", "B", "C"}, "B", []string{"A", "C", "A", "C"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := newDriver(t, nil)
			for _, r := range []string{"A", "B", "C"} {
				d.newREP(r, model.Options{})
				d.bind(r, eps[r])
			}
			d.newREQ("c", model.Options{})
			for _, r := range tc.connect {
				d.connect("c", eps[r])
			}
			var got []string
			for k := range tc.want {
				// Multi-frame requests: the rotation moves per message.
				d.send("c", "r", string(rune('0'+k)))
				who, _ := d.whoServes("A", "B", "C")
				got = append(got, who)
				d.recv("c")
				if k == 0 && tc.disconnect != "" {
					d.ok(d.w.Disconnect("c", eps[tc.disconnect]))
					d.settle()
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("served by %v, want %v", got, tc.want)
			}
		})
	}
	t.Run("closed pipe still holding unread messages skipped", func(t *testing.T) {
		// REQ binds; A's pipe is destroyed when A leaves but stays attached
		// until the stray it delivered is read.
		d := newDriver(t, nil)
		d.newREQ("c", model.Options{})
		d.bind("c", epS)
		for _, p := range []string{"A", "B"} {
			d.newDEALER(p, model.Options{})
			d.connect(p, epS)
		}
		d.send("A", "", "stray")
		d.ok(d.w.Close("A"))
		d.settle()
		if st := d.state("c"); len(st.Pipes) != 2 || !st.Pipes[0].Destroyed {
			t.Fatalf("setup: pipes %+v", st.Pipes)
		}
		d.send("c", "r1")
		wantMsg(t, "B got", d.recv("B"), msg("", "r1"))
	})
	t.Run("full pipe skipped", func(t *testing.T) {
		// Relaxed, so that several requests can be outstanding; SNDHWM 1 on
		// a pipe to an endpoint that never comes up fills it at once.
		d := newDriver(t, nil)
		d.newDEALER("live", model.Options{})
		d.bind("live", epB)
		d.newREQ("c", model.Options{ReqRelaxed: true, SndHWM: 1})
		d.connect("c", epX)
		d.connect("c", epB)
		for _, r := range []string{"r1", "r2", "r3", "r4"} {
			d.send("c", r)
		}
		got := d.drain("live")
		if want := []string{"|r2", "|r3", "|r4"}; !slices.Equal(got, want) {
			t.Fatalf("live peer got %q, want %q", got, want)
		}
		if st := d.state("c"); st.Pipes[0].Out != 1 {
			t.Fatalf("dead pipe holds %d, want 1", st.Pipes[0].Out)
		}
	})
}

// TestF9_ReplyPipe: F9, REQ accepts a reply only from the pipe it sent the
// request on, and throws away replies already queued when it sends a new
// request (RFC 28, REQ; libzmq PR 608).
func TestF9_ReplyPipe(t *testing.T) {
	t.Run("reply from another pipe is discarded", func(t *testing.T) {
		d := newDriver(t, nil)
		for _, p := range []struct{ n, ep string }{{"d1", epA}, {"d2", epB}} {
			d.newDEALER(p.n, model.Options{})
			d.bind(p.n, p.ep)
		}
		d.newREQ("c", model.Options{})
		d.connect("c", epA)
		d.connect("c", epB)
		d.send("c", "r1")
		wantMsg(t, "d1 got", d.recv("d1"), msg("", "r1"))
		d.send("d2", "", "stray")
		_, err := d.w.Recv("c")
		wantErr(t, "recv with only a stray queued", err, model.ErrAgain)
		d.wantDrop("stray", "reply from another pipe")
		d.send("d1", "", "real")
		wantMsg(t, "reply", d.recv("c"), msg("real"))
	})
	cases := []struct {
		name    string
		extra   []string // further replies the server sends to request 1
		want2   string
		dropped []string
	}{
		{"no extra reply", nil, "ans2", nil},
		{"one extra reply", []string{"extra"}, "ans2", []string{"extra"}},
		{"two extra replies", []string{"x1", "x2"}, "ans2", []string{"x1", "x2"}},
	}
	for _, tc := range cases {
		t.Run("stale replies discarded at send: "+tc.name, func(t *testing.T) {
			d := newDriver(t, nil)
			d.newDEALER("srv", model.Options{})
			d.bind("srv", epS)
			d.newREQ("c", model.Options{})
			d.connect("c", epS)
			d.send("c", "r1")
			d.recv("srv")
			d.send("srv", "", "ans1")
			for _, x := range tc.extra {
				d.send("srv", "", x)
			}
			wantMsg(t, "reply 1", d.recv("c"), msg("ans1"))
			d.send("c", "r2")
			for _, x := range tc.dropped {
				d.wantDrop(x, "stale reply discarded by new request")
			}
			wantMsg(t, "server got", d.recv("srv"), msg("", "r2"))
			_, err := d.w.Recv("c")
			wantErr(t, "recv before the answer to r2", err, model.ErrAgain)
			d.send("srv", "", "ans2")
			wantMsg(t, "reply 2", d.recv("c"), msg(tc.want2))
		})
	}
}

// TestF10_ForgottenReplyPipe: F10, once the pipe holding the outstanding
// request is destroyed (REQ binds, or IMMEDIATE=1), libzmq forgets the reply
// pipe and takes the next well-formed reply from any peer; a race, so both
// outcomes of ChoiceForgetReplyPipe are shown. With IMMEDIATE=0 on a
// connecting REQ the pipe survives and strays are discarded (observed on
// libzmq 4.3.4; req.cpp xpipe_terminated).
func TestF10_ForgottenReplyPipe(t *testing.T) {
	cases := []struct {
		name       string
		reqBinds   bool
		immediate  bool
		forget     int // ChoiceForgetReplyPipe answer
		wantAsked  bool
		wantStray  bool // the stray is accepted as the reply
		wantReason string
	}{
		{"REQ binds, forgets", true, false, 0, true, true, ""},
		{"REQ binds, keeps waiting", true, false, 1, true, false, "reply from another pipe"},
		{"IMMEDIATE=1, forgets", false, true, 0, true, true, ""},
		{"IMMEDIATE=1, keeps waiting", false, true, 1, true, false, "reply from another pipe"},
		{"IMMEDIATE=0 connecting: pipe survives", false, false, 0, false, false, "reply from another pipe"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ch := &scripted{pick: map[model.Choice]func(int) int{
				model.ChoiceForgetReplyPipe: func(int) int { return tc.forget },
			}}
			d := newDriver(t, ch)
			d.newREQ("c", model.Options{Immediate: tc.immediate})
			d.newDEALER("d1", model.Options{})
			d.newDEALER("d2", model.Options{})
			if tc.reqBinds {
				d.bind("c", epS)
				d.connect("d1", epS)
				d.connect("d2", epS)
			} else {
				d.bind("d1", epA)
				d.bind("d2", epB)
				d.connect("c", epA)
				d.connect("c", epB)
			}
			d.send("c", "r1")
			wantMsg(t, "d1 got", d.recv("d1"), msg("", "r1"))
			d.ok(d.w.Close("d1"))
			d.settle()
			if asked := len(ch.asked(model.ChoiceForgetReplyPipe)) > 0; asked != tc.wantAsked {
				t.Fatalf("chooser asked about F10: %v, want %v", asked, tc.wantAsked)
			}
			d.send("d2", "", "stray")
			m, err := d.w.Recv("c")
			if tc.wantStray {
				d.ok(err)
				wantMsg(t, "accepted", m, msg("stray"))
				if d.state("c").AwaitingReply {
					t.Fatal("still awaiting after the stray was accepted")
				}
				return
			}
			wantErr(t, "recv", err, model.ErrAgain)
			d.wantDrop("stray", tc.wantReason)
			if !d.state("c").AwaitingReply {
				t.Fatal("REQ stopped awaiting its reply")
			}
		})
	}
}

// TestF14_FairQueue: F14, REP fair-queues one whole request per client in
// rotation; which ready client is next is the Chooser's (choice 0 is strict
// rotation), so last-to-first service is possible (RFC 28, REP; observed on
// libzmq 4.3.4).
func TestF14_FairQueue(t *testing.T) {
	last := func(n int) int { return n - 1 }
	middle := func(n int) int { return n / 2 }
	cases := []struct {
		name      string
		pick      func(n int) int
		perClient int
		want      []string
		wantAsked []int // n of each fair-queue question REP asked
	}{
		{"choice 0 is strict rotation", nil, 1, []string{"c1", "c2", "c3"}, []int{3, 2}},
		{"last-to-first", last, 1, []string{"c3", "c2", "c1"}, []int{3, 2}},
		{"middle", middle, 1, []string{"c2", "c1", "c3"}, []int{3, 2}},
		{"rotation, two requests each", nil, 2,
			[]string{"c1", "c2", "c3", "c1", "c2", "c3"}, []int{3, 3, 3, 3, 2}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ch := &scripted{pick: map[model.Choice]func(int) int{model.ChoiceFairQueue: tc.pick}}
			if tc.pick == nil {
				ch.pick = nil
			}
			d := newDriver(t, ch)
			d.newREP("s", model.Options{})
			d.bind("s", epS)
			clients := []string{"c1", "c2", "c3"}
			for _, c := range clients {
				d.newDEALER(c, model.Options{})
				d.connect(c, epS)
			}
			for k := 0; k < tc.perClient; k++ {
				for _, c := range clients {
					d.send(c, "", c, "whole") // a two-frame body
				}
			}
			ch.calls = nil
			var got []string
			for range tc.want {
				m := d.recv("s")
				if len(m) != 2 || m[1] != "whole" {
					t.Fatalf("REP read %q, not a whole request", m)
				}
				got = append(got, m[0])
				d.send("s", "ok")
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("served %v, want %v", got, tc.want)
			}
			if asked := ch.asked(model.ChoiceFairQueue); !slices.Equal(asked, tc.wantAsked) {
				t.Fatalf("fair-queue questions %v, want %v", asked, tc.wantAsked)
			}
		})
	}
}

// TestF15_ReplyRouting: F15, each reply goes back to the pipe its request
// came from (RFC 28, REP).
func TestF15_ReplyRouting(t *testing.T) {
	cases := []struct {
		name    string
		clients int
		pick    func(n int) int
	}{
		{"one client", 1, nil},
		{"three clients, rotation", 3, nil},
		{"four clients, last-to-first", 4, func(n int) int { return n - 1 }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ch := &scripted{}
			if tc.pick != nil {
				ch.pick = map[model.Choice]func(int) int{model.ChoiceFairQueue: tc.pick}
			}
			d := newDriver(t, ch)
			d.newREP("s", model.Options{})
			d.bind("s", epS)
			var names []string
			for i := range tc.clients {
				c := "c" + string(rune('1'+i))
				names = append(names, c)
				d.newREQ(c, model.Options{})
				d.connect(c, epS)
				d.send(c, "from-"+c)
			}
			if got := d.serveAll("s"); len(got) != tc.clients {
				t.Fatalf("served %v", got)
			}
			for _, c := range names {
				wantMsg(t, c, d.recv(c), msg("re:from-"+c))
			}
		})
	}
}
