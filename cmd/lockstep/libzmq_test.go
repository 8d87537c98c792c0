//go:build libzmq && cgo

package main

import (
	"strings"
	"testing"

	"go.uber.org/goleak"
)

// compare -backend libzmq agrees with the model's default profile on the
// blog's scenario, with and without a restart that loses a request
// (F19, F21, F24), on real libzmq in real time.
func TestCompareLibzmq(t *testing.T) {
	defer goleak.VerifyNone(t)
	for _, args := range [][]string{
		{"compare", "seed", "-backend", "libzmq", "-for", "1.5s"},
		{"compare", "seed", "-backend", "libzmq", "-for", "1s", "-restart-at", "0.35s", "-down", "200ms"},
	} {
		code, out, errs := call(t, args...)
		if code != 0 || !strings.HasSuffix(out, "agree\n") {
			t.Errorf("%v: exit %d, stderr %q:\n%s", args, code, errs, out)
		}
	}
}

// conformance -backend libzmq checks every fact; -port is refused.
func TestConformanceLibzmqFact(t *testing.T) {
	defer goleak.VerifyNone(t)
	code, out, errs := call(t, "conformance", "-backend", "libzmq", "-fact", "F1")
	if code != 0 || !strings.Contains(out, "libzmq: 1 conform, 0 differ, 0 not applicable") {
		t.Errorf("exit %d, stderr %q:\n%s", code, errs, out)
	}
	code, _, errs = call(t, "run", "seed", "-backend", "libzmq", "-port", "5000")
	if code != 2 || strings.Count(errs, "\n") != 1 {
		t.Errorf("-port with libzmq: exit %d, stderr %q; want exit 2, one line", code, errs)
	}
}
