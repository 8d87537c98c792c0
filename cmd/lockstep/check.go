package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/zeromq-lockstep/lockstep/check"
	"github.com/zeromq-lockstep/lockstep/internal/safefile"
	"github.com/zeromq-lockstep/lockstep/model"
)

// mutations names the model's deliberate defects for -mutation.
var mutations = map[string]model.Mutation{
	"second-send":         {SecondSend: true},
	"reorder-requests":    {ReorderRequests: true},
	"keep-held-on-crash":  {KeepHeldOnCrash: true},
	"resend-on-reconnect": {ResendOnReconnect: true},
	"accept-any-id":       {AcceptAnyID: true},
	"shared-choices":      {SharedChoices: true},
	"queue-drops-above-3": {QueueDropsAbove: 3},
}

// cmdCheck explores a configuration exhaustively (package check). Exit 0:
// no violation; 1: a violation, printed as a trace; 2: bad input.
func cmdCheck(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	var cfg check.Config
	fs.IntVar(&cfg.Clients, "clients", 2, "REQ clients")
	fs.IntVar(&cfg.Servers, "servers", 2, "REP servers")
	bind := fs.String("bind", "server", "which side binds: server or client")
	fs.IntVar(&cfg.Requests, "requests", 3, "requests per client, at most")
	fs.IntVar(&cfg.Faults.Crashes, "crashes", 1, "server crashes, at most")
	restarts := fs.Int("restarts", -1, "server restarts, at most (default: as many as crashes)")
	fs.IntVar(&cfg.Faults.Cuts, "cuts", 0, "link cuts, at most (healing is free)")
	fs.IntVar(&cfg.Faults.Disconnects, "disconnects", 0, "client disconnect-and-reconnects, at most")
	fs.BoolVar(&cfg.Options.ReqRelaxed, "relaxed", false, "ZMQ_REQ_RELAXED on every client (F20)")
	fs.BoolVar(&cfg.Options.ReqCorrelate, "correlate", false, "ZMQ_REQ_CORRELATE on every client (F7)")
	fs.BoolVar(&cfg.Options.Immediate, "immediate", false, "ZMQ_IMMEDIATE on every client (F13)")
	fs.IntVar(&cfg.Options.SndHWM, "sndhwm", 0, "ZMQ_SNDHWM of every client (0: default)")
	profile := fs.String("profile", "libzmq", "model profile: libzmq or zmq4")
	fs.BoolVar(&cfg.Pirate, "pirate", false, "clients are Lazy Pirates: timeout, close, reopen, resend")
	fs.IntVar(&cfg.Retries, "retries", 1, "Lazy Pirate retries before a request is abandoned")
	mutation := fs.String("mutation", "", "a deliberate defect: "+strings.Join(mutationNames(), ", "))
	fs.BoolVar(&cfg.Liveness, "liveness", true, "check that every request settles once faults stop")
	fs.BoolVar(&cfg.Determinism, "determinism", false, "run every step twice and compare (half speed)")
	noSym := fs.Bool("no-symmetry", false, "explore every renaming of clients and servers separately")
	fs.IntVar(&cfg.MaxStates, "max-states", 0, "stop after this many distinct states (0: no limit)")
	fs.IntVar(&cfg.Workers, "workers", 0, "goroutines expanding states (0: every core)")
	part := fs.String("part", "", "explore only part I of N (I/N, e.g. 2/8): independent jobs, one part each, cover the whole")
	fs.IntVar(&cfg.SplitWidth, "split-width", 0, fmt.Sprintf("with -part, the parts divide at the first level with this many states per part (0: %d)", check.DefaultSplitWidth))
	format := fs.String("format", "text", "counterexample trace format: text, jsonl, msc")
	report := fs.String("o", "", "write a JSON report to this file")
	cex := fs.String("cex", "", "write the counterexample to this file (replay it with lockstep replay FILE)")
	replay := fs.String("replay", "", "replay a counterexample file written by -cex (as lockstep replay FILE does)")
	quiet := fs.Bool("q", false, "no progress line")
	pos, help, err := parseCommand(fs, args, stdout)
	if help || err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageErr("check: unexpected argument %q", pos[0])
	}
	if !slices.Contains([]string{"text", "jsonl", "msc"}, *format) {
		return usageErr("check: -format: unknown format %q (one of: text, jsonl, msc)", *format)
	}
	if *replay != "" {
		return checkReplay(*replay, *format, stdout, stderr)
	}
	switch *bind {
	case "server":
	case "client":
		cfg.ClientsBind = true
	default:
		return usageErr("check: -bind: want server or client, got %q", *bind)
	}
	switch *profile {
	case "libzmq":
		cfg.Profile = model.LibZMQ
	case "zmq4":
		cfg.Profile = model.ZMQ4
	default:
		return usageErr("check: -profile: want libzmq or zmq4, got %q", *profile)
	}
	cfg.Faults.Restarts = cfg.Faults.Crashes
	if *restarts >= 0 {
		cfg.Faults.Restarts = *restarts
	}
	cfg.NoSymmetry = *noSym
	if *part != "" {
		i, n, ok := parsePart(*part)
		if !ok {
			return usageErr("check: -part: want I/N with 1 <= I <= N, e.g. 2/8, got %s", safefile.Quote(*part, 40))
		}
		cfg.Part, cfg.Parts = i, n
	}
	if *mutation != "" {
		m, ok := mutations[*mutation]
		if !ok {
			return usageErr("check: -mutation: unknown mutation %q (one of: %s)", *mutation, strings.Join(mutationNames(), ", "))
		}
		if !model.Mutations() {
			return usageErr("check: -mutation needs a lockstep built with -tags teeth: go run -tags teeth ./cmd/lockstep check ...")
		}
		cfg.Mutation = m
	}
	if err := cfg.Validate(); err != nil {
		return usageErr("check: %v", err)
	}
	// The outputs are checked before a run that may take hours, so that a
	// mistyped path is not found only at its end.
	for _, o := range []struct{ flag, path string }{{"-o", *report}, {"-cex", *cex}} {
		if err := writablePath(o.path); err != nil {
			return usageErr("check: %s: %v", o.flag, err)
		}
	}
	if !*quiet && isTerminal(stderr) {
		cfg.Progress = func(s check.Stats) { fmt.Fprintf(stderr, "\rcheck: %s   ", s) }
	}
	res, err := check.Check(cfg)
	if err != nil {
		return err
	}
	if cfg.Progress != nil {
		fmt.Fprintln(stderr)
	}
	s := res.Stats
	fmt.Fprintf(stdout, "check: %s\n", res.Config)
	fmt.Fprintf(stdout, "states: %d generated, %d distinct, depth %d, %.0f distinct states/s on %d workers, %.0f bytes/state stored, peak heap %d MiB (widest level %d states), %s, complete=%v\n",
		s.Generated, s.Distinct, s.Depth, s.StatesPerSecond, s.Workers, s.BytesPerState, s.PeakHeapBytes>>20, s.WidestLevel, s.Elapsed.Round(1e6), s.Complete)
	if p := s.Part; p != nil {
		if p.Level < 0 {
			fmt.Fprintf(stdout, "part %d of %d: no level held %d states per part, so this part explored the whole\n", p.Index, p.Of, cfg.SplitWidth)
		} else {
			fmt.Fprintf(stdout, "part %d of %d: the parts divide at depth %d (%d states); this part explored from %d of them\n", p.Index, p.Of, p.Level, p.Width, p.Kept)
		}
	}
	fmt.Fprintf(stdout, "liveness: %s\n", res.Liveness)
	for _, e := range res.Expected {
		fmt.Fprintf(stdout, "expected (%s): %s: %d states; shortest: %s\n", e.Fact, e.Outcome, e.States, strings.Join(e.Steps, ", "))
	}
	if *report != "" {
		b, err := json.MarshalIndent(res, "", "  ")
		if err != nil {
			return err
		}
		if err := safefile.WriteRegular(*report, append(b, '\n')); err != nil {
			return usageErr("check: -o: %v", err)
		}
	}
	v := res.Violation
	if v == nil {
		fmt.Fprintln(stdout, "no violation")
		return nil
	}
	fmt.Fprintf(stdout, "VIOLATION %s (%s): %s\n", v.Rule, v.Fact, v.Message)
	for i, st := range v.Steps {
		mark := ""
		if v.Lasso && i == v.LoopAt {
			mark = "   <- the loop starts here and repeats for ever"
		}
		fmt.Fprintf(stdout, "  step %d: %s%s\n", i+1, st, mark)
	}
	out, err := check.FormatTrace(v.Trace, *format)
	if err != nil {
		return err
	}
	if _, err := stdout.Write(out); err != nil {
		return err
	}
	if *cex != "" {
		if err := check.WriteCounterexample(*cex, cfg, v); err != nil {
			return usageErr("check: -cex: %v", err)
		}
	}
	return &exitError{code: 1, msg: fmt.Sprintf("check: %s violated after %d steps", v.Rule, len(v.Steps))}
}

