package sim_test

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zeromq-lockstep/lockstep/app"
	"github.com/zeromq-lockstep/lockstep/model"
	"github.com/zeromq-lockstep/lockstep/sim"
	"github.com/zeromq-lockstep/lockstep/trace"
)

// runScenario runs a built-in scenario and fails the test on error.
func runScenario(t testing.TB, name string, cfg sim.Config) *sim.Result {
	t.Helper()
	sc, err := app.LookupScenario(name)
	if err != nil {
		t.Fatal(err)
	}
	res, err := sim.Run(sc, cfg)
	if err != nil {
		t.Fatalf("sim.Run(%s): %v", name, err)
	}
	return res
}

// filter returns the events of actor (any actor when empty) named event.
func filter(tr []trace.Event, actor string, event model.EventKind) []trace.Event {
	var out []trace.Event
	for _, e := range tr {
		if (actor == "" || e.Actor == actor) && e.Kind == event {
			out = append(out, e)
		}
	}
	return out
}

// checkInOrder asserts that actor's receives carry responses 0, 1, 2, ...
// with nothing duplicated or missing, that each reply comes after its
// request was sent, and that at most one request (the outstanding one) is
// unanswered at the end. It returns the number of replies.
func checkInOrder(t *testing.T, trace []trace.Event, actor string) int {
	t.Helper()
	recvs := filter(trace, actor, model.EventReceive)
	sends := filter(trace, actor, model.EventSend)
	for k, r := range recvs {
		want := fmt.Sprintf(`{"response":"%d"}`, k)
		if r.Msg != want {
			t.Fatalf("%s: receive #%d at %v is %s, want %s", actor, k, r.At, r.Msg, want)
		}
		if k >= len(sends) || sends[k].Msg != strconv.Itoa(k) || sends[k].At > r.At {
			t.Fatalf("%s: receive #%d at %v has no earlier send of %d", actor, k, r.At, k)
		}
	}
	for k, s := range sends {
		if s.Msg != strconv.Itoa(k) {
			t.Fatalf("%s: send #%d is %q, want %d", actor, k, s.Msg, k)
		}
	}
	if d := len(sends) - len(recvs); d != 0 && d != 1 {
		t.Fatalf("%s: %d sends but %d receives; at most one request may be outstanding", actor, len(sends), len(recvs))
	}
	return len(recvs)
}

// noEvents asserts that the trace has no events of the given kinds.
func noEvents(t *testing.T, tr []trace.Event, events ...model.EventKind) {
	t.Helper()
	for _, e := range tr {
		for _, ev := range events {
			if e.Kind == ev {
				t.Fatalf("unexpected %s event: %s", ev, e.Text())
			}
		}
	}
}

func TestSeedRepliesInOrder(t *testing.T) {
	for _, d := range []time.Duration{10 * time.Second, 60 * time.Second} {
		res := runScenario(t, "seed", sim.Config{Seed: 1, For: d})
		n := checkInOrder(t, res.Trace, "client")
		// One request every 100ms, the server serves about three a second.
		if min := int(3*d/time.Second) - 3; n < min {
			t.Errorf("%v: only %d replies, want at least %d", d, n, min)
		}
		noEvents(t, res.Trace, model.EventDrop, model.EventError, model.EventDisconnect, model.EventRetry)
		if res.End != d {
			t.Errorf("End = %v, want %v", res.End, d)
		}
	}
}

