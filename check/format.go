package check

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/zeromq-lockstep/lockstep/internal/safefile"
	"github.com/zeromq-lockstep/lockstep/model"
	"github.com/zeromq-lockstep/lockstep/trace"
)

// FormatTrace renders a counterexample's trace in one of the model's trace
// formats (text, jsonl, msc, node). It is the one place the checker
// depends on where trace formatting lives.
func FormatTrace(events []trace.Event, format string) ([]byte, error) {
	return trace.Render(events, format)
}

// CounterexampleFile is what WriteCounterexample saves: the configuration
// (without its Progress callback) and the steps, so that ReplayFile and
// `lockstep replay` can run them again. The first field, "lockstep", is
// the versioned header that tells it from any other file (a rapid fail
// file starts with "#"); Sum, a SHA-256 of the whole file, tells an intact
// file from a damaged one.
type CounterexampleFile struct {
	Lockstep string          `json:"lockstep"` // CounterexampleHeader
	Config   Config          `json:"config"`
	Found    *Counterexample `json:"found"`
	Sum      string          `json:"sum"` // "sha256:" and the hex of the file's digest (fileSum)
}

// CounterexampleHeader is the value of a counterexample file's "lockstep"
// field. Bump its version when the file's meaning changes (a step's
// label, the configuration's fields), so that replay refuses old files
// instead of running them differently. v1 files had no Sum.
const CounterexampleHeader = "check counterexample v2"

// MaxCounterexampleBytes bounds a counterexample file, as
// properties.MaxFailFileBytes bounds a fail file. WriteCounterexample
// leaves the trace out of a file that would be larger: replay needs only
// the steps.
const MaxCounterexampleBytes = 1 << 20

// ErrBadCounterexample marks a file that cannot be replayed: not a
// counterexample file, another version, cut short, damaged, or for a
// configuration this build cannot run.
var ErrBadCounterexample = errors.New("bad counterexample file")

// sumField is how the sum appears in a file: its hex follows, and the
// digest is of the whole file with the hex written as zeros. So any change
// to any byte, the trace and the layout included, is found: a file is
// either exactly what check wrote or refused.
const sumField = `"sum": "sha256:`

var zeroSum = strings.Repeat("0", 2*sha256.Size)

// fileSum returns where the sum's hex starts in a file and the digest the
// file should carry, or false when the file has no single sum field.
func fileSum(b []byte) (int, string, bool) {
	i := bytes.Index(b, []byte(sumField))
	if i < 0 || bytes.LastIndex(b, []byte(sumField)) != i {
		return 0, "", false
	}
	at := i + len(sumField)
	if at+len(zeroSum) >= len(b) || b[at+len(zeroSum)] != '"' {
		return 0, "", false
	}
	c := bytes.Clone(b)
	copy(c[at:], zeroSum)
	d := sha256.Sum256(c)
	return at, hex.EncodeToString(d[:]), true
}

// WriteCounterexample saves cx, found under cfg, to path as JSON. The path
// must be a regular file or new (safefile.WriteRegular).
func WriteCounterexample(path string, cfg Config, cx *Counterexample) error {
	cfg.Progress = nil
	f := CounterexampleFile{Lockstep: CounterexampleHeader, Config: cfg, Found: cx, Sum: "sha256:" + zeroSum}
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	if len(b)+1 > MaxCounterexampleBytes {
		short := *cx
		short.Events = nil
		f.Found = &short
		if b, err = json.MarshalIndent(f, "", "  "); err != nil {
			return err
		}
	}
	b = append(b, '\n')
	at, sum, ok := fileSum(b)
	if !ok {
		// A step label holding the sum field's text; no label does.
		return fmt.Errorf("check: cannot seal the counterexample file")
	}
	copy(b[at:], sum)
	return safefile.WriteRegular(path, b)
}

