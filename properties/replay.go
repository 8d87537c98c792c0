package properties

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/zeromq-lockstep/lockstep/internal/safefile"
	"github.com/zeromq-lockstep/lockstep/model"

	"pgregory.net/rapid"
)

// Version is the version of the properties' generators. A fail file
// records it; bump it whenever a change to the operations, their draws or
// the configuration draws would make old fail files replay a different
// sequence, so that replay refuses them instead of showing a wrong trace.
const Version = 8

// rapidFileVersion is the fail-file format rapid v1.3 writes and reads.
const rapidFileVersion = "v0.4.8"

// ErrBadFailFile marks a fail file that cannot be replayed: missing,
// unreadable, not rapid's, not lockstep's, or from another version.
var ErrBadFailFile = errors.New("bad fail file")

// Replayed is the result of replaying a fail file.
type Replayed struct {
	Test string
	// Mutation is the deliberate defect the run had, if it came from a
	// mutant (the teeth tests); replay applies it again.
	Mutation model.Mutation
	Failed   bool   // the failure reproduced
	Message  string // rapid's report of it
	Property Property
	Run      // what the replayed sequence did
}

// Replay re-runs the property that wrote the fail file at path on the
// sequence it saved, and returns that sequence's trace:
//
//	r, err := properties.Replay("properties/testdata/rapid/TestLossOnRestart/TestLossOnRestart-20261125-1.fail")
//
// The file is read once, bounded (MaxFailFileBytes, a regular file only),
// and parsed strictly (ParseFailFile); rapid then reads a checked copy.
// A file is valid, and its replay's Failed meaningful, only if replaying
// its values is consistent with the log rapid saved beside them:
//
//   - rapid saves, as the file's comments, the log of running the property
//     on exactly the values it saves, and the properties are deterministic
//     given their draws (TestDeterminism). So the replay, logging its own
//     draws, must draw what the log records: every recorded "[rapid] draw"
//     line, in order, with the same value. A flipped value changes a draw
//     or the path; a truncated file runs out before the last recorded
//     draw; a corrupted header line differs from the one the property logs.
//   - A replay that ends (fails, or passes) must have used every value:
//     replayed without its last value it must run out. A file with values
//     it never uses is not what rapid wrote.
//   - A replay that runs out after making every recorded draw is either a
//     fixed bug (the run went on where it used to fail) or a file that lost
//     only values drawn after its last recorded draw. The only such value
//     is Repeat's final "stop" coin, drawn when a failure comes at the end
//     of the run; so the replay is tried once more with a stop (0) appended:
//     if that fails with the file's recorded failure, the file was cut.
//
// What is not checked: log lines that are neither draws nor the lockstep
// headers (operations, traces) are rapid's commentary and do not steer the
// replay. A file cut by more than its stop coin after the last recorded
// draw cannot occur: every other value is consumed by a logged draw.
func Replay(path string) (*Replayed, error) {
	data, err := safefile.ReadRegular(path, MaxFailFileBytes)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadFailFile, err)
	}
	ff, err := ParseFailFile(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %s %v", ErrBadFailFile, safefile.QuotePath(path), err)
	}
	p, ok := Lookup(ff.Test)
	if !ok {
		return nil, fmt.Errorf("%w: %s is a fail file of %s, which is not a lockstep property (known: %s)", ErrBadFailFile, safefile.QuotePath(path), ff.Test, testNames())
	}
	if !ff.Mutation.IsZero() && !model.Mutations() {
		return nil, fmt.Errorf("%w: %s records a deliberate defect (%s); replay it with a lockstep built with -tags teeth: go run -tags teeth ./cmd/lockstep replay FILE", ErrBadFailFile, safefile.QuotePath(path), model.ErrNoMutations)
	}
	if ff.Version != itoa(Version) {
		return nil, fmt.Errorf("%w: %s is from version %s of %s; this lockstep's properties are version %d, so the saved sequence would mean something else (re-run go test ./properties to find it again)", ErrBadFailFile, safefile.QuotePath(path), ff.Version, ff.Test, Version)
	}
	if dir := filepath.Base(filepath.Dir(path)); dir != "." && dir != ff.Test && strings.HasPrefix(dir, "Test") {
		return nil, fmt.Errorf("%w: %s lies under %s but was written by %s", ErrBadFailFile, safefile.QuotePath(path), safefile.Quote(dir, 80), ff.Test)
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s %s", ErrBadFailFile, safefile.QuotePath(path), fmt.Sprintf(format, args...))
	}
	replayMu.Lock()
	defer replayMu.Unlock()
	full, err := replayValues(p, ff, ff.Values)
	if err != nil {
		return nil, err
	}
	// The run to report; the probes below replace LastRun.
	last, ok := LastRun()
	if !ok {
		return nil, bad("replayed no sequence")
	}
	if !slices.Equal(full.preamble, ff.Preamble) {
		return nil, bad("opens its log with %s, but the property logs %s on it: the file is corrupted",
			safefile.Quote(strings.Join(ff.Preamble, "; "), 200), safefile.Quote(strings.Join(full.preamble, "; "), 200))
	}
	n := min(len(full.draws), len(ff.Draws))
	for i := 0; i < n; i++ {
		if full.draws[i] != ff.Draws[i] {
			return nil, bad("does not replay the draws its log records: draw %d is %s, the log says %s (a corrupted value, or the properties' draws changed without a Version bump)",
				i+1, safefile.Quote(full.draws[i], 80), safefile.Quote(ff.Draws[i], 80))
		}
	}
	switch {
	case full.overrun && len(full.draws) < len(ff.Draws):
		return nil, bad("is truncated: its %d values run out after %d of the %d draws its log records", len(ff.Values), len(full.draws), len(ff.Draws))
	case !full.overrun && len(full.draws) != len(ff.Draws):
		// Ending early with every draw so far as recorded is what a
		// damaged unlogged value (a Repeat coin turned to stop) does.
		return nil, bad("does not replay the draws its log records: its replay ends after %d draws, the log records %d (a damaged value, or the properties changed without a Version bump)", len(full.draws), len(ff.Draws))
	case full.overrun:
		stop, err := replayValues(p, ff, append(slices.Clone(ff.Values), 0))
		if err != nil {
			return nil, err
		}
		if stop.failed && ff.Last != "" && strings.Contains(stop.output, ff.Last) {
			return nil, bad("is truncated: it lacks at least its last value (with a stop appended it fails as its log records)")
		}
	default:
		short, err := replayValues(p, ff, ff.Values[:len(ff.Values)-1])
		if err != nil {
			return nil, err
		}
		if !short.overrun {
			return nil, bad("has values its replay never uses: it is not what rapid wrote")
		}
	}
	r := &Replayed{Test: ff.Test, Mutation: ff.Mutation, Failed: full.failed, Message: firstLine(full.output, "[rapid] failed"), Property: p}
	r.Run = last
	return r, nil
}

