package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/zeromq-lockstep/lockstep/app"
	"github.com/zeromq-lockstep/lockstep/backend"
	"github.com/zeromq-lockstep/lockstep/sim"
	"github.com/zeromq-lockstep/lockstep/trace"
)

func cmdScenarios(args []string, stdout io.Writer) error {
	if len(args) > 0 {
		return usageErr("scenarios: takes no arguments, got %q", args[0])
	}
	for _, sc := range app.Scenarios() {
		fmt.Fprintf(stdout, "%-12s %s\n", sc.Name, sc.Summary)
	}
	return nil
}

// runFlags are the flags of `lockstep run`.
type runFlags struct {
	seed      uint64
	length    durationFlag
	restartAt durationFlag
	down      durationFlag
	server    string
	format    string
}

func (f *runFlags) register(fs *flag.FlagSet) {
	fs.Uint64Var(&f.seed, "seed", 1, "seed of the simulator's PRNG")
	f.length.d = sim.DefaultFor
	fs.Var(&f.length, "for", "virtual time to run")
	fs.Var(&f.restartAt, "restart-at", "crash the server at this virtual time")
	f.down.d = app.DefaultDown
	fs.Var(&f.down, "down", "how long the crashed server stays down")
	fs.StringVar(&f.server, "server", "", "which server -restart-at crashes (default: the first)")
	fs.StringVar(&f.format, "format", "text", "trace format: "+strings.Join(trace.Formats, ", "))
}

// scenario resolves the positional scenario name and checks the flags
// against it.
func (f *runFlags) scenario(cmd string, pos []string) (app.Scenario, error) {
	if len(pos) == 0 {
		return app.Scenario{}, usageErr("%s: no scenario (one of: %s)", cmd, strings.Join(app.ScenarioNames(), ", "))
	}
	if len(pos) > 1 {
		return app.Scenario{}, usageErr("%s: one scenario only, got %q", cmd, pos)
	}
	sc, err := app.LookupScenario(pos[0])
	if err != nil {
		return app.Scenario{}, usageErr("%s: %v", cmd, err)
	}
	if !slices.Contains(trace.Formats, f.format) {
		return app.Scenario{}, usageErr("%s: -format: unknown format %q (one of: %s)", cmd, f.format, strings.Join(trace.Formats, ", "))
	}
	if f.length.d == 0 {
		return app.Scenario{}, usageErr("%s: -for: must be positive", cmd)
	}
	if f.down.set && !f.restartAt.set {
		return app.Scenario{}, usageErr("%s: -down needs -restart-at", cmd)
	}
	if f.down.d == 0 {
		return app.Scenario{}, usageErr("%s: -down: must be positive", cmd)
	}
	if f.server != "" && !f.restartAt.set {
		return app.Scenario{}, usageErr("%s: -server needs -restart-at", cmd)
	}
	if f.restartAt.set && f.restartAt.d >= f.length.d {
		return app.Scenario{}, usageErr("%s: -restart-at %v is not before the end of the run (-for %v): the crash would never happen", cmd, f.restartAt.d, f.length.d)
	}
	if f.restartAt.set {
		if len(sc.Servers) == 0 {
			return app.Scenario{}, usageErr("%s: -restart-at: scenario %s has no server", cmd, sc.Name)
		}
		if f.server == "" {
			f.server = sc.Servers[0].Name
		}
		if !slices.ContainsFunc(sc.Servers, func(s app.Server) bool { return s.Name == f.server }) {
			return app.Scenario{}, usageErr("%s: -server: scenario %s has no server %q", cmd, sc.Name, f.server)
		}
	}
	return sc, nil
}

func (f *runFlags) simConfig() sim.Config {
	return sim.Config{Seed: f.seed, For: f.length.d, Faults: f.faults()}
}

func cmdRun(args []string, stdout io.Writer) error {
	var f runFlags
	var b backendFlags
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	f.register(fs)
	b.register(fs)
	pos, help, err := parseCommand(fs, args, stdout)
	if help || err != nil {
		return err
	}
	sc, err := f.scenario("run", pos)
	if err != nil {
		return err
	}
	r, err := b.runner("run")
	if err != nil {
		return err
	}
	return streamRun(sc, &f, b, r, stdout)
}

// streamRun runs sc's applications on the chosen backend and prints each
// event as it happens, so that `-for 1000h` on the simulator prints for a
// while rather than running out of memory. Only msc needs the whole trace
// (its lanes come first), and it holds at most trace.MaxMSCEvents. The
// run stops at the first minute after a failed write: a closed pipe or a
// diagram too long ends it at once rather than after the whole -for.
func streamRun(sc app.Scenario, f *runFlags, b backendFlags, r backend.Runner, stdout io.Writer) error {
	tw, err := trace.NewWriter(stdout, f.format)
	if err != nil {
		return usageErr("run: %v", err)
	}
	var werr error
	cfg := app.RunConfig{For: f.length.d, Faults: f.faults()}
	cfg.Sink = func(e trace.Event) {
		if werr == nil {
			werr = tw.Write(e)
		}
	}
	cfg.Checkpoint = func(now time.Duration, queues []int) bool {
		if streamProbe != nil {
			streamProbe(now, queues)
		}
		return werr == nil
	}
	if err := runApps("run", b.backend, r, b.options(f.seed, false), sc, cfg); err != nil {
		return err
	}
	return writeErr("run", tw.Close())
}

// streamProbe, when set (by a test), sees the run at each virtual minute
// (app.RunConfig.Checkpoint): the memory test measures the heap there.
var streamProbe func(now time.Duration, queues []int)

// writeErr is the error of a trace writer: a diagram over its limit is
// bad input; a failed write is reported by the command's output.
func writeErr(cmd string, err error) error {
	var tm trace.TooManyEventsError
	if errors.As(err, &tm) {
		return usageErr("%s: %v", cmd, err)
	}
	return err
}