// checkReplay is `lockstep replay FILE` for a counterexample file, kept
// as check -replay for the runs that already use it.
func checkReplay(path, format string, stdout, stderr io.Writer) error {
	data, err := safefile.ReadRegular(path, check.MaxCounterexampleBytes)
	if err != nil {
		return usageErr("check: -replay: %v", strings.TrimPrefix(err.Error(), safefile.ErrRefused.Error()+": "))
	}
	return replayCounterexample(data, format, "check: -replay", stdout, stderr)
}

// parsePart reads -part's I/N.
func parsePart(s string) (i, n int, ok bool) {
	a, b, found := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !found || err1 != nil || err2 != nil || n < 1 || i < 1 || i > n {
		return 0, 0, false
	}
	return i, n, true
}

// writablePath says why path could not be written as an output file:
// something other than a regular file is there, or its directory is
// missing. The empty path (no output asked for) is fine.
func writablePath(path string) error {
	if path == "" {
		return nil
	}
	if fi, err := os.Stat(path); err == nil && !fi.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file", safefile.QuotePath(path))
	}
	if fi, err := os.Stat(filepath.Dir(path)); err != nil || !fi.IsDir() {
		return fmt.Errorf("%s: no such directory", safefile.QuotePath(filepath.Dir(path)))
	}
	return nil
}

func mutationNames() []string {
	var names []string
	for n := range mutations {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// isTerminal says whether w is a character device, where a progress line
// that rewrites itself makes sense.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
