package model_test

// Framing: REQ's delimiter (F4), REP's envelope (F5), malformed replies
// (F6) and REQ_CORRELATE's request ids (F7); see facts_test.go.

import (
	"slices"
	"testing"

	"github.com/zeromq-lockstep/lockstep/model"
)

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
