//go:build libzmq && cgo

package main

import (
	"github.com/zeromq-lockstep/lockstep/libzmq"
	"github.com/zeromq-lockstep/lockstep/model"
	"github.com/zeromq-lockstep/lockstep/spec"
)

// withLibzmq: this binary was built with -tags libzmq and links libzmq.
const withLibzmq = true

// libzmqConformance runs every fact's scripts on libzmq (libzmq.Conformance).
func libzmqConformance(fact model.FactID) ([]spec.FactResult, error) { return libzmq.Conformance(fact) }
