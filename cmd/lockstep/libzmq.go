//go:build libzmq && cgo

package main

import (
	"fmt"

	"github.com/zeromq-lockstep/lockstep/libzmq"
	"github.com/zeromq-lockstep/lockstep/model"
	"github.com/zeromq-lockstep/lockstep/properties/script"
)

// withLibzmq: this binary was built with -tags libzmq and links libzmq.
const withLibzmq = true

// libzmqConformance runs every fact's scripts on libzmq (libzmq.Conformance).
func libzmqConformance(fact string) ([]script.FactResult, error) { return libzmq.Conformance(fact) }

// libzmqRun runs sc on real libzmq in real time (libzmq.Run).
func libzmqRun(sc model.Scenario, f *runFlags) ([]model.TraceEvent, error) {
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
