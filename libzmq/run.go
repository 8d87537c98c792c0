//go:build libzmq && cgo

package libzmq

import (
	"errors"
	"fmt"
	"time"

	"github.com/zeromq-lockstep/lockstep/app"
	"github.com/zeromq-lockstep/lockstep/backend"
	"github.com/zeromq-lockstep/lockstep/model"
	"github.com/zeromq-lockstep/lockstep/trace"
)

// Crash crashes Server At after the start and restarts it Down later.
type Crash = app.Crash

// RunConfig is one run of a scenario on libzmq, in real time.
type RunConfig struct {
	For     time.Duration
	Crashes []Crash
}

// Run runs a built-in scenario on real libzmq (127.0.0.1, real time,
// cfg.For long) with the applications of app.Run and returns its trace,
// with the simulator's event names, so that every format and
// trace.OutcomeOf work on it. The clients' queues are the Backend's
// (F24, Backend.Enqueue). A crash closes the REP with LINGER 0; a restart
// binds the same port again.
func Run(sc app.Scenario, cfg RunConfig) (events []trace.Event, err error) {
	if cfg.For <= 0 {
		return nil, errors.New("libzmq: run: For must be positive")
	}
	b, err := New()
	if err != nil {
		return nil, err
	}
	b.wait = 0 // the application waits on Wait, not on each call
	defer func() { err = errors.Join(err, b.Shutdown()) }()
	faults := make([]app.Fault, len(cfg.Crashes))
	for i, c := range cfg.Crashes {
		faults[i] = c
	}
	res, err := app.Run(b, sc, app.RunConfig{For: cfg.For, Faults: faults})
	if err != nil {
		return nil, fmt.Errorf("libzmq: %w", err)
	}
	return res.Trace, nil
}

func init() {
	backend.RegisterRunner("libzmq", backend.Runner{
		Profile: model.LibZMQ,
		Where:   func(backend.RunOptions) string { return "libzmq (127.0.0.1, real time)" },
		Run: func(_ backend.RunOptions, f func(backend.Backend) error) error {
			b, err := New()
			if err != nil {
				return err
			}
			b.wait = 0 // the applications wait on Wait, not on each call
			return errors.Join(f(b), b.Shutdown())
		},
	})
}