func TestSeedBurstsOfThree(t *testing.T) {
	res := runScenario(t, "seed", sim.Config{Seed: 1, For: 60 * time.Second})
	recvs := filter(res.Trace, "client", model.EventReceive)
	// Before the first slow reply, one reply per tick, each about 1ms
	// after its send at 100ms, 200ms.
	if len(recvs) < 3 {
		t.Fatalf("only %d receives", len(recvs))
	}
	for k := 0; k < 2; k++ {
		tick := time.Duration(k+1) * 100 * time.Millisecond
		if at := recvs[k].At; at < tick+time.Millisecond || at > tick+5*time.Millisecond {
			t.Errorf("fast reply %d at %v, want just after %v", k, at, tick)
		}
	}
	// The third request (the server's count 3) is the first slow one: it
	// was sent at 300ms and comes back a second later.
	if at := recvs[2].At; at < 1300*time.Millisecond || at > 1310*time.Millisecond {
		t.Errorf("first slow reply at %v, want about 1.3s", at)
	}
	// From there on: bursts of three within a few ms, a second apart.
	const spread = 10 * time.Millisecond
	rest := recvs[2:]
	var starts []time.Duration
	for len(rest) >= 3 {
		g := rest[:3]
		if d := g[2].At - g[0].At; d > spread {
			t.Fatalf("burst starting at %v spans %v, want under %v", g[0].At, d, spread)
		}
		if len(rest) > 3 {
			if gap := rest[3].At - g[2].At; gap < 900*time.Millisecond {
				t.Fatalf("next burst %v after the one at %v, want about a second", gap, g[0].At)
			}
		}
		starts = append(starts, g[0].At)
		rest = rest[3:]
	}
	if len(rest) > 0 && rest[len(rest)-1].At-rest[0].At > spread {
		t.Fatalf("trailing partial burst at %v spans too long", rest[0].At)
	}
	if len(starts) < 55 {
		t.Fatalf("only %d bursts in 60s", len(starts))
	}
	for i := 1; i < len(starts); i++ {
		if d := starts[i] - starts[i-1]; d < time.Second || d > time.Second+spread {
			t.Fatalf("bursts at %v and %v are %v apart, want about 1s", starts[i-1], starts[i], d)
		}
	}
}

// queueAt is the application queue's length as of the last event at or
// before at that reports one.
func queueAt(trace []trace.Event, actor string, at time.Duration) int {
	q := 0
	for _, e := range trace {
		if e.At > at {
			break
		}
		if e.Actor == actor && e.HasQueue {
			q = e.Queue
		}
	}
	return q
}

func TestSeedQueueGrows(t *testing.T) {
	for _, d := range []time.Duration{10 * time.Second, 60 * time.Second} {
		res := runScenario(t, "seed", sim.Config{Seed: 1, For: d})
		enq := filter(res.Trace, "client", model.EventEnqueue)
		sends := filter(res.Trace, "client", model.EventSend)
		// The queue is what was enqueued and not yet handed to the socket.
		if want := len(enq) - len(sends); res.Queues["client"] != want {
			t.Errorf("%v: final queue %d, want enqueued-sent = %d", d, res.Queues["client"], want)
		}
		if last := enq[len(enq)-1]; last.Queue != res.Queues["client"] {
			t.Errorf("%v: last enqueue reports queue %d, Result says %d", d, last.Queue, res.Queues["client"])
		}
		// About ten in and three out per second: roughly seven more per
		// second, and it grows from each second to the next.
		prev := -1
		for s := 2 * time.Second; s <= d; s += time.Second {
			q := queueAt(res.Trace, "client", s-time.Millisecond)
			if q <= prev {
				t.Fatalf("%v: queue %d just before %v, not above %d a second earlier", d, q, s, prev)
			}
			prev = q
		}
		secs := int(d / time.Second)
		if q := res.Queues["client"]; q < 6*secs || q > 8*secs {
			t.Errorf("%v: queue %d at the end, want about %d", d, q, 7*secs)
		}
	}
}

// heldAt reports whether the server application held a request it had not
// answered at time at, judged from the trace alone.
func heldAt(trace []trace.Event, server string, at time.Duration) (string, bool) {
	held, holding := "", false
	for _, e := range trace {
		if e.At >= at || e.Actor != server {
			continue
		}
		switch e.Kind {
		case model.EventDeliver:
			held, holding = e.Msg, true
		case model.EventReply:
			holding = false
		}
	}
	return held, holding
}

