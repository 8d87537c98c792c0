package realnet

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/benbjohnson/clock"

	"github.com/zeromq-lockstep/lockstep/app"
	"github.com/zeromq-lockstep/lockstep/backend"
	"github.com/zeromq-lockstep/lockstep/model"
	"github.com/zeromq-lockstep/lockstep/simnet"
	"github.com/zeromq-lockstep/lockstep/trace"
)

// Crash kills Server at At (time since the start) and, when Down is
// positive, starts a new REP on the same endpoint Down later.
type Crash = app.Crash

// Config is one run of a scenario on zmq4.
type Config struct {
	// Clock is the backend's time: clock.New() (the default) for a live
	// run, a *clock.Mock to follow the virtual schedule fast: time then
	// moves to the applications' next timer once the real sockets are
	// quiet (see Backend.Wait).
	Clock clock.Clock
	// For is how long to run; zero means 10s.
	For time.Duration
	// Crashes are the crash and restart schedule.
	Crashes []Crash
	// Bound bounds each blocking zmq4 call and each expected message;
	// zero means DefaultBound.
	Bound time.Duration
	// Ports pins the port a server binds (by server name); unset servers
	// get a free port chosen at run time.
	Ports map[string]int
	// FirstPort, when not zero, is the port the first endpoint bound
	// gets, the next ones the following ports, unless Ports says.
	FirstPort int
	// Sink, when set, receives every trace event as it happens, and
	// Result.Trace stays empty, as in the simulator.
	Sink func(trace.Event)
	// Net, when set, runs the scenario on this simnet network instead of
	// loopback TCP: each server and client is a host of its own named
	// after it, a crash is its host's (connections reset, bytes in flight
	// lost, F22) before its socket closes, and Clock must be nil or the
	// real clock, which inside the network's synctest bubble is virtual.
	// The applications' timers are network alarms, so that the timers of
	// an instant run before what the network delivers then, as in the
	// simulator, and one schedule gives one trace. Clients dial in the
	// background, so a crash at 0s comes while their dials are under way.
	// Ports must be unset.
	Net *simnet.Network
}

// Result is what a run produced.
type Result struct {
	Trace []trace.Event
	End   time.Duration
	// Endpoints maps each scenario endpoint to the real one it ran on.
	Endpoints map[string]string
}

// EndpointError is a server that could not bind: a busy or bad endpoint.
type EndpointError = app.EndpointError

// Run runs scenario sc on real zmq4 sockets with the applications of
// app.Run, over loopback TCP or cfg.Net, and returns its trace, in the
// simulator's events.
func Run(sc app.Scenario, cfg Config) (res *Result, err error) {
	if cfg.For < 0 {
		return nil, fmt.Errorf("realnet: negative duration %v", cfg.For)
	}
	if cfg.For == 0 {
		cfg.For = 10 * time.Second
	}
	if cfg.Net != nil {
		if _, mock := cfg.Clock.(*clock.Mock); mock || len(cfg.Ports) > 0 || cfg.FirstPort != 0 {
			return nil, fmt.Errorf("realnet: a run on simnet takes neither a mock clock nor ports")
		}
	}
	b := newBackend(cfg)
	defer func() {
		if serr := b.Shutdown(); serr != nil && err == nil {
			err = serr
		}
	}()
	faults := make([]app.Fault, len(cfg.Crashes))
	for i, c := range cfg.Crashes {
		faults[i] = c
	}
	out, err := app.Run(b, sc, app.RunConfig{For: cfg.For, Faults: faults, Sink: cfg.Sink})
	if err != nil {
		return nil, err
	}
	res = &Result{Trace: out.Trace, End: out.End, Endpoints: map[string]string{}}
	for ep, real := range b.real {
		res.Endpoints[ep] = real
	}
	return res, nil
}

// The networks a scenario runs on (RunOptions.Net).
const (
	NetSimnet = "simnet" // zmq4's own code on simnet, virtual time, deterministic
	NetTCP    = "tcp"    // real sockets on 127.0.0.1
)

func init() {
	backend.RegisterRunner("zmq4", backend.Runner{
		Profile: model.ZMQ4,
		Nets:    []string{NetSimnet, NetTCP},
		Ports:   true,
		Check: func(o backend.RunOptions) error {
			if o.Port != 0 && o.Net != NetTCP {
				return errors.New("-port needs -net tcp (simnet's ports are the scenario's own)")
			}
			return nil
		},
		Where: func(o backend.RunOptions) string {
			switch {
			case o.Net == NetTCP && o.Fast:
				return "zmq4 v0.17.0 (127.0.0.1, mock clock)"
			case o.Net == NetTCP:
				return "zmq4 v0.17.0 (127.0.0.1, real time)"
			}
			return "zmq4 v0.17.0 (simnet, virtual time)"
		},
		Run: runOn,
	})
}

// runOn runs f on a scenario backend of o: on simnet in a synctest
// bubble of its own (simnet.RunProgram, so virtual time in a plain
// binary too), or on TCP, on the real clock or, when o.Fast, a mock one.
func runOn(o backend.RunOptions, f func(backend.Backend) error) error {
	if o.Net != NetTCP {
		var err error
		ok, berr := simnet.RunProgram(func(_ *testing.T, n *simnet.Network) {
			b := newBackend(Config{Net: n})
			err = errors.Join(f(b), b.Shutdown())
		})
		switch {
		case berr != nil:
			return berr
		case err == nil && !ok:
			return errors.New("realnet: the simnet bubble failed")
		}
		return err
	}
	cfg := Config{FirstPort: o.Port}
	if o.Fast {
		cfg.Clock = clock.NewMock()
	}
	b := newBackend(cfg)
	return errors.Join(f(b), b.Shutdown())
}
