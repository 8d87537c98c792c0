package main

import (
	"strings"
	"testing"
)

func TestCompareSeedAgrees(t *testing.T) {
	code, out, errs := call(t, "compare", "seed", "-for", "2s", "-restart-at", "1.5s", "-down", "300ms")
	if code != 0 || !strings.HasSuffix(out, "agree\n") {
		t.Fatalf("exit %d, stderr %q, stdout:\n%s", code, errs, out)
	}
}

func TestBackendBadInput(t *testing.T) {
	for _, args := range [][]string{
		{"run", "seed", "-backend", "bogus"},
		{"run", "seed", "-port", "5454"},
		{"run", "seed", "-backend", "zmq4", "-port", "70000"},
		{"compare"},
		{"compare", "nope"},
	} {
		if code, _, errs := call(t, args...); code != 2 || errs == "" {
			t.Errorf("%q: exit %d, stderr %q; want 2 and a message", args, code, errs)
		}
	}
}
