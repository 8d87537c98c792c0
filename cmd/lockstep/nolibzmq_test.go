//go:build !(libzmq && cgo)

package main

import (
	"strings"
	"testing"
)

// A binary built without -tags libzmq answers -backend libzmq with one
// line saying how to build it, exit 2.
func TestBackendLibzmqNotBuilt(t *testing.T) {
	for _, args := range [][]string{
		{"run", "seed", "-backend", "libzmq"},
		{"compare", "seed", "-backend", "libzmq"},
		{"conformance", "-backend", "libzmq"},
	} {
		code, out, errs := call(t, args...)
		if code != 2 || out != "" || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, "go build -tags libzmq ./cmd/lockstep") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 2 and one line on how to build with libzmq", args, code, out, errs)
		}
	}
}
