package main

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/zeromq-lockstep/lockstep/model"
	"github.com/zeromq-lockstep/lockstep/sim"
)

// TestAppendTextIsText: the streaming text writer renders every event
// exactly as model.TraceEvent.Text does: the events of every scenario with
// a crash, hand-picked edge cases, and random events of arbitrary bytes.
func TestAppendTextIsText(t *testing.T) {
	check := func(e model.TraceEvent) {
		t.Helper()
		want := e.Text()
		buf := []byte("previous line ") // appends; trims only its own line
		got := appendText(buf, e)
		if string(got[:len(buf)]) != "previous line " || string(got[len(buf):]) != want {
			t.Fatalf("event %+v:\nappendText %q\nText       %q", e, got[len(buf):], want)
		}
	}
	n := 0
	for _, sc := range model.Scenarios() {
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
	for _, e := range []model.TraceEvent{
		{},
		{At: -time.Nanosecond, Actor: "a"},
		{At: 1234567 * time.Second, Actor: "a-very-long-actor-name", Event: "a-very-long-event"},
		{At: 1500 * time.Microsecond, Actor: "clïent", Event: "énqueue", HasMsg: true},
		{Actor: "\xff\xfe", Event: "send", HasMsg: true, Msg: "trailing  "},
		{Actor: "c", Event: "send", HasQueue: true, Queue: 0},
		{Actor: "c", Event: "send", HasQueue: true, Queue: -3, Peer: " "},
		{Actor: "c", Event: "drop", Reason: "say \"hi\"\n\t\x00\xff ☃"},
		{Actor: "c", Event: "drop", HasMsg: true, Msg: "x", Reason: " "},
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
		check(model.TraceEvent{
			At:    time.Duration(rng.Int64N(1<<50) - 1<<40),
			Actor: str(), Event: str(), Msg: str(), HasMsg: rng.IntN(2) == 0,
			Queue: rng.IntN(1 << 30), HasQueue: rng.IntN(2) == 0,
			Reason: str(), Peer: str(),
		})
	}
}