func TestSeedCrashWhileHolding(t *testing.T) {
	crash := 1100 * time.Millisecond // the server holds request 2 from 0.3s to 1.3s
	for _, down := range []time.Duration{time.Second, 200 * time.Millisecond} {
		res := runScenario(t, "seed", sim.Config{Seed: 1, For: 20 * time.Second,
			Faults: []sim.Fault{sim.Crash{Server: "server", At: crash, Down: down}}})
		if held, ok := heldAt(res.Trace, "server", crash); !ok || held != "2" {
			t.Fatalf("server holds %q (%v) at the crash, want request 2", held, ok)
		}
		crashes := filter(res.Trace, "server", model.EventCrash)
		if len(crashes) != 1 || crashes[0].At != crash {
			t.Fatalf("crash events %v, want one at %v", crashes, crash)
		}
		drops := filter(res.Trace, "server", model.EventDrop)
		if len(drops) != 1 || drops[0].Msg != "2" || drops[0].At != crash || !strings.Contains(drops[0].Reason, "held") {
			t.Fatalf("drops %v, want request 2 dropped as held at %v", drops, crash)
		}
		restarts := filter(res.Trace, "server", model.EventRestart)
		if len(restarts) != 1 || restarts[0].At != crash+down {
			t.Fatalf("restarts %v, want one at %v", restarts, crash+down)
		}
		// The client reconnects to the new server...
		reconnected := false
		for _, e := range filter(res.Trace, "client", model.EventConnect) {
			reconnected = reconnected || e.At > crash+down
		}
		if !reconnected {
			t.Error("client never reconnected after the restart")
		}
		// ...but waits forever for the lost reply (F19): nothing is
		// received, sent or delivered after the crash.
		for _, e := range res.Trace {
			if e.At >= crash && (e.Kind == model.EventReceive || e.Kind == model.EventSend || e.Kind == model.EventDeliver) {
				t.Fatalf("event after the crash: %s", e.Text())
			}
		}
		if n := checkInOrder(t, res.Trace, "client"); n != 2 {
			t.Errorf("%d replies before the crash, want 2", n)
		}
		// The queue grows by one per tick from then on.
		if q := res.Queues["client"]; q != len(filter(res.Trace, "client", model.EventEnqueue))-3 {
			t.Errorf("final queue %d, want every request after the third", q)
		}
	}
}

func TestSeedRestartWhileIdle(t *testing.T) {
	crash := 150 * time.Millisecond // after reply 0, before request 1
	for _, down := range []time.Duration{time.Second, 30 * time.Millisecond, 3 * time.Second} {
		res := runScenario(t, "seed", sim.Config{Seed: 1, For: 60 * time.Second,
			Faults: []sim.Fault{sim.Crash{Server: "server", At: crash, Down: down}}})
		if held, ok := heldAt(res.Trace, "server", crash); ok {
			t.Fatalf("server holds %q at the crash; the test wants an idle server", held)
		}
		var before []trace.Event
		for _, e := range res.Trace {
			if e.At < crash {
				before = append(before, e)
			}
		}
		if s, r := len(filter(before, "client", model.EventSend)), len(filter(before, "client", model.EventReceive)); s != r || s == 0 {
			t.Fatalf("before the crash %d sends, %d receives; want all answered", s, r)
		}
		if len(filter(res.Trace, "server", model.EventCrash)) != 1 || len(filter(res.Trace, "server", model.EventRestart)) != 1 {
			t.Fatal("want one crash and one restart")
		}
		noEvents(t, res.Trace, model.EventDrop, model.EventError)
		// Requests sent while the server was down wait in the surviving pipe
		// (F21); every request is eventually answered, in order.
		n := checkInOrder(t, res.Trace, "client")
		after := 0
		for _, e := range filter(res.Trace, "client", model.EventReceive) {
			if e.At > crash+down {
				after++
			}
		}
		if after < 100 {
			t.Errorf("down %v: only %d replies after the restart", down, after)
		}
		if n < 150 {
			t.Errorf("down %v: only %d replies in 60s", down, n)
		}
	}
}

