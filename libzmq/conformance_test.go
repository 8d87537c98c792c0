//go:build libzmq && cgo

package libzmq

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"go.uber.org/goleak"

	"github.com/zeromq-lockstep/lockstep/properties/script"
)

var rewrite = flag.Bool("rewrite", false, "regenerate "+golden)

// golden is the committed record of how libzmq fares on every fact's
// scripts: for each fact its status and, for each difference, the
// command with its expected and actual result lines. libzmq is the
// reference, so a difference is either a model fix still to make or a
// finding of LIBZMQ-FINDINGS.md; a change in libzmq's behaviour (or in
// the backend) changes the record and fails the test. Regenerate with
// go test -tags libzmq ./libzmq -run TestLibzmqConformance -rewrite.
const golden = "../properties/script/testdata/libzmq/conformance.txt"

func TestLibzmqConformance(t *testing.T) {
	defer goleak.VerifyNone(t)
	results, err := script.Conformance(Name, "")
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	b.WriteString("# How libzmq " + Version() + " (github.com/pebbe/zmq4) fares on every fact's scripts.\n")
	b.WriteString("# Generated: go test -tags libzmq ./libzmq -run TestLibzmqConformance -rewrite\n")
	b.WriteString("# libzmq is the reference: a difference is a model fix to make or a finding (libzmq/LIBZMQ-FINDINGS.md).\n\n")
	script.WriteDetails(&b, results)
	if *rewrite {
		if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (generate it with -rewrite)", err)
	}
	if got := b.String(); got != string(want) {
		t.Errorf("libzmq results differ from %s (regenerate with -rewrite if the change is intended):\n%s", golden, got)
	}
}
