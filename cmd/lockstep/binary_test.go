package main

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/zeromq-lockstep/lockstep/model"

	"go.uber.org/goleak"
)

// TestMain lets a test run the command in a process of its own: with
// LOCKSTEP_RUN_MAIN=1 the test binary is lockstep.
func TestMain(m *testing.M) {
	if os.Getenv("LOCKSTEP_RUN_MAIN") == "1" {
		main()
	}
	// compare, conformance -backend zmq4 and run -backend zmq4 open real
	// sockets: none may outlive the tests (H5's reader excepted by name,
	// as in realnet).
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("github.com/go-zeromq/zmq4.(*repReader).listen"))
}

// lockstepBinary runs the command as a user does, in its own process,
// where no testing flags have been parsed.
func lockstepBinary(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "LOCKSTEP_RUN_MAIN=1")
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

// TestReplayAsABinary: replay runs rapid outside go test, where rapid's
// call of testing.Short would panic unless the command line was parsed.
// Inside go test the flags are parsed already, which hid exactly that.
func TestReplayAsABinary(t *testing.T) {
	file := writeFailFile(t, "TestLockstepOrdering", model.Mutation{SecondSend: true})
	out, errs, code := lockstepBinary(t, "replay", file)
	if code != 0 || strings.Contains(errs, "panic") {
		t.Fatalf("replay: exit %d\nstderr:\n%s", code, errs)
	}
	if !strings.Contains(out, " send ") {
		t.Fatalf("replay printed no trace of the failing sends:\n%s", out)
	}
}

// TestRunAsABinary: the README's first command works as a process.
func TestRunAsABinary(t *testing.T) {
	out, errs, code := lockstepBinary(t, "run", "seed", "-for", "1s", "-format", "node")
	if code != 0 || !strings.HasPrefix(out, "0 message queued\n{ response: '0' }\n") {
		t.Fatalf("run: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
}