func TestNoReply(t *testing.T) {
	res := runScenario(t, "no-reply", sim.Config{Seed: 1, For: 10 * time.Second})
	noEvents(t, res.Trace, model.EventReceive, model.EventReply, model.EventDrop, model.EventError)
	if s := filter(res.Trace, "client", model.EventSend); len(s) != 1 || s[0].Msg != "0" {
		t.Fatalf("sends %v, want only request 0", s)
	}
	if d := filter(res.Trace, "server", model.EventDeliver); len(d) != 1 || d[0].Msg != "0" {
		t.Fatalf("delivers %v, want only request 0", d)
	}
	enq := filter(res.Trace, "client", model.EventEnqueue)
	// Every 100ms, each tick 1ms late on the last (app.Client.Drift).
	if len(enq) != 99 {
		t.Fatalf("%d enqueues in 10s, want 99", len(enq))
	}
	for k, e := range enq {
		if want := time.Duration(k+1) * 101 * time.Millisecond; e.At != want {
			t.Fatalf("enqueue #%d at %v, want %v", k, e.At, want)
		}
		if e.Msg != strconv.Itoa(k) || e.Queue != k {
			t.Fatalf("enqueue #%d: msg %s queue %d, want msg %d queue %d", k, e.Msg, e.Queue, k, k)
		}
	}
	if q := res.Queues["client"]; q != 98 {
		t.Fatalf("final queue %d, want 98", q)
	}
}

func TestTwoServersAlternate(t *testing.T) {
	res := runScenario(t, "two-servers", sim.Config{Seed: 1, For: 30 * time.Second})
	var delivers []trace.Event
	for _, e := range res.Trace {
		if e.Kind == model.EventDeliver {
			delivers = append(delivers, e)
		}
	}
	if len(delivers) < 50 {
		t.Fatalf("only %d delivers", len(delivers))
	}
	for k, e := range delivers {
		want := []string{"server-a", "server-b"}[k%2]
		if e.Actor != want || e.Msg != strconv.Itoa(k) {
			t.Fatalf("deliver #%d is %s to %s, want %d to %s", k, e.Msg, e.Actor, k, want)
		}
	}
	for k, s := range filter(res.Trace, "client", model.EventSend) {
		want := []string{"tcp://server-a:5454", "tcp://server-b:5454"}[k%2]
		if s.Peer != want {
			t.Fatalf("send #%d to %s, want %s", k, s.Peer, want)
		}
	}
	checkInOrder(t, res.Trace, "client")
	noEvents(t, res.Trace, model.EventDrop, model.EventError)
}

func TestTwoClientsOwnReplies(t *testing.T) {
	res := runScenario(t, "two-clients", sim.Config{Seed: 1, For: 30 * time.Second})
	for _, c := range []string{"client-1", "client-2"} {
		if n := checkInOrder(t, res.Trace, c); n < 20 {
			t.Errorf("%s: only %d replies", c, n)
		}
		// A receive only ever follows this client's own outstanding send.
		outstanding := false
		for _, e := range res.Trace {
			if e.Actor != c {
				continue
			}
			switch e.Kind {
			case model.EventSend:
				if outstanding {
					t.Fatalf("%s: second send before a reply at %v", c, e.At)
				}
				outstanding = true
			case model.EventReceive:
				if !outstanding {
					t.Fatalf("%s: receive with nothing outstanding at %v", c, e.At)
				}
				outstanding = false
			}
		}
	}
	// Both clients' requests reach the one server.
	// Each client has at most one request outstanding, which may still be
	// waiting in the server's queue at the end.
	sent := len(filter(res.Trace, "client-1", model.EventSend)) + len(filter(res.Trace, "client-2", model.EventSend))
	if d := len(filter(res.Trace, "server", model.EventDeliver)); d > sent || d < sent-2 {
		t.Errorf("server delivered %d of %d requests sent", d, sent)
	}
	noEvents(t, res.Trace, model.EventDrop, model.EventError)
}

func configs() map[string]sim.Config {
	return map[string]sim.Config{
		"plain":  {For: 5 * time.Second},
		"crash":  {For: 5 * time.Second, Faults: []sim.Fault{sim.Crash{Server: "server", At: 1100 * time.Millisecond, Down: time.Second}}},
		"cut":    {For: 5 * time.Second, Faults: []sim.Fault{sim.CutLink{A: "client", B: "server", At: 150 * time.Millisecond, For: 500 * time.Millisecond}}},
		"slow":   {For: 5 * time.Second, Faults: []sim.Fault{sim.SlowLink{A: "client", B: "server", At: 0, Extra: 20 * time.Millisecond}}},
		"longer": {For: 30 * time.Second},
	}
}

