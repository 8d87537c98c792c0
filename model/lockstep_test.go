package model_test

// Lockstep and readiness: REQ takes turns (F1), what poll reports (F3)
// and REQ_RELAXED (F20). These table tests keep the cases the scripts
// f01_req_lockstep, f03_readiness*, f20_relaxed_* in spec/testdata do not
// show (a second extra receive, every readiness edge, both orders of a
// send around a reconnect); see facts_test.go.

import (
	"slices"
	"testing"

	"github.com/zeromq-lockstep/lockstep/model"
)

// TestF1_REQStrictLockstep: F1, REQ is strictly lockstep (RFC 28, REQ: "SHALL
// send and then receive exactly one message at a time"; libzmq req.cpp,
// _receiving_reply). Each forbidden call fails at once with EFSM, the refused
// request is never transmitted, and the socket stays usable.
func TestF1_REQStrictLockstep(t *testing.T) {
	cases := []struct {
		name       string
		before     func(d *driver)
		call       func(d *driver) error
		wantServed []string // requests the server reads afterwards
	}{
		// f01_req_lockstep shows a receive before any send, a second send
		// before the request is served and while the reply is queued
		// unread, and a receive after the reply.
		{"second recv after the reply was fully received, twice",
			func(d *driver) {
				d.send("c", "r1")
				d.serve("s")
				d.recv("c")
				wantErr(d.t, "first extra recv", recvC(d), model.ErrFSM)
			}, recvC, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := reqrep(t, nil, model.Options{}, model.Options{})
			tc.before(d)
			nsent := len(d.transmitsFrom("c"))
			wantErr(t, "forbidden call", tc.call(d), model.ErrFSM)
			d.settle()
			if got := len(d.transmitsFrom("c")); got != nsent {
				t.Fatalf("refused call transmitted: %d messages, had %d", got, nsent)
			}
			if got := d.serveAll("s"); !slices.Equal(got, tc.wantServed) {
				t.Fatalf("server read %q, want %q", got, tc.wantServed)
			}
			// Still usable: finish the outstanding cycle, then one more.
			if d.state("c").AwaitingReply {
				d.recv("c")
			}
			d.send("c", "again")
			if got := d.serve("s"); got != "again" {
				t.Fatalf("server read %q, want again", got)
			}
			wantMsg(t, "reply", d.recv("c"), msg("re:again"))
		})
	}
}

