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
	res, err := sim.Run(sc, f.simConfig())
	if err != nil {
		return usageErr("compare: %v", err)
	}
	real, err := libzmqRun(sc, f)
	if err != nil {
		return err
	}
	lines := trace.CompareOutcomes(trace.OutcomeOf(res.Trace), trace.OutcomeOf(real))
	fmt.Fprintf(stdout, "%s for %v: model (default profile, seed %d) vs libzmq (127.0.0.1, real time)\n", sc.Name, f.length.d, f.seed)
	fmt.Fprint(stdout, trace.FormatComparison(lines, "model", "libzmq", !all))
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
