package model_test

// One test per fact F1..F24 of docs/reqrep-facts.md, on the model
// alone, driven by the synchronous test driver of driver_test.go.

import (
	"encoding/binary"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zeromq-lockstep/lockstep/model"
)

const (
	epS = "tcp://server:5454"
	epA = "tcp://a:1"
	epB = "tcp://b:1"
	epC = "tcp://c:1"
	epX = "tcp://dead:1" // never bound
)

// reqrep returns a driver with REP "s" bound at epS and REQ "c" connected to it.
func reqrep(t *testing.T, ch model.Chooser, copts, sopts model.Options) *driver {
	t.Helper()
	d := newDriver(t, ch)
	d.newREP("s", sopts)
	d.bind("s", epS)
	d.newREQ("c", copts)
	d.connect("c", epS)
	return d
}

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
		{"recv before any send", func(*driver) {}, recvC, nil},
		{"second send before the request is served",
			func(d *driver) { d.send("c", "r1") }, sendC("r2"), []string{"r1"}},
		{"second send while the reply is queued unread",
			func(d *driver) { d.send("c", "r1"); d.serve("s") }, sendC("r2"), nil},
		{"recv after the reply was fully received",
			func(d *driver) { d.send("c", "r1"); d.serve("s"); d.recv("c") }, recvC, nil},
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

func recvC(d *driver) error { _, err := d.w.Recv("c"); return err }
func sendC(body string) func(*driver) error {
	return func(d *driver) error { return d.w.Send("c", msg(body)) }
}

// TestF2_REPStrictLockstep: F2, REP is strictly lockstep (RFC 28, REP;
// libzmq rep.cpp): send before any receive, receive while a reply is owed and
// a second send fail with EFSM, and change nothing.
func TestF2_REPStrictLockstep(t *testing.T) {
	cases := []struct {
		name   string
		before func(d *driver)
		call   func(d *driver) error
		// wantReplies: replies each client has received when the case ends
		wantC, wantC2 []string
	}{
		{"send before any receive, nothing queued",
			func(*driver) {}, sendS("x"), nil, nil},
		{"send before any receive, a request queued",
			func(d *driver) { d.send("c", "r1") }, sendS("x"), []string{"re:r1"}, nil},
		{"receive while a reply is owed, another request queued",
			func(d *driver) { d.send("c", "r1"); d.send("c2", "q1"); d.recv("s") },
			recvS, []string{"re:r1"}, []string{"re:q1"}},
		{"second send",
			func(d *driver) { d.send("c", "r1"); d.recv("s"); d.send("s", "re:r1") },
			sendS("again"), []string{"re:r1"}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := reqrep(t, nil, model.Options{}, model.Options{})
			d.newREQ("c2", model.Options{})
			d.connect("c2", epS)
			tc.before(d)
			owed := d.state("s").OwesReply
			wantErr(t, "forbidden call", tc.call(d), model.ErrFSM)
			d.settle()
			if got := d.state("s").OwesReply; got != owed {
				t.Fatalf("refused call changed OwesReply to %v", got)
			}
			if owed {
				// The reply owed goes to the request that was read.
				d.send("s", "re:"+d.state("s").Held.Text())
			}
			d.serveAll("s")
			for _, c := range []struct {
				name string
				want []string
			}{{"c", tc.wantC}, {"c2", tc.wantC2}} {
				var got []string
				if d.state(c.name).AwaitingReply {
					got = append(got, d.recv(c.name).Text())
				}
				if !slices.Equal(got, c.want) {
					t.Fatalf("%s got replies %q, want %q", c.name, got, c.want)
				}
			}
		})
	}
}

