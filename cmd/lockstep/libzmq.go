//go:build libzmq && cgo

package main

import (
	"fmt"

	"github.com/zeromq-lockstep/lockstep/app"
	"github.com/zeromq-lockstep/lockstep/libzmq"
	"github.com/zeromq-lockstep/lockstep/model"
	"github.com/zeromq-lockstep/lockstep/spec"
	"github.com/zeromq-lockstep/lockstep/trace"
)

// withLibzmq: this binary was built with -tags libzmq and links libzmq.
const withLibzmq = true

// libzmqConformance runs every fact's scripts on libzmq (libzmq.Conformance).
func libzmqConformance(fact model.FactID) ([]spec.FactResult, error) { return libzmq.Conformance(fact) }

// libzmqRun runs sc on real libzmq in real time (libzmq.Run).
func libzmqRun(sc app.Scenario, f *runFlags) ([]trace.Event, error) {
	cfg := libzmq.RunConfig{For: f.length.d}
	if f.restartAt.set {
		cfg.Crashes = append(cfg.Crashes, libzmq.Crash{Server: f.server, At: f.restartAt.d, Down: f.down.d})
	}
	trace, err := libzmq.Run(sc, cfg)
	if err != nil {
		return nil, fmt.Errorf("libzmq: %w", err)
	}
	return trace, nil
}
