package main

import (
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/zeromq-lockstep/lockstep/app"
	"github.com/zeromq-lockstep/lockstep/backend"
)

// backendFlags choose what runs a scenario: a backend registered with
// backend.RegisterRunner (the simulator over the model, zmq4 on simnet or
// loopback TCP, libzmq), by name, and its options.
type backendFlags struct {
	backend string
	port    int
	net     string
}

const backendSim = "sim"

// registerNet registers -net, the network a backend runs on.
func (b *backendFlags) registerNet(fs *flag.FlagSet) {
	fs.StringVar(&b.net, "net", "", "the network the backend runs on, its first by default; zmq4: simnet (zmq4's own code on lockstep's in-memory network, virtual time, deterministic) or tcp (real sockets on 127.0.0.1)")
}

// registerPort registers -port.
func (b *backendFlags) registerPort(fs *flag.FlagSet) {
	fs.IntVar(&b.port, "port", 0, "zmq4 -net tcp: the port the first server binds (the next servers the following ports); 0 picks free ports")
}

func (b *backendFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&b.backend, "backend", backendSim, "what runs the scenario: "+backendList())
	b.registerPort(fs)
	b.registerNet(fs)
}

// backendList describes the backends a binary can have.
func backendList() string {
	return "sim (the model), zmq4 (real zmq4 sockets, on simnet unless -net tcp) or libzmq (real libzmq, a binary built with -tags libzmq)"
}

// runner looks the chosen backend up and checks its options.
func (b *backendFlags) runner(cmd string) (backend.Runner, error) {
	if err := needLibzmq(cmd, b.backend); err != nil {
		return backend.Runner{}, err
	}
	r, err := backend.LookupRunner(b.backend)
	if err != nil {
		return r, usageErr("%s: -backend: %v", cmd, err)
	}
	if err := r.CheckOptions(b.backend, b.options(0, false)); err != nil {
		return r, usageErr("%s: %v", cmd, err)
	}
	return r, nil
}

// options are the flags as a backend takes them.
func (b *backendFlags) options(seed uint64, fast bool) backend.RunOptions {
	return backend.RunOptions{Seed: seed, Net: b.net, Port: b.port, Fast: fast}
}

// runApps runs the scenario's applications (app.Run) on the backend r
// makes; a server that cannot bind is bad input.
func runApps(cmd, name string, r backend.Runner, o backend.RunOptions, sc app.Scenario, cfg app.RunConfig) error {
	err := r.Run(o, func(b backend.Backend) error {
		_, err := app.Run(b, sc, cfg)
		return err
	})
	var ee *app.EndpointError
	switch {
	case errors.As(err, &ee):
		return usageErr("%s: %v", cmd, ee)
	case err != nil:
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// faults is the crash the flags ask for, if any.
func (f *runFlags) faults() []app.Fault {
	if !f.restartAt.set {
		return nil
	}
	return []app.Fault{app.Crash{Server: f.server, At: f.restartAt.d, Down: f.down.d}}
}

// profileName names a profile in compare's header.
func profileName(name string) string { return strings.ToLower(name) }
