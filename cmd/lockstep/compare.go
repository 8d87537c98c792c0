package main

import (
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/benbjohnson/clock"

	"github.com/zeromq-lockstep/lockstep/model"
	"github.com/zeromq-lockstep/lockstep/sim"
	"github.com/zeromq-lockstep/lockstep/trace"
)

// maxCompareFor bounds compare's -for: both outcomes are held to be lined
// up, and the zmq4 side runs about 23 virtual seconds per wall second, so
// an hour is already minutes of real sockets.
const maxCompareFor = time.Hour

// cmdCompare runs a scenario on the model under the zmq4 profile and on
// real zmq4 sockets, on simnet by default (zmq4's own code on virtual
// time, deterministic) or with -net tcp on loopback TCP (application
// timers on a mock clock, so it takes far less than the virtual time), and
// prints the two observable outcomes side by side. Exit 0 when they agree, 1 when they differ, 2 for bad input.
func cmdCompare(args []string, stdout io.Writer) error {
	var f runFlags
	fs := flag.NewFlagSet("compare", flag.ContinueOnError)
	f.register(fs)
	all := fs.Bool("all", false, "print every row, not only the differing ones")
	port := fs.Int("port", 0, "-net tcp: the port the first zmq4 server binds; 0 picks free ports")
	var b backendFlags
	b.registerNet(fs)
	backend := fs.String("backend", backendZMQ4, "the real side: zmq4 (model under profile zmq4) or libzmq (model under its default profile; a binary built with -tags libzmq)")
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
	b.backend, b.port = *backend, *port
	if b.backend == backendSim {
		return usageErr("compare: -backend: sim is the model itself (one of: zmq4, libzmq)")
	}
	if err := b.check("compare"); err != nil {
		return err
	}
	if f.length.d > maxCompareFor {
		return usageErr("compare: -for %v is longer than compare's limit of %v (a comparison holds every message of both runs); choose a shorter -for", f.length.d, maxCompareFor)
	}
	if b.backend == backendLibzmq {
		return compareLibzmq(sc, &f, *all, stdout)
	}
	// Neither trace is kept: each run's outcome is accumulated as its
	// events happen.
	var modelSide, realSide trace.Accumulator
	cfg := f.simConfig()
	cfg.Profile = model.ZMQ4
	cfg.Sink = modelSide.Add
	if _, err := sim.Run(sc, cfg); err != nil {
		return usageErr("compare: %v", err)
	}
	rcfg := f.realnetConfig(b, sc, clock.NewMock())
	rcfg.Sink = realSide.Add
	if _, err := runZMQ4(sc, rcfg, b.net); err != nil {
		return err
	}
	where := "simnet, virtual time"
	if b.net == netTCP {
		where = "127.0.0.1, mock clock"
	}
	header := fmt.Sprintf("%s for %v: model (profile zmq4, seed %d) vs zmq4 v0.17.0 (%s)", sc.Name, f.length.d, f.seed, where)
	return printComparison(stdout, header, modelSide.Outcome(), realSide.Outcome(), "model/zmq4", "zmq4", *all)
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
