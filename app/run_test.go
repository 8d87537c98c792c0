package app_test

import (
	"errors"
	"testing"
	"time"

	"github.com/zeromq-lockstep/lockstep/app"
	"github.com/zeromq-lockstep/lockstep/backend"
	"github.com/zeromq-lockstep/lockstep/model"
	"github.com/zeromq-lockstep/lockstep/sim"
)

func simBackend(t *testing.T) *sim.Backend {
	t.Helper()
	b, err := sim.NewScenarioBackend(sim.Config{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// bare is a backend with no optional interface: no binding queue, no
// slow links.
type bare struct{ backend.Backend }

func TestRunNeedsTheBindingsQueue(t *testing.T) {
	sc, _ := app.LookupScenario("seed")
	_, err := app.Run(bare{simBackend(t)}, sc, app.RunConfig{For: time.Second})
	if !errors.Is(err, backend.ErrUnsupported) {
		t.Fatalf("app: Run on a backend without Queuer: %v, want ErrUnsupported", err)
	}
}

func TestSlowLinkNeedsALinkSlower(t *testing.T) {
	sc := app.Scenario{Name: "servers only", Servers: []app.Server{{Name: "s", Endpoint: "tcp://s:1", Policy: app.BlogPolicy}}}
	_, err := app.Run(bare{simBackend(t)}, sc, app.RunConfig{For: time.Second, Faults: []app.Fault{app.SlowLink{A: "s", B: "c", Extra: time.Millisecond}}})
	if !errors.Is(err, backend.ErrUnsupported) {
		t.Fatalf("app: a slow link on a backend without LinkSlower: %v, want ErrUnsupported", err)
	}
}

// TestCheckpointStopsTheRun: a checkpoint that says stop ends the run at
// its minute, with the queue as it was then.
func TestCheckpointStopsTheRun(t *testing.T) {
	sc, _ := app.LookupScenario("no-reply")
	var seen []time.Duration
	res, err := app.Run(simBackend(t), sc, app.RunConfig{For: time.Hour, Checkpoint: func(now time.Duration, queues []int) bool {
		seen = append(seen, now)
		return now < 2*time.Minute
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != 2 || seen[0] != time.Minute || seen[1] != 2*time.Minute {
		t.Fatalf("app: checkpoints at %v, want 1m0s and 2m0s", seen)
	}
	if res.End != 2*time.Minute {
		t.Fatalf("app: the run ended at %v, want 2m0s", res.End)
	}
	// no-reply: every request after the first stays queued; one tick every
	// 101ms.
	if q := res.Queues["client"]; q != int(2*time.Minute/(101*time.Millisecond))-1 {
		t.Fatalf("app: %d queued at 2m0s", q)
	}
}

// TestRunTimersCount: every client send and server reply is a timer.
func TestRunTimersCount(t *testing.T) {
	sc, _ := app.LookupScenario("seed")
	res, err := app.Run(simBackend(t), sc, app.RunConfig{For: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range res.Trace {
		if e.Kind == model.EventEnqueue || e.Kind == model.EventReply {
			n++
		}
	}
	if n != res.Timers {
		t.Fatalf("app: %d timers fired, the trace shows %d enqueues and replies", res.Timers, n)
	}
}
