package check

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/zeromq-lockstep/lockstep/trace"
)

// Result is what an exploration found.
type Result struct {
	Config string `json:"config"`
	Stats  Stats  `json:"stats"`
	// Violation is the shortest counterexample to a safety invariant, or
	// a liveness lasso; nil when the model passed.
	Violation *Counterexample `json:"violation,omitempty"`
	// Liveness says whether the liveness check ran, and if not, why.
	Liveness string `json:"liveness"`
	// Expected lists outcomes the facts predict that look like failures:
	// a strict REQ whose request was lost waits for ever (F19).
	Expected []Expected `json:"expected,omitempty"`
}

// Counterexample is a run of the model from the initial state: its steps,
// as the explorer names them, and the trace they produce.
type Counterexample struct {
	Rule    string `json:"rule"`
	Fact    string `json:"fact,omitempty"`
	Message string `json:"message"`
	// Steps are the steps from the initial state; for a lasso, the steps
	// from LoopAt on repeat for ever.
	Steps  []string `json:"steps"`
	Lasso  bool     `json:"lasso,omitempty"`
	LoopAt int      `json:"loop_at,omitempty"`
	// Trace is the model's trace of Steps; its times are step numbers in
	// milliseconds, not time: the explorer has no clock.
	Trace []trace.Event `json:"-"`
	// Events is Trace as jsonl objects, for the -o report.
	Events []json.RawMessage `json:"trace,omitempty"`
}

// withEvents fills in Events from Trace.
func (c *Counterexample) withEvents() (*Counterexample, error) {
	b, err := FormatTrace(c.Trace, "jsonl")
	if err != nil {
		return nil, err
	}
	for _, line := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		if len(line) > 0 {
			c.Events = append(c.Events, json.RawMessage(line))
		}
	}
	return c, nil
}

// Expected is an outcome the facts predict, with how many states show it
// and the shortest run to one of them.
type Expected struct {
	Fact    string   `json:"fact"`
	Outcome string   `json:"outcome"`
	States  int64    `json:"states"`
	Steps   []string `json:"steps"`
}

// Check explores cfg and returns what it found.
func Check(cfg Config) (*Result, error) {
	x, err := New(cfg)
	if err != nil {
		return nil, err
	}
	return x.Explore()
}

func (x *Explorer) result() (*Result, error) {
	res := &Result{Config: x.cfg.String(), Stats: x.stats}
	if x.bad != nil {
		cx, err := x.counterexample(x.bad)
		if err != nil {
			return nil, err
		}
		res.Violation = cx
	}
	switch {
	case !x.cfg.Liveness:
		res.Liveness = "off"
	case x.bad != nil:
		res.Liveness = "skipped: a safety invariant failed first"
	case !x.stats.Complete:
		res.Liveness = "skipped: the exploration stopped at MaxStates"
	case x.stats.Part != nil && x.stats.Part.Level >= 0:
		// A part holds the edges of its own states only: a state of
		// another part's share, reached here, was not expanded, and
		// judging it settled or not would be a guess.
		res.Liveness = "skipped: a part of a split run holds only part of the graph; check liveness on the whole"
	case x.cfg.Faults.Restarts < x.cfg.Faults.Crashes:
		res.Liveness = "skipped: fewer restarts than crashes, so a server may stay down for ever"
	default:
		res.Liveness = "checked"
		cx, err := x.liveness()
		if err != nil {
			return nil, err
		}
		res.Violation = cx
	}
	if x.stuckAt >= 0 {
		steps, _, err := x.replay(x.path(uint32(x.stuckAt)), nil)
		if err != nil {
			return nil, err
		}
		res.Expected = append(res.Expected, Expected{Fact: "F19", States: x.stuckF19, Steps: steps,
			Outcome: "a strict REQ whose request was lost waits for ever; its queue grows behind it"})
	}
	return res, nil
}

// path returns the state indices from the initial state to idx.
func (x *Explorer) path(idx uint32) []uint32 {
	var p []uint32
	for {
		p = append(p, idx)
		if idx == 0 {
			break
		}
		idx = x.parents[idx]
	}
	for i, j := 0, len(p)-1; i < j; i, j = i+1, j-1 {
		p[i], p[j] = p[j], p[i]
	}
	return p
}

