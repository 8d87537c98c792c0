package spec

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// zmq4Golden is the committed record of how zmq4 fares on the scripts
// that declare it: for each fact its status and, for each difference, the
// command with its expected and actual result lines. A difference is a
// finding, not a failure; a change in zmq4's behaviour (or in the
// backend) changes the record and fails the test. Regenerate with
// go test ./spec -run TestZMQ4Conformance -rewrite.
const zmq4Golden = "testdata/zmq4/conformance.txt"

func rewriting() bool {
	f := flag.Lookup("rewrite")
	return f != nil && f.Value.String() == "true"
}

func TestZMQ4Conformance(t *testing.T) {
	defer goleak.VerifyNone(t)
	start := time.Now()
	results, err := Conformance("zmq4", "")
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	b.WriteString("# How go-zeromq/zmq4 v0.17.0 fares on the scripts that declare backend zmq4.\n")
	b.WriteString("# Generated: go test ./spec -run TestZMQ4Conformance -rewrite\n")
	b.WriteString("# Differences are findings, not failures; a change here is a change in zmq4 or its backend.\n\n")
	WriteDetails(&b, results)
	if rewriting() {
		if err := os.MkdirAll(filepath.Dir(zmq4Golden), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(zmq4Golden, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(zmq4Golden)
	if err != nil {
		t.Fatalf("%v (generate it with -rewrite)", err)
	}
	if got := b.String(); got != string(want) {
		t.Errorf("zmq4 results differ from %s (regenerate with -rewrite if the change is intended):\n%s", zmq4Golden, got)
	}
	t.Logf("zmq4 conformance in %v", time.Since(start))
}