func TestDeterministic(t *testing.T) {
	for _, name := range app.ScenarioNames() {
		for cname, cfg := range configs() {
			if cname != "plain" && cname != "longer" && name != "seed" && name != "no-reply" {
				continue // the faults name "server" and "client"
			}
			for _, seed := range []uint64{1, 42} {
				cfg.Seed = seed
				a := runScenario(t, name, cfg)
				b := runScenario(t, name, cfg)
				for _, f := range trace.Formats {
					x, err := trace.Render(a.Trace, f)
					if err != nil {
						t.Fatal(err)
					}
					y, _ := trace.Render(b.Trace, f)
					if !bytes.Equal(x, y) {
						t.Errorf("%s/%s seed %d: two runs differ in format %s", name, cname, seed, f)
					}
					if len(x) == 0 {
						t.Errorf("%s/%s: empty %s trace", name, cname, f)
					}
				}
			}
		}
	}
}

func TestSeedsDiffer(t *testing.T) {
	for _, name := range app.ScenarioNames() {
		a := runScenario(t, name, sim.Config{Seed: 1, For: 3 * time.Second})
		b := runScenario(t, name, sim.Config{Seed: 2, For: 3 * time.Second})
		x, _ := trace.Render(a.Trace, "jsonl")
		y, _ := trace.Render(b.Trace, "jsonl")
		if bytes.Equal(x, y) {
			t.Errorf("%s: seeds 1 and 2 give the same trace", name)
		}
		// The difference is in the timing: latency jitter comes from the
		// PRNG. Network events (receive, deliver) land at different times.
		ra, rb := filter(a.Trace, "", model.EventDeliver), filter(b.Trace, "", model.EventDeliver)
		same := len(ra) == len(rb)
		for i := 0; same && i < len(ra); i++ {
			same = ra[i].At == rb[i].At
		}
		if same {
			t.Errorf("%s: deliver times identical for seeds 1 and 2", name)
		}
	}
}

func TestCutLinkWhileIdle(t *testing.T) {
	at, dur := 150*time.Millisecond, time.Second
	res := runScenario(t, "seed", sim.Config{Seed: 1, For: 20 * time.Second,
		Faults: []sim.Fault{sim.CutLink{A: "client", B: "server", At: at, For: dur}}})
	if c := filter(res.Trace, "", model.EventCut); len(c) != 1 || c[0].At != at {
		t.Fatalf("cut events %v, want one at %v", c, at)
	}
	if h := filter(res.Trace, "", model.EventHeal); len(h) != 1 || h[0].At != at+dur {
		t.Fatalf("heal events %v, want one at %v", h, at+dur)
	}
	if d := filter(res.Trace, "client", model.EventDisconnect); len(d) != 1 || d[0].At != at {
		t.Fatalf("client disconnects %v, want one at %v", d, at)
	}
	unreachable := 0
	for _, e := range filter(res.Trace, "client", model.EventRetry) {
		if e.Reason == "unreachable" {
			if e.At < at || e.At > at+dur+time.Second {
				t.Errorf("unreachable retry at %v, outside the cut", e.At)
			}
			unreachable++
		}
	}
	if unreachable == 0 {
		t.Error("no dial failed while the link was cut")
	}
	// No reply gets through while the link is down...
	for _, e := range filter(res.Trace, "client", model.EventReceive) {
		if e.At > at && e.At < at+dur {
			t.Fatalf("receive during the cut: %s", e.Text())
		}
	}
	// ...and nothing was held, so after the heal everything is answered.
	noEvents(t, res.Trace, model.EventDrop)
	if n := checkInOrder(t, res.Trace, "client"); n < 50 {
		t.Errorf("only %d replies after the heal", n)
	}
}

