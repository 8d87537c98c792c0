package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/zeromq-lockstep/lockstep/model"
	"github.com/zeromq-lockstep/lockstep/sim"
)

func cmdScenarios(args []string, stdout io.Writer) error {
	if len(args) > 0 {
		return usageErr("scenarios: takes no arguments, got %q", args[0])
	}
	for _, sc := range model.Scenarios() {
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
	f.down.d = model.DefaultDown
	fs.Var(&f.down, "down", "how long the crashed server stays down")
	fs.StringVar(&f.server, "server", "", "which server -restart-at crashes (default: the first)")
	fs.StringVar(&f.format, "format", "text", "trace format: "+strings.Join(model.Formats, ", "))
}

// scenario resolves the positional scenario name and checks the flags
// against it.
func (f *runFlags) scenario(cmd string, pos []string) (model.Scenario, error) {
	if len(pos) == 0 {
		return model.Scenario{}, usageErr("%s: no scenario (one of: %s)", cmd, strings.Join(model.ScenarioNames(), ", "))
	}
	if len(pos) > 1 {
		return model.Scenario{}, usageErr("%s: one scenario only, got %q", cmd, pos)
	}
	sc, err := model.LookupScenario(pos[0])
	if err != nil {
		return model.Scenario{}, usageErr("%s: %v", cmd, err)
	}
	if !slices.Contains(model.Formats, f.format) {
		return model.Scenario{}, usageErr("%s: -format: unknown format %q (one of: %s)", cmd, f.format, strings.Join(model.Formats, ", "))
	}
	if f.length.d == 0 {
		return model.Scenario{}, usageErr("%s: -for: must be positive", cmd)
	}
	if f.down.set && !f.restartAt.set {
		return model.Scenario{}, usageErr("%s: -down needs -restart-at", cmd)
	}
	if f.down.d == 0 {
		return model.Scenario{}, usageErr("%s: -down: must be positive", cmd)
	}
	if f.server != "" && !f.restartAt.set {
		return model.Scenario{}, usageErr("%s: -server needs -restart-at", cmd)
	}
	if f.restartAt.set {
		if len(sc.Servers) == 0 {
			return model.Scenario{}, usageErr("%s: -restart-at: scenario %s has no server", cmd, sc.Name)
		}
		if f.server == "" {
			f.server = sc.Servers[0].Name
		}
		if !slices.ContainsFunc(sc.Servers, func(s model.Server) bool { return s.Name == f.server }) {
			return model.Scenario{}, usageErr("%s: -server: scenario %s has no server %q", cmd, sc.Name, f.server)
		}
	}
	return sc, nil
}

func (f *runFlags) simConfig() sim.Config {
	cfg := sim.Config{Seed: f.seed, For: f.length.d}
	if f.restartAt.set {
		cfg.Faults = append(cfg.Faults, sim.Crash{Server: f.server, At: f.restartAt.d, Down: f.down.d})
	}
	return cfg
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
	if err := b.check("run"); err != nil {
		return err
	}
	if b.backend == backendSim && f.format != "msc" {
		return streamRun(sc, &f, stdout)
	}
	trace, err := runTrace(sc, &f, b)
	if err != nil {
		return err
	}
	out, err := model.FormatTrace(trace, f.format)
	if err != nil {
		return usageErr("run: %v", err)
	}
	_, err = stdout.Write(out)
	return err
}

// streamRun runs sc on the simulator and prints each event as it happens,
// so that `-for 1000h` prints for a while rather than running out of
// memory. Only msc needs the whole trace (its lanes come first).
func streamRun(sc model.Scenario, f *runFlags, stdout io.Writer) error {
	w := bufio.NewWriterSize(stdout, 64<<10)
	var werr error
	cfg := f.simConfig()
	cfg.Sink = func(e model.TraceEvent) {
		if werr != nil {
			return
		}
		line, err := model.FormatTrace([]model.TraceEvent{e}, f.format)
		if err != nil {
			werr = usageErr("run: %v", err)
			return
		}
		_, werr = w.Write(line)
	}
	if _, err := sim.Run(sc, cfg); err != nil {
		return usageErr("run: %v", err)
	}
	if werr != nil {
		return werr
	}
	return w.Flush()
}