func recvS(d *driver) error { _, err := d.w.Recv("s"); return err }
func sendS(body string) func(*driver) error {
	return func(d *driver) error { return d.w.Send("s", msg(body)) }
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

// TestF4_REQDelimiter: F4, REQ prefixes every request with an empty delimiter
// frame (RFC 28, REQ; libzmq test_req_message_format). A raw peer sees
// ["", body...].
func TestF4_REQDelimiter(t *testing.T) {
	cases := []struct {
		name     string
		body     model.Message
		reqBinds bool
	}{
		{"one frame", msg("hello"), false},
		{"several frames", msg("a", "b", "c"), false},
		{"empty body frame", msg(""), false},
		{"REQ is the binding side", msg("hello"), true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := newDriver(t, nil)
			d.newDEALER("peer", model.Options{})
			d.newREQ("c", model.Options{})
			if tc.reqBinds {
				d.bind("c", epS)
				d.connect("peer", epS)
			} else {
				d.bind("peer", epS)
				d.connect("c", epS)
			}
			d.send("c", tc.body...)
			want := append(msg(""), tc.body...)
			wire := d.transmitsFrom("c")
			if len(wire) != 1 {
				t.Fatalf("REQ transmitted %d messages, want 1", len(wire))
			}
			wantMsg(t, "on the wire", wire[0], want)
			wantMsg(t, "peer received", d.recv("peer"), want)
		})
	}
}

// TestF5_REPEnvelope: F5, REP strips everything up to and including the
// first empty frame, hands the rest to the application and puts the envelope
// back in front of the reply; a request without a delimiter is dropped
// silently and the next one is served (RFC 28, REP; libzmq test_spec_rep
// test_envelope; rep.cpp xrecv).
func TestF5_REPEnvelope(t *testing.T) {
	cases := []struct {
		name      string
		requests  []model.Message // sent by a raw DEALER client, in order
		wantApp   model.Message   // what REP's application reads
		wantReply model.Message   // what the client gets for reply "ans"
		wantDrop  string          // a request dropped as malformed, if any
	}{
		{"bare delimiter", []model.Message{msg("", "q")}, msg("q"), msg("", "ans"), ""},
		{"routing envelope", []model.Message{msg("id1", "id2", "", "q1", "q2")},
			msg("q1", "q2"), msg("id1", "id2", "", "ans"), ""},
		{"only the first empty frame delimits", []model.Message{msg("id", "", "", "x")},
			msg("", "x"), msg("id", "", "ans"), ""},
		{"no delimiter: dropped, next served", []model.Message{msg("junk", "more"), msg("", "next")},
			msg("next"), msg("", "ans"), "junk|more"},
		{"delimiter as last frame is no delimiter", []model.Message{msg("x", ""), msg("", "next")},
			msg("next"), msg("", "ans"), "x|"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := newDriver(t, nil)
			d.newREP("s", model.Options{})
			d.bind("s", epS)
			d.newDEALER("client", model.Options{})
			d.connect("client", epS)
			for _, r := range tc.requests {
				d.send("client", r...)
			}
			wantMsg(t, "application read", d.recv("s"), tc.wantApp)
			d.send("s", "ans")
			wantMsg(t, "client got", d.recv("client"), tc.wantReply)
			if tc.wantDrop != "" {
				d.wantDrop(tc.wantDrop, "request without delimiter")
			} else if n := len(d.drops()); n != 0 {
				t.Fatalf("unexpected drops %+v", d.drops())
			}
			_, err := d.w.Recv("s")
			wantErr(t, "nothing else to read", err, model.ErrAgain)
		})
	}
}

