package trace_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/zeromq-lockstep/lockstep/app"
	"github.com/zeromq-lockstep/lockstep/model"
	"github.com/zeromq-lockstep/lockstep/sim"
	"github.com/zeromq-lockstep/lockstep/trace"
)

// textFmt is the text format as fmt states it: the reference that
// AppendText must match.
func textFmt(e trace.Event) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%11.6fs  %-10s %-10s", e.At.Seconds(), e.Actor, e.Kind)
	if e.HasMsg {
		fmt.Fprintf(&b, " msg=%s", e.Msg)
	}
	if e.HasQueue {
		fmt.Fprintf(&b, " queue=%d", e.Queue)
	}
	if e.Peer != "" {
		fmt.Fprintf(&b, " peer=%s", e.Peer)
	}
	if e.Reason != "" {
		fmt.Fprintf(&b, " reason=%q", e.Reason)
	}
	return strings.TrimRight(b.String(), " ")
}

// TestAppendTextIsText: AppendText renders every event exactly as the
// fmt layout does: the events of every scenario with a crash, hand-picked
// edge cases, and random events of arbitrary bytes.
func TestAppendTextIsText(t *testing.T) {
	check := func(e trace.Event) {
		t.Helper()
		want := textFmt(e)
		buf := []byte("previous line ") // appends; trims only its own line
		got := e.AppendText(buf)
		if string(got[:len(buf)]) != "previous line " || string(got[len(buf):]) != want {
			t.Fatalf("event %+v:\nappendText %q\nText       %q", e, got[len(buf):], want)
		}
	}
	n := 0
	for _, sc := range app.Scenarios() {
		cfg := sim.Config{Seed: 3, For: 5 * time.Second}
		if len(sc.Servers) > 0 {
			cfg.Faults = []sim.Fault{sim.Crash{Server: sc.Servers[0].Name, At: 1100 * time.Millisecond, Down: time.Second}}
		}
		res, err := sim.Run(sc, cfg)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range res.Trace {
			check(e)
			n++
		}
	}
	if n < 100 {
		t.Fatalf("only %d scenario events checked", n)
	}
	for _, e := range []trace.Event{
		{},
		{At: -time.Nanosecond, Actor: "a"},
		{At: 1234567 * time.Second, Actor: "a-very-long-actor-name", Kind: "a-very-long-event"},
		{At: 1500 * time.Microsecond, Actor: "clïent", Kind: "énqueue", HasMsg: true},
		{Actor: "\xff\xfe", Kind: model.EventSend, HasMsg: true, Msg: "trailing  "},
		{Actor: "c", Kind: model.EventSend, HasQueue: true, Queue: 0},
		{Actor: "c", Kind: model.EventSend, HasQueue: true, Queue: -3, Peer: " "},
		{Actor: "c", Kind: model.EventDrop, Reason: "say \"hi\"\n\t\x00\xff ☃"},
		{Actor: "c", Kind: model.EventDrop, HasMsg: true, Msg: "x", Reason: " "},
	} {
		check(e)
	}
	rng := rand.New(rand.NewPCG(8, 8))
	str := func() string {
		b := make([]byte, rng.IntN(14))
		for i := range b {
			switch rng.IntN(4) {
			case 0:
				b[i] = ' '
			case 1:
				b[i] = byte(rng.IntN(256))
			default:
				b[i] = byte('a' + rng.IntN(26))
			}
		}
		return string(b)
	}
	for range 20000 {
		check(trace.Event{
			At:    time.Duration(rng.Int64N(1<<50) - 1<<40),
			Actor: str(), Kind: model.EventKind(str()), Msg: str(), HasMsg: rng.IntN(2) == 0,
			Queue: rng.IntN(1 << 30), HasQueue: rng.IntN(2) == 0,
			Reason: str(), Peer: str(),
		})
	}
}