func TestCutLinkWhileHolding(t *testing.T) {
	// The server holds request 2 from 0.3s; the link is cut at 0.5s, so
	// the server's end of the connection is destroyed and its reply at 1.3s
	// goes nowhere (F16), while the client waits forever (F19).
	at := 500 * time.Millisecond
	res := runScenario(t, "seed", sim.Config{Seed: 1, For: 10 * time.Second,
		Faults: []sim.Fault{sim.CutLink{A: "client", B: "server", At: at, For: 200 * time.Millisecond}}})
	drops := filter(res.Trace, "server", model.EventDrop)
	if len(drops) != 1 || drops[0].Msg != `{"response":"2"}` || drops[0].Reason != "client gone" {
		t.Fatalf("server drops %v, want the reply to 2 dropped as client gone", drops)
	}
	for _, e := range filter(res.Trace, "client", model.EventReceive) {
		if e.At > at {
			t.Fatalf("receive after the cut: %s", e.Text())
		}
	}
}

func TestSlowLink(t *testing.T) {
	extra := 50 * time.Millisecond
	base := runScenario(t, "seed", sim.Config{Seed: 1, For: 5 * time.Second})
	slow := runScenario(t, "seed", sim.Config{Seed: 1, For: 5 * time.Second,
		Faults: []sim.Fault{sim.SlowLink{A: "client", B: "server", At: 0, Extra: extra}}})
	bs, br := filter(base.Trace, "client", model.EventSend), filter(base.Trace, "client", model.EventReceive)
	ss, sr := filter(slow.Trace, "client", model.EventSend), filter(slow.Trace, "client", model.EventReceive)
	// Request 0 (answered after 1ms): the round trip grows by two extras.
	if rtt := br[0].At - bs[0].At; rtt > 2*time.Millisecond {
		t.Fatalf("baseline round trip %v", rtt)
	}
	if rtt := sr[0].At - ss[0].At; rtt < 2*extra+time.Millisecond || rtt > 2*extra+2*time.Millisecond {
		t.Fatalf("slow round trip %v, want about %v", rtt, 2*extra+time.Millisecond)
	}
	checkInOrder(t, slow.Trace, "client")
	// A slow link applied later affects only later messages.
	late := runScenario(t, "seed", sim.Config{Seed: 1, For: 5 * time.Second,
		Faults: []sim.Fault{sim.SlowLink{A: "server", B: "client", At: 150 * time.Millisecond, Extra: extra}}})
	lr := filter(late.Trace, "client", model.EventReceive)
	if lr[0].At != br[0].At {
		t.Errorf("receive 0 moved from %v to %v by a slow link from 150ms", br[0].At, lr[0].At)
	}
	ls := filter(late.Trace, "client", model.EventSend)
	if rtt := lr[1].At - ls[1].At; rtt < 2*extra {
		t.Errorf("round trip of request 1 after the slowdown is %v", rtt)
	}
}

func TestFaultErrors(t *testing.T) {
	sc, _ := app.LookupScenario("seed")
	for name, f := range map[string]sim.Fault{
		"unknown server": sim.Crash{Server: "nope", At: time.Second},
		"negative crash": sim.Crash{Server: "server", At: -time.Second},
		"negative down":  sim.Crash{Server: "server", At: time.Second, Down: -1},
		"negative cut":   sim.CutLink{A: "client", B: "server", At: -1},
		"negative slow":  sim.SlowLink{A: "client", B: "server", Extra: -1},
	} {
		if _, err := sim.Run(sc, sim.Config{Faults: []sim.Fault{f}}); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := sim.Run(sc, sim.Config{For: -time.Second}); err == nil {
		t.Error("negative For: no error")
	}
	if _, err := sim.Run(app.Scenario{Name: "empty"}, sim.Config{}); err == nil {
		t.Error("empty scenario: no error")
	}
	if res, err := sim.Run(sc, sim.Config{}); err != nil || res.End != sim.DefaultFor {
		t.Errorf("zero For: End %v err %v, want %v", res.End, err, sim.DefaultFor)
	}
}