// TestF6_MalformedReply: F6, a reply whose first frame is not a delimiter is a
// protocol error: the connection is dropped and not re-established; well-formed
// replies that do not belong to the current request are skipped silently
// (observed on libzmq 4.3.4; req.cpp req_session_t::push_msg).
func TestF6_MalformedReply(t *testing.T) {
	setup := func(t *testing.T, o model.Options) *driver {
		d := newDriver(t, nil)
		d.newDEALER("srv", model.Options{})
		d.bind("srv", epS)
		d.newREQ("c", o)
		d.connect("c", epS)
		d.send("c", "r1")
		d.recv("srv")
		return d
	}
	malformed := []model.Message{msg("oops"), msg("x", "", "y"), msg("abcd", "x", "y")}
	for _, bad := range malformed {
		t.Run("protocol error "+bad.Text(), func(t *testing.T) {
			d := setup(t, model.Options{})
			d.send("srv", bad...)
			d.wantDrop(bad.Text(), "malformed reply")
			if cs := d.w.ConnectionsOf("c"); len(cs) != 0 {
				t.Fatalf("connection survived: %v", cs)
			}
			if ts := d.timersOf("c"); len(ts) != 0 {
				t.Fatalf("reconnect scheduled: %+v", ts)
			}
			dials := len(d.dialed)
			d.fireAll()
			if len(d.dialed) != dials || len(d.w.ConnectionsOf("c")) != 0 {
				t.Fatal("connection re-established after a protocol error")
			}
			_, err := d.w.Recv("c")
			wantErr(t, "recv after protocol error", err, model.ErrAgain)
		})
	}
	skipped := []struct {
		name       string
		opts       model.Options
		replies    func(id string) []model.Message
		wantDrop   string // the dropped stray as the trace shows it
		wantReason string
	}{
		{"request id without correlate", model.Options{},
			func(string) []model.Message { return []model.Message{msg("abcd", "", "stray"), msg("", "good")} },
			"abcd||stray", "reply without delimiter"},
		{"another request id under correlate", model.Options{ReqCorrelate: true},
			func(id string) []model.Message {
				return []model.Message{msg("zzzz", "", "stray"), msg(id, "", "good")}
			}, "stray", "reply with another request id"},
	}
	for _, tc := range skipped {
		t.Run("skipped "+tc.name, func(t *testing.T) {
			d := setup(t, tc.opts)
			id := ""
			if tc.opts.ReqCorrelate {
				id = d.transmitsFrom("c")[0][0]
			}
			for _, r := range tc.replies(id) {
				d.send("srv", r...)
			}
			wantMsg(t, "reply", d.recv("c"), msg("good"))
			d.wantDrop(tc.wantDrop, tc.wantReason)
			if len(d.w.ConnectionsOf("c")) != 1 {
				t.Fatal("a well-formed stray reply ended the connection")
			}
		})
	}
}

func le32(v uint32) string {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], v)
	return string(b[:])
}

// TestF7_ReqCorrelate: F7, REQ_CORRELATE puts a 4-byte request id (native
// byte order, +1 per request, random start) before the delimiter, REQ
// discards replies with another id, and it does not relax lockstep (libzmq
// test_req_correlate).
func TestF7_ReqCorrelate(t *testing.T) {
	cases := []struct {
		name  string
		start int    // the chooser's draw for ChoiceRequestID
		first uint32 // the first id on the wire
	}{
		{"start 0", 0, 1},
		{"start 41", 41, 42},
		{"largest start", 1<<31 - 1, 1 << 31},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ch := &scripted{pick: map[model.Choice]func(int) int{
				model.ChoiceRequestID: func(int) int { return tc.start },
			}}
			d := newDriver(t, ch)
			d.newDEALER("srv", model.Options{})
			d.bind("srv", epS)
			d.newREQ("c", model.Options{ReqCorrelate: true})
			d.connect("c", epS)
			for k := uint32(0); k < 3; k++ {
				id := le32(tc.first + k)
				body := "r" + string(rune('1'+k))
				d.send("c", body)
				wantMsg(t, "server got", d.recv("srv"), msg(id, "", body))
				wantErr(t, "second send", d.w.Send("c", msg("x")), model.ErrFSM)
				d.send("srv", le32(tc.first+k-1), "", "old")
				d.send("srv", le32(tc.first+k+1), "", "future")
				d.send("srv", id, "", "ans-"+body)
				wantMsg(t, "reply", d.recv("c"), msg("ans-"+body))
			}
			if got := ch.asked(model.ChoiceRequestID); !slices.Equal(got, []int{1 << 31}) {
				t.Fatalf("request id drawn %v times, want once over 1<<31", got)
			}
			var n int
			for _, o := range d.drops() {
				if o.Reason == "reply with another request id" {
					n++
				}
			}
			if n != 6 {
				t.Fatalf("%d replies with another id dropped, want 6: %+v", n, d.drops())
			}
		})
	}
}

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

