package main

import (
	"errors"
	"flag"
	"fmt"
	"testing"

	"github.com/benbjohnson/clock"

	"github.com/zeromq-lockstep/lockstep/app"
	"github.com/zeromq-lockstep/lockstep/realnet"
	"github.com/zeromq-lockstep/lockstep/simnet"
	"github.com/zeromq-lockstep/lockstep/trace"
)

// backendFlags choose what runs a scenario: the simulator over the model,
// or real zmq4 sockets on simnet (in-memory, virtual time) or over
// loopback TCP.
type backendFlags struct {
	backend string
	port    int
	net     string
}

const (
	backendSim  = "sim"
	backendZMQ4 = "zmq4"
	netSimnet   = "simnet"
	netTCP      = "tcp"
)

// registerNet registers -net, which zmq4 runs on.
func (b *backendFlags) registerNet(fs *flag.FlagSet) {
	fs.StringVar(&b.net, "net", netSimnet, "zmq4: simnet (zmq4's own code on lockstep's in-memory network, virtual time, deterministic) or tcp (real sockets on 127.0.0.1, real time)")
}

func (b *backendFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&b.backend, "backend", backendSim, "what runs the scenario: sim (the model), zmq4 (real zmq4 sockets, on simnet unless -net tcp) or libzmq (real libzmq, a binary built with -tags libzmq)")
	fs.IntVar(&b.port, "port", 0, "zmq4 -net tcp: the port the first server binds (the next servers the following ports); 0 picks free ports")
	b.registerNet(fs)
}

func (b *backendFlags) check(cmd string) error {
	if b.backend == backendLibzmq {
		if err := needLibzmq(cmd); err != nil {
			return err
		}
		if b.port != 0 {
			return usageErr("%s: -port needs -backend zmq4", cmd)
		}
		if b.net != netSimnet {
			return usageErr("%s: -net needs -backend zmq4", cmd)
		}
		return nil
	}
	if b.backend != backendSim && b.backend != backendZMQ4 {
		return usageErr("%s: -backend: unknown backend %q (one of: sim, zmq4, libzmq)", cmd, b.backend)
	}
	if b.port < 0 || b.port > 65535 {
		return usageErr("%s: -port: %d is not a port", cmd, b.port)
	}
	if b.port != 0 && b.backend != backendZMQ4 {
		return usageErr("%s: -port needs -backend zmq4", cmd)
	}
	if b.net != netSimnet && b.net != netTCP {
		return usageErr("%s: -net: unknown network %q (one of: simnet, tcp)", cmd, b.net)
	}
	if b.net != netSimnet && b.backend != backendZMQ4 {
		return usageErr("%s: -net needs -backend zmq4", cmd)
	}
	if b.port != 0 && b.net != netTCP {
		return usageErr("%s: -port needs -net tcp (simnet's ports are the scenario's own)", cmd)
	}
	return nil
}

// realnetConfig is the zmq4 run of the same flags as the simulator's.
func (f *runFlags) realnetConfig(b backendFlags, sc app.Scenario, clk clock.Clock) realnet.Config {
	cfg := realnet.Config{Clock: clk, For: f.length.d}
	if f.restartAt.set {
		cfg.Crashes = append(cfg.Crashes, realnet.Crash{Server: f.server, At: f.restartAt.d, Down: f.down.d})
	}
	if b.port != 0 {
		cfg.Ports = map[string]int{}
		for i, s := range sc.Servers {
			cfg.Ports[s.Name] = b.port + i
		}
	}
	return cfg
}

// runZMQ4 runs sc on zmq4, on simnet in a synctest bubble of its own
// (simnet.RunProgram, so virtual time in a plain binary) or on TCP; a
// server that cannot bind is bad input.
func runZMQ4(sc app.Scenario, cfg realnet.Config, network string) ([]trace.Event, error) {
	var res *realnet.Result
	var err error
	if network == netSimnet {
		cfg.Clock = nil
		var ok bool
		var berr error
		ok, berr = simnet.RunProgram(func(_ *testing.T, n *simnet.Network) {
			cfg.Net = n
			res, err = realnet.Run(sc, cfg)
		})
		switch {
		case berr != nil:
			err = berr
		case err == nil && !ok:
			err = errors.New("the simnet bubble failed")
		}
	} else {
		res, err = realnet.Run(sc, cfg)
	}
	var ee *realnet.EndpointError
	if errors.As(err, &ee) {
		return nil, usageErr("%v", err)
	}
	if err != nil {
		return nil, fmt.Errorf("zmq4: %w", err)
	}
	return res.Trace, nil
}
