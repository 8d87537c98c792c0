package main

import (
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/zeromq-lockstep/lockstep/app"
	"github.com/zeromq-lockstep/lockstep/backend"
	"github.com/zeromq-lockstep/lockstep/realnet"
	"github.com/zeromq-lockstep/lockstep/sim"
	"github.com/zeromq-lockstep/lockstep/simnet"
	"github.com/zeromq-lockstep/lockstep/trace"
)

// maxCompareFor bounds compare's -for: both outcomes are held to be lined
// up, and the zmq4 side runs about 23 virtual seconds per wall second, so
// an hour is already minutes of real sockets.
const maxCompareFor = time.Hour

// cmdCompare runs a scenario on the model under the profile of a real
// backend and on that backend (zmq4 by default, on simnet unless -net
// tcp, where its time is a mock clock; libzmq in a build with -tags
// libzmq, in real time), and prints the two observable outcomes side by
// side. Exit 0 when they agree, 1 when they differ, 2 for bad input.
func cmdCompare(args []string, stdout io.Writer) error {
	var f runFlags
	fs := flag.NewFlagSet("compare", flag.ContinueOnError)
	f.register(fs)
	all := fs.Bool("all", false, "print every row, not only the differing ones")
	var b backendFlags
	b.registerPort(fs)
	b.registerNet(fs)
	fs.StringVar(&b.backend, "backend", "zmq4", "the real side: zmq4 (model under profile zmq4) or libzmq (model under its default profile; a binary built with -tags libzmq)")
	pos, help, err := parseCommand(fs, args, stdout)
	if help || err != nil {
		return err
	}
	if err := refuseIgnored(fs, "compare", "format"); err != nil {
		return err
	}
	sc, err := f.scenario("compare", pos)
	if err != nil {
		return err
	}
	if b.backend == backendSim {
		return usageErr("compare: -backend: sim is the model itself (one of: zmq4, libzmq)")
	}
	r, err := b.runner("compare")
	if err != nil {
		return err
	}
	if f.length.d > maxCompareFor {
		return usageErr("compare: -for %v is longer than compare's limit of %v (a comparison holds every message of both runs); choose a shorter -for", f.length.d, maxCompareFor)
	}
	// Neither trace is kept: each run's outcome is accumulated as its
	// events happen.
	var modelSide, realSide trace.Accumulator
	cfg := compareModelConfig(&f, b, r)
	cfg.Sink = modelSide.Add
	if _, err := sim.Run(sc, cfg); err != nil {
		return usageErr("compare: %v", err)
	}
	o := b.options(f.seed, true)
	if err := runApps("compare", b.backend, r, o, sc, app.RunConfig{For: f.length.d, Faults: f.faults(), Sink: realSide.Add}); err != nil {
		return err
	}
	header := fmt.Sprintf("%s for %v: model (profile %s, seed %d) vs %s", sc.Name, f.length.d, profileName(r.Profile.Name), f.seed, r.Where(o))
	return printComparison(stdout, header, modelSide.Outcome(), realSide.Outcome(), "model/"+b.backend, b.backend, *all)
}

// compareModelConfig is the model's side of a comparison with runner r:
// r's profile and, against a backend on simnet, simnet's timing (a fixed
// latency, no jitter, and a dial that ends after the ZMTP handshake, as
// zmq4's Dial does), so that both sides' events fall at the same instants
// and a crash at any instant finds both in the same state.
func compareModelConfig(f *runFlags, b backendFlags, r backend.Runner) sim.Config {
	cfg := f.simConfig()
	cfg.Profile = r.Profile
	net := b.net
	if net == "" && len(r.Nets) > 0 {
		net = r.Nets[0]
	}
	if net == realnet.NetSimnet {
		cfg.Network = sim.Network{Latency: simnet.DefaultLatency, Handshake: true}
	}
	return cfg
}

// printComparison prints two outcomes side by side under header, then
// the verdict: exit 0 when they agree, 1 when they differ.
func printComparison(stdout io.Writer, header string, a, b trace.Outcome, nameA, nameB string, all bool) error {
	lines := trace.CompareOutcomes(a, b)
	fmt.Fprintln(stdout, header)
	fmt.Fprint(stdout, trace.FormatComparison(lines, nameA, nameB, !all))
	if trace.Agree(lines) {
		fmt.Fprintln(stdout, "agree")
		return nil
	}
	n := 0
	for _, l := range lines {
		if l.Differs {
			n++
		}
	}
	fmt.Fprintf(stdout, "differ: %d rows marked !\n", n)
	return &exitError{code: 1}
}
