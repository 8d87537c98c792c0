package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/zeromq-lockstep/lockstep/properties"
	"github.com/zeromq-lockstep/lockstep/trace"
)

// cmdReplay re-runs a rapid fail file saved by `go test ./properties` and
// prints the trace of its failing sequence. Exit 0 when the failure
// reproduces, 1 when it no longer does, 2 for a bad file or flag.
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
