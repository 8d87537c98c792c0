package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/zeromq-lockstep/lockstep/internal/safefile"
)

// durationFlag is a flag.Value for a non-negative virtual duration that
// remembers whether it was set.
type durationFlag struct {
	d   time.Duration
	set bool
}

func (f *durationFlag) String() string { return f.d.String() }

func (f *durationFlag) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("not a duration (want e.g. 100ms, 2.5s, 1h)")
	}
	if d < 0 {
		return fmt.Errorf("negative duration")
	}
	f.d, f.set = d, true
	return nil
}

// parseInterleaved parses flags that may come before or after positional
// arguments ("run seed -seed 3" and "run -seed 3 seed") and returns the
// positional ones. Errors name the flag and are usage errors.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	fs.SetOutput(io.Discard)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usageErr("%s: %s", fs.Name(), flagProblem(err))
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// parseCommand parses a command's flags and positional arguments. For -h
// it prints the usage and reports help, which ends the command with exit
// status 0.
func parseCommand(fs *flag.FlagSet, args []string, stdout io.Writer) (pos []string, help bool, err error) {
	pos, err = parseInterleaved(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, usage)
		return nil, true, nil
	}
	return pos, false, err
}

// flagProblem is the flag package's error with the user's text quoted: it
// echoes an unknown flag or a bad syntax raw. (Values it already quotes.)
func flagProblem(err error) string {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: "); ok {
		return "unknown flag " + safefile.Quote(name, 80)
	}
	if arg, ok := strings.CutPrefix(msg, "bad flag syntax: "); ok {
		return "bad flag syntax " + safefile.Quote(arg, 80)
	}
	return msg
}