// replay runs the model from the initial state through the states of path
// (by fingerprint: a stored state stands for every renaming of itself),
// and then, when last is not zero, the step to the successor with that
// fingerprint. It returns the steps' names and their trace.
func (x *Explorer) replay(path []uint32, last *found) ([]string, []trace.Event, error) {
	st, err := x.initial()
	if err != nil {
		return nil, nil, err
	}
	w := x.newWorker()
	var steps []string
	var tr []trace.Event
	want := make([]uint64, 0, len(path))
	for _, idx := range path[1:] {
		want = append(want, x.fps[idx])
	}
	if last != nil && last.fp != 0 {
		want = append(want, last.fp)
	}
	for n, fp := range want {
		a, prefix, ok := w.find(st, fp)
		if !ok {
			return nil, nil, fmt.Errorf("check: cannot replay step %d of the counterexample (a fingerprint collision or a nondeterministic model)", n+1)
		}
		steps = append(steps, x.label(a, prefix))
		w.ch.reset(prefix)
		succ := st.clone(&w.ch)
		r := &run{x: x, st: succ, ch: &w.ch, tr: &tr, step: n + 1}
		r.app("check", "step", steps[len(steps)-1], -1)
		r.apply(a)
		st = succ
	}
	return steps, tr, nil
}

// find searches the successors of st for one with fingerprint fp.
func (w *worker) find(st *state, fp uint64) (action, []int, bool) {
	for _, a := range w.x.actions(st, nil, nil) {
		if p, ok := w.findBranch(st, a, nil, fp); ok {
			return a, p, true
		}
	}
	return action{}, nil, false
}

func (w *worker) findBranch(st *state, a action, prefix []int, fp uint64) ([]int, bool) {
	succ, _ := w.step(st, a, prefix)
	asked := append([]int(nil), w.ch.asked...)
	fpSucc := w.fingerprint(succ)
	w.free = append(w.free, succ)
	if fpSucc == fp {
		return prefix, true
	}
	for i := len(prefix); i < len(asked); i++ {
		for v := 1; v < asked[i]; v++ {
			p := make([]int, i+1)
			copy(p, prefix)
			p[i] = v
			if q, ok := w.findBranch(st, a, p, fp); ok {
				return q, true
			}
		}
	}
	return nil, false
}

func (x *Explorer) counterexample(f *found) (*Counterexample, error) {
	steps, tr, err := x.replay(x.path(f.parent), f)
	if err != nil {
		return nil, err
	}
	return (&Counterexample{Rule: f.v.Rule, Fact: f.v.Fact, Message: f.v.Msg, Steps: steps, Trace: tr}).withEvents()
}

// liveness checks that from every state some fault-free path reaches a
// state where every request is settled (done): the check assumes that
// faults stop and that every enabled step is eventually taken (weak
// fairness), so a cycle that can leave for a settled state is not a
// failure. It marks the states that can reach a settled one by walking
// the fault-free edges backwards; any state left unmarked can never
// settle, and its shortest run, followed by a walk inside the unmarked
// states until it repeats, is reported as a lasso.
func (x *Explorer) liveness() (*Counterexample, error) {
	n := len(x.edges)
	// Reverse edges in compressed form.
	count := make([]uint32, n+1)
	for _, es := range x.edges {
		for _, d := range es {
			count[d+1]++
		}
	}
	for i := 1; i <= n; i++ {
		count[i] += count[i-1]
	}
	rev := make([]uint32, count[n])
	fill := append([]uint32(nil), count[:n]...)
	for s, es := range x.edges {
		for _, d := range es {
			rev[fill[d]] = uint32(s)
			fill[d]++
		}
	}
	ok := make([]bool, n)
	var queue []uint32
	for i, g := range x.goal {
		if g {
			ok[i] = true
			queue = append(queue, uint32(i))
		}
	}
	for len(queue) > 0 {
		d := queue[len(queue)-1]
		queue = queue[:len(queue)-1]
		for _, s := range rev[count[d]:count[d+1]] {
			if !ok[s] {
				ok[s] = true
				queue = append(queue, s)
			}
		}
	}
	bad := -1
	for i := 0; i < n; i++ {
		if !ok[i] && (bad < 0 || x.depth[i] < x.depth[bad]) {
			bad = i
		}
	}
	if bad < 0 {
		return nil, nil
	}
	// Every fault-free successor of an unmarked state is unmarked, so the
	// walk stays among them until it repeats or stops.
	walk := x.path(uint32(bad))
	seen := map[uint32]int{uint32(bad): len(walk) - 1}
	loopAt := -1
	for cur := uint32(bad); ; {
		es := x.edges[cur]
		if len(es) == 0 {
			break
		}
		cur = es[0]
		if at, ok := seen[cur]; ok {
			loopAt = at
			walk = append(walk, cur)
			break
		}
		seen[cur] = len(walk)
		walk = append(walk, cur)
	}
	steps, tr, err := x.replay(walk, nil)
	if err != nil {
		return nil, err
	}
	cx := &Counterexample{Rule: "liveness", Fact: "F19, F20, F21", Steps: steps, Trace: tr,
		Message: "once faults stop, no run from here answers, abandons or loses (as F19 allows) every request"}
	if loopAt >= 0 {
		cx.Lasso, cx.LoopAt = true, loopAt
	}
	return cx.withEvents()
}
