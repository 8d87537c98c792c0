//go:build !(libzmq && cgo)

package main

import (
	"errors"

	"github.com/zeromq-lockstep/lockstep/model"
	"github.com/zeromq-lockstep/lockstep/spec"
)

// withLibzmq: this binary was built without -tags libzmq.
const withLibzmq = false

func libzmqConformance(model.FactID) ([]spec.FactResult, error) {
	return nil, errors.New("libzmq: not built in")
}
