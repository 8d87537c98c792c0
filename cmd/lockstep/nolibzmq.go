//go:build !(libzmq && cgo)

package main

import (
	"errors"

	"github.com/zeromq-lockstep/lockstep/app"
	"github.com/zeromq-lockstep/lockstep/model"
	"github.com/zeromq-lockstep/lockstep/spec"
	"github.com/zeromq-lockstep/lockstep/trace"
)

// withLibzmq: this binary was built without -tags libzmq.
const withLibzmq = false

func libzmqConformance(model.FactID) ([]spec.FactResult, error) {
	return nil, errors.New("libzmq: not built in")
}

func libzmqRun(app.Scenario, *runFlags) ([]trace.Event, error) {
	return nil, errors.New("libzmq: not built in")
}
