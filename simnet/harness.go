package simnet

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"testing/synctest"
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
	synctest.Test(t, func(t *testing.T) {
		n := New()
		s = n.slot
		defer n.Close()
		f(t, n)
	})
	// Only now has every goroutine that could use the scheme exited.
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

// RunB is [Run] for benchmarks, whose *testing.B cannot enter a synctest
// bubble: it runs f as a test of its own through [testing.RunTests] and
// fails b if that test fails. Time only the work inside f (b's timer runs
// throughout; use b.ReportMetric for virtual-time rates).
func RunB(b *testing.B, f func(t *testing.T, n *Network)) {
	b.Helper()
	all := func(string, string) (bool, error) { return true, nil }
	ok := testing.RunTests(all, []testing.InternalTest{{
		Name: b.Name() + "/simnet",
		F:    func(t *testing.T) { Run(t, f) },
	}})
	if !ok {
		b.Fatal("simnet: the run failed")
	}
}
