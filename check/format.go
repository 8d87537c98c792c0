package check

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/zeromq-lockstep/lockstep/trace"
)

// FormatTrace renders a counterexample's trace in one of the model's trace
// formats (text, jsonl, msc, node). It is the one place the checker
// depends on where trace formatting lives.
func FormatTrace(events []trace.Event, format string) ([]byte, error) {
	return trace.Render(events, format)
}

// CounterexampleFile is what WriteCounterexample saves: the configuration
// (without its Progress callback) and the steps, so that ReplayFile can run
// them again.
type CounterexampleFile struct {
	Lockstep string          `json:"lockstep"` // "check counterexample v1"
	Config   Config          `json:"config"`
	Found    *Counterexample `json:"found"`
}

const cexMarker = "check counterexample v1"

// WriteCounterexample saves cx, found under cfg, to path as JSON.
func WriteCounterexample(path string, cfg Config, cx *Counterexample) error {
	cfg.Progress = nil
	b, err := json.MarshalIndent(CounterexampleFile{Lockstep: cexMarker, Config: cfg, Found: cx}, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// Replayed is the result of ReplayFile.
type Replayed struct {
	File  CounterexampleFile
	Trace []trace.Event
	// Violation is the first invariant the steps break on this model, ""
	// when the failure no longer reproduces.
	Violation string
}

// ReplayFile reads a file written by WriteCounterexample and runs its
// steps again on this model, by name, from the initial state.
func ReplayFile(path string) (*Replayed, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f CounterexampleFile
	if err := json.Unmarshal(b, &f); err != nil || f.Lockstep != cexMarker || f.Found == nil {
		return nil, fmt.Errorf("%s is not a lockstep check counterexample", path)
	}
	x, err := New(f.Config)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	tr, bad, err := x.replaySteps(f.Found.Steps)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	r := &Replayed{File: f, Trace: tr}
	if bad != nil {
		r.Violation = bad.Error()
	} else if f.Found.Lasso {
		// A lasso breaks no step: it is a run that never settles.
		r.Violation = "liveness: " + f.Found.Message
	}
	return r, nil
}

// replaySteps runs named steps from the initial state and returns the
// trace and the first violation.
func (x *Explorer) replaySteps(steps []string) ([]trace.Event, *violation, error) {
	st, err := x.initial()
	if err != nil {
		return nil, nil, err
	}
	w := x.newWorker()
	var tr []trace.Event
	for n, name := range steps {
		a, prefix, ok := w.findLabel(st, name)
		if !ok {
			return tr, nil, fmt.Errorf("step %d (%s) is not possible here", n+1, name)
		}
		w.ch.reset(prefix)
		succ := st.clone(&w.ch)
		r := &run{x: x, st: succ, ch: &w.ch, tr: &tr, step: n + 1}
		r.app("check", "step", name, -1)
		r.apply(a)
		if r.bad != nil {
			return tr, r.bad, nil
		}
		st = succ
	}
	if len(x.actions(st, nil, nil)) == 0 && !x.done(st) {
		return tr, &violation{Rule: "deadlock", Fact: "F1, F19", Msg: "no step is possible, yet some request is neither answered nor lost"}, nil
	}
	return tr, nil, nil
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