// IsCounterexample says whether data claims to be a counterexample file:
// a JSON object whose "lockstep" field names one, of any version. Replay
// uses it to tell check's files from rapid's; ParseCounterexample then
// decides whether the claim holds.
func IsCounterexample(data []byte) bool {
	data = bytes.TrimLeft(data, " \t\r\n")
	if len(data) == 0 || data[0] != '{' {
		return false
	}
	head := data[:min(len(data), 200)]
	return bytes.Contains(head, []byte(`"lockstep"`)) && bytes.Contains(head, []byte("check counterexample"))
}

// ParseCounterexample reads a file written by WriteCounterexample,
// strictly: one JSON object with no unknown fields, this version's
// header, a counterexample with steps, a valid configuration this build
// can run (a mutation needs -tags teeth) and a matching sum. Every error
// wraps ErrBadCounterexample.
func ParseCounterexample(data []byte) (*CounterexampleFile, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrBadCounterexample, fmt.Sprintf(format, args...))
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f CounterexampleFile
	if err := dec.Decode(&f); err != nil {
		return nil, bad("not a whole counterexample file (cut short or not JSON of check's): %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, bad("something after the counterexample")
	}
	switch {
	case f.Lockstep == CounterexampleHeader:
	case strings.HasPrefix(f.Lockstep, "check counterexample "):
		return nil, bad("%s, and this lockstep reads %q: run lockstep check -cex again", safefile.Quote(f.Lockstep, 60), CounterexampleHeader)
	default:
		return nil, bad("its header is %s, not %q", safefile.Quote(f.Lockstep, 60), CounterexampleHeader)
	}
	if at, sum, ok := fileSum(data); !ok || string(data[at:at+len(sum)]) != sum {
		return nil, bad("its sum does not match its contents: the file was changed or damaged")
	}
	if f.Found == nil || len(f.Found.Steps) == 0 {
		return nil, bad("it holds no steps")
	}
	if f.Found.Lasso && (f.Found.LoopAt < 0 || f.Found.LoopAt >= len(f.Found.Steps)) {
		return nil, bad("its loop starts at step %d of %d", f.Found.LoopAt+1, len(f.Found.Steps))
	}
	if err := f.Config.Validate(); err != nil {
		return nil, bad("its configuration: %v", err)
	}
	if f.Config.Mutation != (model.Mutation{}) && !model.Mutations() {
		return nil, bad("it was found on a mutant, which needs a lockstep built with -tags teeth")
	}
	return &f, nil
}

// Replayed is the result of replaying a counterexample file.
type Replayed struct {
	File  CounterexampleFile
	Trace []trace.Event
	// Violation is what the steps break on this model, "" when the
	// failure no longer reproduces; Note then says why.
	Violation string
	Note      string
}

// ReplayFile reads a file written by WriteCounterexample, bounded
// (MaxCounterexampleBytes, a regular file only), and replays it.
func ReplayFile(path string) (*Replayed, error) {
	b, err := safefile.ReadRegular(path, MaxCounterexampleBytes)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadCounterexample, err)
	}
	f, err := ParseCounterexample(b)
	if err != nil {
		return nil, err
	}
	return Replay(f)
}

// Replay runs a counterexample's steps again on this model, by name, from
// the initial state. The violation reproduces when a step breaks an
// invariant (the file's or another: the model still fails), when the
// steps end in a deadlock, or, for a liveness counterexample, when its
// lasso still loops: the state where the loop starts comes back, with no
// fault and no settled state on the way. An error is a file that cannot
// be replayed at all; a step that is no longer possible is not an error
// but a failure that no longer reproduces, since the sum rules out a
// damaged file.
func Replay(f *CounterexampleFile) (*Replayed, error) {
	x, err := New(f.Config)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadCounterexample, err)
	}
	r := &Replayed{File: *f}
	rp, err := x.replaySteps(f.Found.Steps)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadCounterexample, err)
	}
	r.Trace = rp.trace
	switch {
	case rp.impossible != "":
		r.Note = rp.impossible
	case rp.bad != nil:
		r.Violation = rp.bad.Error()
	case f.Found.Rule == "liveness":
		r.Violation, r.Note = x.stillLoops(f.Found, rp)
	default:
		r.Note = fmt.Sprintf("the %d steps break no invariant", len(f.Found.Steps))
	}
	return r, nil
}

