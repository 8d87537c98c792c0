//go:build !(libzmq && cgo)

package main

import (
	"errors"

	"github.com/zeromq-lockstep/lockstep/model"
	"github.com/zeromq-lockstep/lockstep/properties/script"
)

// withLibzmq: this binary was built without -tags libzmq.
const withLibzmq = false

func libzmqConformance(string) ([]script.FactResult, error) {
	return nil, errors.New("libzmq: not built in")
}

func libzmqRun(model.Scenario, *runFlags) ([]model.TraceEvent, error) {
	return nil, errors.New("libzmq: not built in")
}
