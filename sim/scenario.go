package sim

import (
	"errors"
	"fmt"
	"time"

	"github.com/zeromq-lockstep/lockstep/app"
	"github.com/zeromq-lockstep/lockstep/model"
	"github.com/zeromq-lockstep/lockstep/trace"
)

// Config is one simulated run of a scenario.
type Config struct {
	Seed uint64
	// For is how much virtual time to run; zero means DefaultFor.
	For time.Duration
	// Profile is the implementation the model follows; the zero value is
	// model.LibZMQ.
	Profile model.Profile
	// Network is the network's timing; the zero value is DefaultNetwork.
	Network Network
	// Faults are injected at their virtual times.
	Faults []Fault
	// NoTrace skips recording, for benchmarks.
	NoTrace bool
	// Mutation installs deliberate defects in the model (a build with
	// -tags teeth only), so that properties of the simulator show their
	// teeth.
	Mutation model.Mutation
	// Sink, when set, receives every trace event as it happens, and
	// Result.Trace stays empty: a long run prints without holding its
	// trace in memory.
	Sink func(trace.Event)
	// Checkpoint is app.RunConfig's: called every virtual minute, it
	// can stop the run.
	Checkpoint func(now time.Duration, queues []int) bool
}

// DefaultFor is how long a run lasts when Config.For is zero.
const DefaultFor = 10 * time.Second

func (cfg Config) withDefaults() Config {
	if cfg.For == 0 {
		cfg.For = DefaultFor
	}
	if cfg.Profile.Name == "" {
		cfg.Profile = model.LibZMQ
	}
	if cfg.Network == (Network{}) {
		cfg.Network = DefaultNetwork
	}
	return cfg
}

// Result is what a run produced.
type Result = app.Result

// Fault is an injected failure with its virtual time: [Crash], [CutLink]
// or [SlowLink], the application runner's own.
type Fault = app.Fault

// Crash kills Server at At and, when Down is positive, restarts it Down
// later.
type Crash = app.Crash

// CutLink cuts the link between two processes at At and heals it For later
// (never, when For is zero).
type CutLink = app.CutLink

// SlowLink adds Extra latency to the link between two processes from At.
type SlowLink = app.SlowLink

// Run runs scenario sc under cfg and returns its trace: the applications
// of [app.Run] on a [NewScenarioBackend].
func Run(sc app.Scenario, cfg Config) (*Result, error) {
	res, _, err := RunOn(sc, cfg)
	return res, err
}

// RunOn is Run that also returns the backend it ran on, for callers that
// look at the simulator afterwards (how many events it ran, say).
func RunOn(sc app.Scenario, cfg Config) (*Result, *Backend, error) {
	if cfg.For < 0 {
		return nil, nil, fmt.Errorf("sim: negative duration %v", cfg.For)
	}
	if len(sc.Servers) == 0 && len(sc.Clients) == 0 {
		return nil, nil, errors.New("sim: scenario has no servers and no clients")
	}
	cfg = cfg.withDefaults()
	b, err := NewScenarioBackend(cfg)
	if err != nil {
		return nil, nil, err
	}
	res, err := app.Run(b, sc, app.RunConfig{For: cfg.For, Faults: cfg.Faults, Sink: cfg.Sink, Checkpoint: cfg.Checkpoint})
	if err != nil {
		return nil, nil, fmt.Errorf("sim: %w", err)
	}
	return res, b, nil
}
