package main

import (
	"fmt"
	"io"

	"github.com/zeromq-lockstep/lockstep/app"
	"github.com/zeromq-lockstep/lockstep/sim"
	"github.com/zeromq-lockstep/lockstep/trace"
)

// backendLibzmq is the backend of real libzmq (package libzmq), present
// only in a binary built with -tags libzmq.
const backendLibzmq = "libzmq"

// needLibzmq is the one line a binary built without libzmq answers to
// -backend libzmq, exit status 2.
func needLibzmq(cmd string) error {
	if withLibzmq {
		return nil
	}
	return usageErr("%s: -backend libzmq: this binary is built without libzmq; build it with `go build -tags libzmq ./cmd/lockstep` (needs cgo, pkg-config and libzmq3-dev)", cmd)
}

// compareLibzmq runs sc on the model under its default profile (libzmq's
// semantics, model.Profile{}) and on real libzmq in real time, and prints
// the two outcomes side by side. Exit 0 when they agree, 1 when they
// differ.
func compareLibzmq(sc app.Scenario, f *runFlags, all bool, stdout io.Writer) error {
	var modelSide trace.Accumulator // the model's trace is not kept
	cfg := f.simConfig()
	cfg.Sink = modelSide.Add
	if _, err := sim.Run(sc, cfg); err != nil {
		return usageErr("compare: %v", err)
	}
	real, err := libzmqRun(sc, f) // real time: as long as -for, at most an hour
	if err != nil {
		return err
	}
	header := fmt.Sprintf("%s for %v: model (default profile, seed %d) vs libzmq (127.0.0.1, real time)", sc.Name, f.length.d, f.seed)
	return printComparison(stdout, header, modelSide.Outcome(), trace.OutcomeOf(real), "model", "libzmq", all)
}