// stillLoops judges a replayed liveness counterexample: a lasso must come
// back to the state its loop starts from without a fault or a settled
// state on the way; a path without a loop must end where no fault-free
// step is possible and some request is unsettled.
func (x *Explorer) stillLoops(cx *Counterexample, rp *replayed) (violation, note string) {
	states := rp.states // states[i] is the state after i steps
	last := states[len(states)-1]
	if !cx.Lasso {
		for _, a := range x.actions(last, nil, nil) {
			if !a.fault() {
				return "", "the path's last state has a fault-free step again"
			}
		}
		if x.done(last) {
			return "", "the path's last state is settled"
		}
		return "liveness: " + cx.Message, ""
	}
	for i := cx.LoopAt; i < len(cx.Steps); i++ {
		if rp.actions[i].fault() {
			return "", fmt.Sprintf("step %d of the loop is a fault", i+1)
		}
		if x.done(states[i+1]) {
			return "", fmt.Sprintf("the loop reaches a settled state after step %d", i+1)
		}
	}
	k := x.newWorker().k
	if !bytes.Equal(append([]byte(nil), k.key(states[cx.LoopAt])...), k.key(last)) {
		return "", "the loop no longer comes back to where it started"
	}
	return "liveness: " + cx.Message, ""
}

// replayed is what replaySteps saw: the states after each step (the
// initial state first) and the steps taken, the trace, and the first
// violation, or the step that was not possible.
type replayed struct {
	states     []*state
	actions    []action
	trace      []trace.Event
	bad        *violation
	impossible string
}

// replaySteps runs named steps from the initial state and returns what
// happened; an error is a configuration whose initial state cannot be
// built.
func (x *Explorer) replaySteps(steps []string) (*replayed, error) {
	st, err := x.initial()
	if err != nil {
		return nil, err
	}
	w := x.newWorker()
	rp := &replayed{states: []*state{st}}
	for n, name := range steps {
		a, prefix, ok := w.findLabel(st, name)
		if !ok {
			rp.impossible = fmt.Sprintf("step %d (%s) is not possible on this model", n+1, safefile.Quote(name, 80))
			return rp, nil
		}
		w.ch.reset(prefix)
		succ := st.clone(&w.ch)
		r := &run{x: x, st: succ, ch: &w.ch, tr: &rp.trace, step: n + 1}
		r.app("check", "step", name, -1)
		r.apply(a)
		rp.states, rp.actions = append(rp.states, succ), append(rp.actions, a)
		if r.bad != nil {
			rp.bad = r.bad
			return rp, nil
		}
		st = succ
	}
	if len(x.actions(st, nil, nil)) == 0 && !x.done(st) {
		rp.bad = &violation{Rule: "deadlock", Fact: "F1, F19", Msg: "no step is possible, yet some request is neither answered nor lost"}
	}
	return rp, nil
}

// findLabel finds the step of st that label names.
func (w *worker) findLabel(st *state, label string) (action, []int, bool) {
	for _, a := range w.x.actions(st, nil, nil) {
		if p, ok := w.findLabelBranch(st, a, nil, label); ok {
			return a, p, true
		}
	}
	return action{}, nil, false
}

func (w *worker) findLabelBranch(st *state, a action, prefix []int, label string) ([]int, bool) {
	if w.x.label(a, prefix) == label {
		return prefix, true
	}
	w.step(st, a, prefix)
	asked := append([]int(nil), w.ch.asked...)
	for i := len(prefix); i < len(asked); i++ {
		for v := 1; v < asked[i]; v++ {
			p := make([]int, i+1)
			copy(p, prefix)
			p[i] = v
			if q, ok := w.findLabelBranch(st, a, p, label); ok {
				return q, true
			}
		}
	}
	return nil, false
}
