package model_test

// Framing: malformed replies (F6) and REQ_CORRELATE's request ids (F7).
// These table tests keep what the scripts f06_* and f07_req_correlate in
// spec/testdata do not show (several malformed shapes, no reconnect after
// a protocol error, the largest id start and the chooser's one draw); see
// facts_test.go. F4 and F5 are shown by their scripts alone.

import (
	"slices"
	"testing"

	"github.com/zeromq-lockstep/lockstep/model"
)

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
