//go:build libzmq && cgo

package libzmq

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/zeromq-lockstep/lockstep/model"
)

// abortChild, set in the environment, has TestStalledReadAborts run the
// scenario that aborts instead of watching it from outside.
const abortChild = "LOCKSTEP_LIBZMQ_ABORT_CHILD"

// TestStalledReadAborts pins where libzmq 4.3.4 aborts (F21,
// LIBZMQ-FINDINGS.md): a binding REQ restarts while the REP connected to
// it holds an unread request in a pipe at RCVHWM=1; the REP's reconnect
// stalls its handshake (the full pipe refuses the new peer's routing id),
// and the REP's read of the old request tells the stalled engine of room,
// which restart_input asserts it was waiting for. The scenario runs in a
// child process, which must die on the assertion; the model reports
// model.AbortStalledRead at the same read (TestF21_StalledReadAborts in
// package model).
func TestStalledReadAborts(t *testing.T) {
	if os.Getenv(abortChild) == "1" {
		stalledRead(t)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestStalledReadAborts$", "-test.count=1")
	cmd.Env = append(os.Environ(), abortChild+"=1")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var exit *exec.ExitError
	const assertion = "Assertion failed: _input_stopped"
	if !errors.As(err, &exit) || !strings.Contains(out.String(), assertion) {
		t.Fatalf("abort: the child did not die on %q (err %v); it printed:\n%s\nreproduce: go test -tags libzmq ./libzmq -run '^TestStalledReadAborts$' -v",
			assertion, err, out.String())
	}
	if !strings.Contains(out.String(), "stalled: read") {
		t.Fatalf("abort: the child died before the read:\n%s", out.String())
	}
}

// stalledRead is the child's scenario; it returns only if libzmq does not
// abort, which the parent reports.
func stalledRead(t *testing.T) {
	b, err := New()
	if err != nil {
		t.Fatal(err)
	}
	defer b.Shutdown()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	const ep = "tcp://c:5454"
	must(b.Open("c", model.REQ, model.Options{ReqRelaxed: true}))
	must(b.Bind("c", ep))
	must(b.Open("s", model.REP, model.Options{RcvHWM: 1}))
	must(b.Connect("s", ep))
	must(b.Advance(3 * time.Millisecond))
	must(b.Send("c", model.Message{"r0"}))
	must(b.Advance(3 * time.Millisecond))
	must(b.Close("c"))
	must(b.Restart("c"))
	must(b.Advance(250 * time.Millisecond))
	os.Stdout.WriteString("stalled: read\n")
	m, err := b.Recv("s")
	must(err)
	must(b.Advance(50 * time.Millisecond)) // the I/O thread takes the command
	t.Fatalf("libzmq did not abort: the REP read %q", m.Text())
}
