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
		// f08_round_robin shows A then B, f08_round_robin_skips a pipe
		// closed before the first request and a full one.
		{"B then A", []string{"B", "A"}, "", []string{"B", "A", "B", "A"}},
		{"three", []string{"A", "B", "C"}, "", []string{"A", "B", "C", "A", "B", "C"}},
		// Closed after the first request: the rotation's place is kept
		// when the pipe goes.
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
}

// TestF9_ReplyPipe: F9, REQ accepts a reply only from the pipe it sent the
// request on, and throws away replies already queued when it sends a new
// request (RFC 28, REQ; libzmq PR 608).
func TestF9_ReplyPipe(t *testing.T) {
	// f09_reply_pipe shows a reply from another pipe discarded, and one
	// extra reply discarded when the next request is sent.
	cases := []struct {
		name    string
		extra   []string // further replies the server sends to request 1
		want2   string
		dropped []string
	}{
		{"no extra reply", nil, "ans2", nil},
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
// request is destroyed (REQ binds, or IMMEDIATE=1), libzmq forgets the
// reply pipe when the pipe's termination completes: a receive, drain or
// poll reads past its end and sends the term ack, and the REQ takes the
// ack back with its commands at its next call (req.cpp xpipe_terminated,
// pipe.cpp). A stray read in the same receive as the dead pipe's end is
// discarded; after a poll that read past it, the next receive takes its
// commands (the stray woke its pipe) and accepts the stray. With
// IMMEDIATE=0 on a connecting REQ the pipe survives and strays are
// discarded (probed on libzmq 4.3.4: 10 of 10 trials each way).
func TestF10_ForgottenReplyPipe(t *testing.T) {
	cases := []struct {
		name       string
		reqBinds   bool
		immediate  bool
		poll       bool // the REQ polls between the close and the stray
		wantStray  bool // the stray is accepted as the reply
		wantReason string
	}{
		{"REQ binds: the end and the stray in one receive", true, false, false, false, "reply from another pipe"},
		{"REQ binds: a poll read past the end", true, false, true, true, ""},
		{"IMMEDIATE=1: the end and the stray in one receive", false, true, false, false, "reply from another pipe"},
		{"IMMEDIATE=1: a poll read past the end", false, true, true, true, ""},
		{"IMMEDIATE=0 connecting: pipe survives", false, false, true, false, "reply from another pipe"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := newDriver(t, nil)
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
			if tc.poll {
				if r, _ := d.w.Poll("c"); r {
					t.Fatal("the REQ is readable with nothing to read")
				}
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
	middle := func(n int) int { return n / 2 }
	cases := []struct {
		name      string
		pick      func(n int) int
		perClient int
		want      []string
		wantAsked []int // n of each fair-queue question REP asked
	}{
		// f14_fair_queue shows choice 0 (strict rotation) and last-to-first
		// with one request per client, and the questions REP asks.
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
		// f15_reply_routing shows three clients in rotation.
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

// byPeer is a PeerChooser that reads from the named peer and records the
// candidates it was offered.
type byPeer struct {
	want    []string
	offered [][]string
}

func (b *byPeer) Choose(model.Choice, int) int { return 0 }

func (b *byPeer) ChoosePeer(_ model.Choice, peers []string) int {
	b.offered = append(b.offered, slices.Clone(peers))
	w := b.want[0]
	b.want = b.want[1:]
	return max(0, slices.Index(peers, w))
}

// TestF14_ChoiceByPeer: a PeerChooser is offered the ready pipes by peer,
// libzmq's pick first (here c1: no pipe has been found empty, so the
// rotation is attach order, F14), and REP reads where it says.
func TestF14_ChoiceByPeer(t *testing.T) {
	ch := &byPeer{want: []string{"c3", "c1"}}
	d := newDriver(t, ch)
	d.newREP("s", model.Options{})
	d.bind("s", epS)
	for _, c := range []string{"c1", "c2", "c3"} {
		d.newDEALER(c, model.Options{})
		d.connect(c, epS)
		d.send(c, "", c)
	}
	var got []string
	for range 3 {
		got = append(got, d.recv("s")[0])
		d.send("s", "ok")
	}
	if !slices.Equal(got, []string{"c3", "c1", "c2"}) {
		t.Fatalf("served %v, want c3, c1, c2", got)
	}
	want := [][]string{{"c1", "c2", "c3"}, {"c1", "c2"}}
	if len(ch.offered) != 2 || !slices.Equal(ch.offered[0], want[0]) || !slices.Equal(ch.offered[1], want[1]) {
		t.Fatalf("offered %v, want %v", ch.offered, want)
	}
}