// replayed is what one replay of a list of values did.
type replayed struct {
	failed, overrun bool
	preamble, draws []string // of the first run (rapid runs a failure twice)
	output          string
}

// replayValues runs p on values through rapid, from a private copy of the
// fail file. Callers hold replayMu.
func replayValues(p Property, ff *FailFile, values []uint64) (replayed, error) {
	dir, err := os.MkdirTemp("", "lockstep-replay-")
	if err != nil {
		return replayed{}, err
	}
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, ff.Test+".fail")
	if err := os.WriteFile(file, ff.encode(values), 0o600); err != nil {
		return replayed{}, err
	}
	tb := &RecordingTB{name: ff.Test}
	if err := withRapidFlags(map[string]string{"rapid.failfile": file, "rapid.nofailfile": "true", "rapid.checks": "0", "rapid.v": "true"}, func() {
		tb.Run(func() { rapid.Check(tb, p.Check(ff.Mutation)) })
	}); err != nil {
		return replayed{}, err
	}
	out := tb.Output()
	if strings.Contains(out, "ignoring fail file") {
		return replayed{}, fmt.Errorf("%w: rapid could not read the checked copy: %s", ErrBadFailFile, firstLine(out, "fail file"))
	}
	r := replayed{failed: tb.Failed(), overrun: strings.Contains(out, "is no longer valid"), output: out}
	// Each run of the property opens with its marker; rapid may run it
	// more than once (to reproduce a failure), so keep the first run's.
	runs := 0
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "lockstep property ") {
			if runs++; runs > 1 {
				break
			}
		}
		switch {
		case isDraw(l):
			r.draws = append(r.draws, l)
		case len(r.draws) == 0 && l != "" && !strings.HasPrefix(l, "[rapid] "):
			r.preamble = append(r.preamble, l)
		}
	}
	return r, nil
}

func testNames() string {
	var names []string
	for _, p := range All {
		names = append(names, p.Test)
	}
	return strings.Join(names, ", ")
}

func firstLine(s, containing string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, containing) {
			return strings.TrimSpace(l)
		}
	}
	return ""
}

// replayMu serialises replays: they set rapid's process-wide flags.
var replayMu sync.Mutex

// withRapidFlags sets rapid's flags for the duration of do. Outside a test
// binary the testing flags rapid reads are not registered, so it registers
// them first.
func withRapidFlags(set map[string]string, do func()) error {
	if flag.Lookup("test.short") == nil {
		testing.Init()
	}
	if !flag.Parsed() {
		// rapid asks testing.Short(), which panics unless the command
		// line was parsed; lockstep's own flags live in FlagSets, so the
		// process-wide set has nothing else to parse.
		_ = flag.CommandLine.Parse(nil)
	}
	old := map[string]string{}
	for name, v := range set {
		f := flag.Lookup(name)
		if f == nil {
			return fmt.Errorf("properties: rapid has no flag %s", name)
		}
		old[name] = f.Value.String()
		if err := flag.Set(name, v); err != nil {
			return err
		}
	}
	defer func() {
		for name, v := range old {
			_ = flag.Set(name, v)
		}
	}()
	do()
	return nil
}
