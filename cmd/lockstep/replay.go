package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/zeromq-lockstep/lockstep/check"
	"github.com/zeromq-lockstep/lockstep/internal/safefile"
	"github.com/zeromq-lockstep/lockstep/properties"
	"github.com/zeromq-lockstep/lockstep/trace"
)

// cmdReplay re-runs a rapid fail file saved by `go test ./properties`, or
// a counterexample file saved by `lockstep check -cex`, and prints the
// trace of its failing sequence. Exit 0 when the failure reproduces, 1
// when it no longer does, 2 for a bad file or flag.
func cmdReplay(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	format := fs.String("format", "text", "trace format: "+strings.Join(trace.Formats, ", "))
	pos, help, err := parseCommand(fs, args, stdout)
	if help || err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErr("replay: want one fail file, got %d arguments", len(pos))
	}
	if !slices.Contains(trace.Formats, *format) {
		return usageErr("replay: -format: unknown format %q (one of: %s)", *format, strings.Join(trace.Formats, ", "))
	}
	// One bounded read tells check's files from rapid's; whatever it
	// refuses, properties.Replay refuses again with its own message.
	if data, err := safefile.ReadRegular(pos[0], max(properties.MaxFailFileBytes, check.MaxCounterexampleBytes)); err == nil && check.IsCounterexample(data) {
		return replayCounterexample(data, *format, "replay", stdout, stderr)
	}
	r, err := properties.Replay(pos[0])
	if err != nil {
		if errors.Is(err, properties.ErrBadFailFile) {
			return usageErr("replay: %s", strings.TrimPrefix(err.Error(), properties.ErrBadFailFile.Error()+": "))
		}
		return err
	}
	out, err := trace.Render(r.Trace, *format)
	if err != nil {
		return usageErr("replay: %v", err)
	}
	if _, err := stdout.Write(out); err != nil {
		return err
	}
	// What the sequence was and how it failed go to stderr, so stdout
	// stays a trace in the chosen format.
	fmt.Fprintf(stderr, "replay: %s (%s), %d operations:\n", r.Test, r.Config, len(r.Ops))
	for i, op := range r.Ops {
		fmt.Fprintf(stderr, "  op %d: %v\n", i+1, op)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(stderr, "  %s\n", n)
	}
	if !r.Failed {
		return &exitError{code: 1, msg: fmt.Sprintf("replay: %s no longer fails on this sequence", r.Test)}
	}
	fmt.Fprintf(stderr, "replay: %s\n", r.Message)
	return nil
}

// replayCounterexample replays a file of check's (data) and prints its
// trace in format on stdout, and its steps and verdict on stderr, as
// cmdReplay does for a fail file; who names the command in messages.
func replayCounterexample(data []byte, format, who string, stdout, stderr io.Writer) error {
	f, err := check.ParseCounterexample(data)
	if err != nil {
		return usageErr("%s: %s", who, strings.TrimPrefix(err.Error(), check.ErrBadCounterexample.Error()+": "))
	}
	r, err := check.Replay(f)
	if err != nil {
		return usageErr("%s: %s", who, strings.TrimPrefix(err.Error(), check.ErrBadCounterexample.Error()+": "))
	}
	out, err := check.FormatTrace(r.Trace, format)
	if err != nil {
		return usageErr("%s: %v", who, err)
	}
	if _, err := stdout.Write(out); err != nil {
		return err
	}
	cx := f.Found
	fmt.Fprintf(stderr, "%s: check counterexample (%s), %s, %d steps:\n", who, f.Config, cx.Rule, len(cx.Steps))
	for i, st := range cx.Steps {
		mark := ""
		if cx.Lasso && i == cx.LoopAt {
			mark = "   <- the loop starts here"
		}
		fmt.Fprintf(stderr, "  step %d: %s%s\n", i+1, st, mark)
	}
	if r.Violation == "" {
		return &exitError{code: 1, msg: fmt.Sprintf("%s: the counterexample no longer fails: %s", who, r.Note)}
	}
	fmt.Fprintf(stderr, "%s: %s\n", who, r.Violation)
	return nil
}
