// Package bubble runs a function in a [testing/synctest] bubble from any
// program, not only from go test.
//
// Why it exists: a synctest bubble is made only by [synctest.Test], which
// needs a *testing.T, and Go 1.26 has no other way in (synctest.Run is
// gone). lockstep's CLI (compare, run -net simnet, replay) must run zmq4 on
// simnet's virtual time in a plain binary. The testing package makes a
// fresh top-level *testing.T in [testing.RunTests], an exported (if
// internal-minded) function, but outside go test RunTests runs nothing:
// the list of -test.cpu values it loops over is filled only by
// [testing.M.Run]. So, once per process and only where M.Run has not run
// (outside go test, or in a test binary's TestMain before m.Run), [Run]
// builds an M with [testing.MainStart] and runs it with one empty
// test. MainStart takes an unexported interface, testDeps (see
// $GOROOT/src/testing/testing.go and testing/internal/testdeps); [deps]
// implements it with no profiling, no fuzzing and no coverage, which
// suffices: M.Run only registers the testing flags (they get their
// defaults; lockstep's own flags live in flag sets), fills the CPU list
// and prints "PASS", which Run sends to /dev/null. After that every Run
// is one RunTests call.
//
// Inside a test binary M.Run has already run, so Run calls RunTests at
// once. RunTests then obeys the binary's flags, and Run undoes what would
// be wrong for one bubble: with -count=N its test runs only the first
// time, with -cpu it restores GOMAXPROCS, -run and -skip are not applied
// to it, and with -failfast after a failure it reports that it could not
// run. With -v every bubble prints its "=== RUN" line.
//
// MainStart "is not subject to the Go 1 compatibility document": a new Go
// release may change testDeps, and this package then fails to compile,
// loudly, rather than misbehave. TestRunOutsideGoTest builds a small
// binary and runs it, so a change that compiles but no longer works is
// caught too.
package bubble

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"reflect"
	"runtime"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// ErrNotRun is returned when the testing package declined to run the
// bubble (go test -failfast after an earlier failure).
var ErrNotRun = errors.New("bubble: the testing package did not run the bubble (-failfast after a failure?)")

var (
	initOnce sync.Once
	// mu serialises Runs: RunTests changes GOMAXPROCS with -cpu, and one
	// bubble at a time keeps that undoable.
	mu sync.Mutex
)

// Run calls f in a new synctest bubble and reports whether its test
// passed (f did not fail t). f gets the bubble's *testing.T; as in any
// synctest test it must not call t.Run or t.Parallel. The bubble ends
// when f returns and every goroutine it started has exited; a goroutine
// that cannot exit makes synctest panic, which ends the process, so f
// must close what it opens (simnet's Isolated runs risky cases in a child
// process).
//
// Output a failing t logs goes to standard output, as go test prints it;
// callers that need a verdict should record it in f and not fail t.
func Run(name string, f func(t *testing.T)) (passed bool, err error) {
	initOnce.Do(setup)
	mu.Lock()
	defer mu.Unlock()
	procs := runtime.GOMAXPROCS(0)
	defer runtime.GOMAXPROCS(procs)
	ran := false
	skip := ""
	if fl := flag.Lookup("test.skip"); fl != nil {
		skip = fl.Value.String()
	}
	// Select the one test whatever -run says, unless -skip says exactly
	// the same pattern (then both patterns are one string, and skipping
	// would win): match every pattern but -skip's.
	match := func(pat, _ string) (bool, error) { return skip == "" || pat != skip, nil }
	ok := testing.RunTests(match, []testing.InternalTest{{
		Name: name,
		F: func(t *testing.T) {
			if ran {
				t.SkipNow() // -count=N: once is enough
			}
			ran = true
			synctest.Test(t, f)
		},
	}})
	if !ran {
		return false, ErrNotRun
	}
	return ok, nil
}

// setup makes RunTests work outside go test (see the package doc). A test
// binary can also run a program before M.Run (a TestMain that calls main,
// as lockstep's own does to test the binary): its flags are not parsed
// yet, and then, or when a probe runs nothing, it takes the MainStart path
// too.
func setup() {
	if testing.Testing() && flag.Parsed() && probe() {
		return
	}
	if !flag.Parsed() {
		// M.Run would parse the process's arguments as testing flags.
		_ = flag.CommandLine.Parse(nil)
	}
	m := testing.MainStart(deps{}, []testing.InternalTest{{Name: "bubble-setup", F: func(*testing.T) {}}}, nil, nil, nil)
	code := 0
	quiet(func() { code = m.Run() })
	if code != 0 {
		panic(fmt.Sprintf("bubble: testing.M.Run of an empty test exited %d", code))
	}
}

// probe reports whether RunTests runs a test: M.Run has filled its list
// of CPU counts. Its output (a warning when nothing ran) is discarded.
func probe() bool {
	ran := false
	quiet(func() {
		testing.RunTests(func(string, string) (bool, error) { return true, nil },
			[]testing.InternalTest{{Name: "bubble-probe", F: func(*testing.T) { ran = true }}})
	})
	return ran
}

// quiet runs f with standard output and error sent to /dev/null.
func quiet(f func()) {
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		f()
		return
	}
	defer null.Close()
	out, errw := os.Stdout, os.Stderr
	os.Stdout, os.Stderr = null, null
	defer func() { os.Stdout, os.Stderr = out, errw }()
	f()
}

// corpusEntry is testing's corpusEntry, an alias of this unnamed struct.
type corpusEntry = struct {
	Parent     string
	Path       string
	Data       []byte
	Values     []any
	Generation int
	IsSeed     bool
}

var errNone = errors.New("bubble: not supported outside go test")

// deps implements testing's testDeps for MainStart: nothing to profile,
// fuzz or cover.
type deps struct{}

func (deps) ImportPath() string                          { return "" }
func (deps) ModulePath() string                          { return "" }
func (deps) MatchString(pat, str string) (bool, error)   { return true, nil }
func (deps) SetPanicOnExit0(bool)                        {}
func (deps) StartCPUProfile(io.Writer) error             { return errNone }
func (deps) StopCPUProfile()                             {}
func (deps) StartTestLog(io.Writer)                      {}
func (deps) StopTestLog() error                          { return nil }
func (deps) WriteProfileTo(string, io.Writer, int) error { return errNone }
func (deps) CoordinateFuzzing(time.Duration, int64, time.Duration, int64, int, []corpusEntry, []reflect.Type, string, string) error {
	return errNone
}
func (deps) RunFuzzWorker(func(corpusEntry) error) error              { return errNone }
func (deps) ReadCorpus(string, []reflect.Type) ([]corpusEntry, error) { return nil, nil }
func (deps) CheckCorpus([]any, []reflect.Type) error                  { return nil }
func (deps) ResetCoverage()                                           {}
func (deps) SnapshotCoverage()                                        {}
func (deps) InitRuntimeCoverage() (string, func(string, string) (string, error), func() float64) {
	return "", nil, nil
}