// TestF11_NoPipeBlocks: F11, with no pipe at all a REQ send blocks: EAGAIN
// with DONTWAIT (RFC 28, REQ: "SHALL block on sending, or return a suitable
// error"; libzmq test_block_on_send_no_peers).
func TestF11_NoPipeBlocks(t *testing.T) {
	cases := []struct {
		name  string
		setup func(d *driver)
		heal  func(d *driver) // gives the REQ a peer afterwards
	}{
		{"neither bound nor connected", func(d *driver) {},
			func(d *driver) { d.connect("c", epS) }},
		{"bound, no peer", func(d *driver) { d.bind("c", epA) },
			func(d *driver) {
				d.ok(d.w.Close("s"))
				d.newREP("s", model.Options{})
				d.connect("s", epA)
			}},
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
		{"dead endpoint first", []string{epX, epS}},
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

// TestF17_REPNeverBlocks: F17, REP never blocks on send: when the pipe back
// to the client is full, the reply is dropped and the send succeeds (RFC 28,
// REP: "SHALL not block on sending").
func TestF17_REPNeverBlocks(t *testing.T) {
	for _, hwm := range []int{1, 2, 3} {
		t.Run("hwm "+string(rune('0'+hwm)), func(t *testing.T) {
			// hwm replies fill the client's receive side, hwm more wait in
			// REP's pipe, the next is dropped.
			d := newDriver(t, nil)
			d.newREP("s", model.Options{SndHWM: hwm})
			d.bind("s", epS)
			d.newDEALER("client", model.Options{RcvHWM: hwm})
			d.connect("client", epS)
			n := 2*hwm + 1
			for i := range n {
				d.send("client", "", "q"+string(rune('a'+i)))
			}
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
			if len(d.drops()) != 1 {
				t.Fatalf("drops %+v, want only %s", d.drops(), last)
			}
			for i := range n - 1 {
				wantMsg(t, "client got", d.recv("client"), msg("", "a"+string(rune('a'+i))))
			}
			_, err := d.w.Recv("client")
			wantErr(t, "dropped reply", err, model.ErrAgain)
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

// TestF22_ConnectionDrop: F22, when a connection drops, messages already taken
// from the pipe are lost, messages still in the pipe survive only if the pipe
// does, and a destroyed pipe discards its contents (libzmq session_base.cpp,
// pipe.cpp).
func TestF22_ConnectionDrop(t *testing.T) {
	cases := []struct {
		name      string
		immediate bool
		end       func(d *driver)
		reason    string // drop reason of the messages still in the pipe
		wantLater []string
	}{
		{"cut, IMMEDIATE=0: queued survive", false,
			func(d *driver) { d.w.Cut("client", "s") }, "", []string{"m2", "m3"}},
		{"cut, IMMEDIATE=1: queued destroyed", true,
			func(d *driver) { d.w.Cut("client", "s") }, "pipe destroyed: link cut", nil},
		{"server crash, IMMEDIATE=0: queued survive", false,
			func(d *driver) {
				d.ok(d.w.Crash("s"))
				d.newREP("s", model.Options{RcvHWM: 1})
				d.ok(d.w.Bind("s", epS))
			}, "", []string{"m2", "m3"}},
		{"disconnect: pipe destroyed", false,
			func(d *driver) { d.ok(d.w.Disconnect("client", epS)); d.ok(d.w.Connect("client", epS)) },
			"pipe destroyed: disconnect", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := newDriver(t, nil)
			// RCVHWM 1: the engine takes one message; the rest wait in the pipe.
			d.newREP("s", model.Options{RcvHWM: 1})
			d.bind("s", epS)
			d.newDEALER("client", model.Options{Immediate: tc.immediate})
			d.connect("client", epS)
			for _, b := range []string{"m1", "m2", "m3"} {
				d.ok(d.w.Send("client", msg("", b)))
			}
			d.collect() // m1 on the wire, not arrived
			if len(d.inflight) != 1 || d.state("client").Pipes[0].Out != 2 {
				t.Fatalf("setup: %d in flight, pipe %+v", len(d.inflight), d.state("client").Pipes)
			}
			tc.end(d)
			d.settle()
			if ds := d.drops(); len(ds) == 0 || ds[0].Msg != "m1" ||
				!strings.HasPrefix(ds[0].Reason, "in flight when connection ended: ") {
				t.Fatalf("drops %+v, want m1 lost in flight first", ds)
			}
			if tc.reason != "" {
				d.wantDrop("m2", tc.reason)
				d.wantDrop("m3", tc.reason)
			} else if len(d.drops()) != 1 {
				t.Fatalf("drops %+v, want only m1", d.drops())
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
