// Command lockstep runs ZeroMQ REQ/REP scenarios on lockstep's model and
// prints what happened.
//
//	lockstep run seed                      # the blog's experiment, 10 virtual seconds
//	lockstep run seed -restart-at 2.5s     # the server crashes holding a request
//	lockstep run seed -format node         # what the blog's Node client prints
//	lockstep scenarios                     # the built-in scenarios
//
// Bad input gets a one-line message on stderr and exit status 2.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	_ "github.com/zeromq-lockstep/lockstep/backend/all" // every backend, for -backend
	"github.com/zeromq-lockstep/lockstep/internal/safefile"
)

// exitError carries an exit status and the one line to print.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

// usageErr is bad input: exit status 2.
func usageErr(format string, args ...any) error {
	return &exitError{code: 2, msg: fmt.Sprintf(format, args...)}
}

const usage = `lockstep: ZeroMQ REQ/REP semantics, executable

usage:
  lockstep run SCENARIO [-seed N] [-for D] [-restart-at D] [-down D] [-server NAME] [-format text|node|jsonl|msc]
               [-backend sim|zmq4] [-net simnet|tcp] [-port N]   zmq4: real zmq4 on simnet (virtual
               time, the default) or with -net tcp on 127.0.0.1 in real time
  lockstep compare SCENARIO [-seed N] [-for D] [-restart-at D -down D] [-all] [-net simnet|tcp]
               the model under the zmq4 profile against real zmq4; exit 0 agree, 1 differ
  lockstep scenarios
  lockstep replay FILE [-format text|node|jsonl|msc]   re-run a rapid fail file from go test ./properties,
               or a counterexample from lockstep check -cex; exit 0 it still fails, 1 it no longer does
  lockstep spec [-o FILE] [-readme README.md]   print SPEC.md; refresh the README's diagrams
  lockstep conformance [-backend sim|zmq4] [-fact F5] [-v]   every fact's scripts on a backend;
               exit 0 all applicable facts conform, 1 some differ
  lockstep check [-clients 2 -servers 2 -requests 3 -crashes 1 ...] [-o report.json] [-cex FILE] [-part I/N]
               explore every reachable state; exit 0 no violation, 1 a violation

Durations are Go durations (100ms, 2.5s, 1h) of virtual time.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is main without the process: it returns the exit status. Every
// command writes through one safefile.Output, so output that could not be
// written (a full disk, a closed pipe) is exit status 2, whatever the
// command said; and every message is one line.
func run(args []string, stdout, stderr io.Writer) int {
	out := safefile.NewOutput(stdout)
	err := dispatch(args, out, stderr)
	if werr := out.Err(); werr != nil {
		fmt.Fprintln(stderr, "lockstep: cannot write output: "+oneLine(werr.Error()))
		return 2
	}
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.msg != "" {
			fmt.Fprintln(stderr, "lockstep: "+oneLine(ee.msg))
		}
		return ee.code
	}
	fmt.Fprintln(stderr, "lockstep: "+oneLine(err.Error()))
	return 1
}

// oneLine keeps a message on one line and free of raw control
// characters: messages quote untrusted text with %q, and this escapes any
// that slipped through another way (invalid UTF-8 too).
func oneLine(s string) string {
	var b strings.Builder
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func dispatch(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageErr("no command (try: lockstep run seed; lockstep -h)")
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return nil
	case "run":
		return cmdRun(args[1:], stdout)
	case "compare":
		return cmdCompare(args[1:], stdout)
	case "scenarios":
		return cmdScenarios(args[1:], stdout)
	case "replay":
		return cmdReplay(args[1:], stdout, stderr)
	case "conformance":
		return cmdConformance(args[1:], stdout)
	case "spec":
		return cmdSpec(args[1:], stdout)
	case "check":
		return cmdCheck(args[1:], stdout, stderr)
	default:
		return usageErr("unknown command %q (commands: run, compare, scenarios, replay, spec, conformance, check)", args[0])
	}
}