// TestF3_Readiness: F3, readiness (observed on libzmq 4.3.4; req.cpp
// xhas_in/xhas_out, rep.cpp xhas_in/xhas_out).
func TestF3_Readiness(t *testing.T) {
	t.Run("one cycle", func(t *testing.T) {
		d := reqrep(t, nil, model.Options{}, model.Options{})
		steps := []struct {
			name           string
			do             func()
			cW, cR, sW, sR bool
		}{
			{"idle", func() {}, true, false, false, false},
			{"request sent and arrived", func() { d.send("c", "r1") }, false, false, false, true},
			{"REP read the request", func() { d.recv("s") }, false, false, true, false},
			{"reply sent and arrived", func() { d.send("s", "a1") }, false, true, false, false},
			{"REQ read the reply", func() { d.recv("c") }, true, false, false, false},
		}
		for _, st := range steps {
			st.do()
			got := [4]bool{d.w.Writable("c"), d.w.Readable("c"), d.w.Writable("s"), d.w.Readable("s")}
			want := [4]bool{st.cW, st.cR, st.sW, st.sR}
			if got != want {
				t.Fatalf("%s: (REQ W,R, REP W,R) = %v, want %v", st.name, got, want)
			}
		}
	})
	edge := []struct {
		name  string
		setup func(d *driver) string // returns the socket to check
		w, r  bool
	}{
		{"REQ with no pipe is not writable", func(d *driver) string {
			d.newREQ("c", model.Options{})
			return "c"
		}, false, false},
		{"REQ with a request in flight is neither", func(d *driver) string {
			d.newREP("s", model.Options{})
			d.bind("s", epS)
			d.newREQ("c", model.Options{})
			d.connect("c", epS)
			d.ok(d.w.Send("c", msg("r1"))) // not delivered
			return "c"
		}, false, false},
		{"idle REQ with a stray reply queued is writable, not readable", func(d *driver) string {
			d.newDEALER("s", model.Options{})
			d.bind("s", epS)
			d.newREQ("c", model.Options{})
			d.connect("c", epS)
			d.send("c", "r1")
			d.recv("s")
			d.send("s", "", "a1")
			d.send("s", "", "extra")
			d.recv("c")
			return "c"
		}, true, false},
		{"relaxed REQ stays writable after a send", func(d *driver) string {
			d.newREP("s", model.Options{})
			d.bind("s", epS)
			d.newREQ("c", model.Options{ReqRelaxed: true})
			d.connect("c", epS)
			d.send("c", "r1")
			return "c"
		}, true, false},
		{"REP holding a request with another queued is writable, not readable", func(d *driver) string {
			d.newREP("s", model.Options{})
			d.bind("s", epS)
			for _, c := range []string{"c1", "c2"} {
				d.newREQ(c, model.Options{})
				d.connect(c, epS)
				d.send(c, "r-"+c)
			}
			d.recv("s")
			return "s"
		}, true, false},
	}
	for _, tc := range edge {
		t.Run(tc.name, func(t *testing.T) {
			d := newDriver(t, nil)
			s := tc.setup(d)
			if w, r := d.w.Writable(s), d.w.Readable(s); w != tc.w || r != tc.r {
				t.Fatalf("%s: writable=%v readable=%v, want %v %v", s, w, r, tc.w, tc.r)
			}
		})
	}
}

// TestF20_RelaxedCorrelate: F20, with REQ_RELAXED plus REQ_CORRELATE the next
// send is allowed after a lost request, goes to the reconnected peer and its
// reply arrives; REQ_RELAXED alone takes a late reply to an earlier request
// as the answer to the current one (observed on libzmq 4.3.4; req.cpp).
func TestF20_RelaxedCorrelate(t *testing.T) {
	for _, before := range []bool{false, true} {
		name := "send after reconnect"
		if before {
			name = "send before reconnect"
		}
		t.Run("lost request: "+name, func(t *testing.T) {
			d := reqrep(t, nil, model.Options{ReqRelaxed: true, ReqCorrelate: true}, model.Options{})
			d.send("c", "r1")
			d.recv("s")
			d.ok(d.w.Crash("s"))
			d.settle()
			if before {
				d.send("c", "r2")
			}
			d.newREP("s", model.Options{})
			d.bind("s", epS)
			d.fireAll()
			if !before {
				d.send("c", "r2")
			}
			if got := d.serve("s"); got != "r2" {
				t.Fatalf("new REP read %q, want r2", got)
			}
			wantMsg(t, "reply", d.recv("c"), msg("re:r2"))
		})
	}
	cases := []struct {
		name      string
		correlate bool
		want      string
		wantDrop  string
	}{
		{"relaxed alone takes the late reply", false, "late-r1", ""},
		{"relaxed+correlate drops the late reply", true, "ans-r2", "late-r1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := newDriver(t, nil)
			d.newDEALER("srv", model.Options{})
			d.bind("srv", epS)
			d.newREQ("c", model.Options{ReqRelaxed: true, ReqCorrelate: tc.correlate})
			d.connect("c", epS)
			d.send("c", "r1")
			env1 := d.recv("srv")
			d.send("c", "r2") // allowed: relaxed
			env2 := d.recv("srv")
			d.send("srv", append(env1[:len(env1)-1:len(env1)-1], "late-r1")...)
			d.send("srv", append(env2[:len(env2)-1:len(env2)-1], "ans-r2")...)
			wantMsg(t, "reply", d.recv("c"), msg(tc.want))
			if tc.wantDrop != "" {
				d.wantDrop(tc.wantDrop, "reply with another request id")
			}
		})
	}
}
