package simnet

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/zeromq-lockstep/lockstep/internal/bubble"
)

// Run calls f with a new network inside a [testing/synctest] bubble, so
// every timer and sleep of f, of the programs it starts and of zmq4 runs
// on virtual time, starting at the bubble's epoch. When f returns, Run
// closes the network (stopping every host's programs); the bubble then
// ends once every goroutine has exited. A goroutine that can never exit,
// such as a socket f did not close or a zmq4 goroutine that leaks, makes
// synctest panic, which ends the test binary: run such cases with
// [Isolated].
//
// f gets the bubble's *testing.T; like any synctest test it must not call
// t.Run or t.Parallel.
func Run(t *testing.T, f func(t *testing.T, n *Network)) {
	t.Helper()
	var s *slot
	synctest.Test(t, func(t *testing.T) { inside(t, f, &s) })
	release(s)
}

// inside is the body of a bubble: a network for f, closed when f
// returns (or fails t), its scheme in *s.
func inside(t *testing.T, f func(t *testing.T, n *Network), s **slot) {
	n := New()
	*s = n.slot
	defer n.Close()
	f(t, n)
}

// release hands a bubble's scheme back; only once the bubble has ended
// has every goroutine that could use it exited.
func release(s *slot) {
	if s != nil {
		releaseSlot(s)
	}
}

// childEnv names the test that a child process started by Isolated runs.
const childEnv = "SIMNET_ISOLATED_TEST"

// Outcome is how an isolated run ended.
type Outcome struct {
	// Passed is true when the child process exited 0: f completed, the
	// bubble ended cleanly and the test did not fail.
	Passed bool
	// Output is the child's combined stdout and stderr (go test -v).
	Output string
}

// Leaked reports whether the child died because goroutines were left
// behind in the bubble (synctest's deadlock panic).
func (o Outcome) Leaked() bool {
	return strings.Contains(o.Output, "deadlock") && strings.Contains(o.Output, "synctest")
}

// Isolated runs Run(t, f) in a child process: the test binary again, with
// -test.run selecting only the calling test and an environment variable
// telling it that it is the child. A zmq4 bug that leaves goroutines
// behind (synctest panics) or hangs (the child's -test.timeout) is then a
// reported Outcome, not the end of the suite. In the child, Isolated runs
// f and then ends the test with t.SkipNow, so the caller's code after
// Isolated, which judges the Outcome, runs only in the parent.
//
// The caller must be a top-level test or a subtest whose name is unique
// under its parent; everything it does before Isolated runs twice.
func Isolated(t *testing.T, f func(t *testing.T, n *Network)) Outcome {
	t.Helper()
	if os.Getenv(childEnv) == t.Name() {
		Run(t, f)
		t.SkipNow()
	}
	parts := strings.Split(t.Name(), "/")
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
	}
	cmd := exec.Command(os.Args[0], "-test.run="+strings.Join(parts, "/"), "-test.v", "-test.count=1", "-test.timeout=2m")
	cmd.Env = append(os.Environ(), childEnv+"="+t.Name())
	out, err := cmd.CombinedOutput()
	return Outcome{Passed: err == nil, Output: string(out)}
}

// RunProgram is [Run] for code that has no *testing.T of its own: a
// program's main (lockstep compare runs zmq4 on simnet so), a benchmark,
// a rapid property. It runs f in a bubble of its own through lockstep's
// internal/bubble, which works in and outside go test (its doc says how),
// and reports whether f's t passed. A bubble that leaks goroutines still
// ends the process, as in Run.
func RunProgram(f func(t *testing.T, n *Network)) (passed bool, err error) {
	var s *slot
	passed, err = bubble.Run("simnet", func(t *testing.T) { inside(t, f, &s) })
	release(s)
	return passed, err
}

// RunB is [RunProgram] for benchmarks, whose *testing.B cannot enter a
// synctest bubble; it fails b if f fails. Time only the work inside f
// (b's timer runs throughout; use b.ReportMetric for virtual-time rates).
func RunB(b *testing.B, f func(t *testing.T, n *Network)) {
	b.Helper()
	ok, err := RunProgram(f)
	if err != nil || !ok {
		b.Fatalf("simnet: the run failed (%v)", err)
	}
}
