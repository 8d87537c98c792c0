//go:build libzmq && cgo

// Package libzmq runs lockstep's scripts on real libzmq through
// github.com/pebbe/zmq4 (cgo; build with -tags libzmq, needs libzmq3-dev
// and pkg-config). libzmq is the reference the model follows
// (docs/reqrep-facts.md, F1..F24): where a script's expectation and
// libzmq differ, the model is fixed, or LIBZMQ-FINDINGS.md records where
// libzmq departs from RFC 28 or its own documentation.
//
// Importing the package registers the script backend "libzmq"
// (backend.Register), so that `lockstep conformance -backend libzmq` and
// the tests of this package can run every fact's scripts on it.
package libzmq
