package check

import (
	"bytes"
	"fmt"
	"hash/maphash"
	"reflect"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/zeromq-lockstep/lockstep/model"
)

// Stats are the counts of an exploration.
type Stats struct {
	Generated int64 `json:"generated"` // successor states computed, duplicates included
	Distinct  int64 `json:"distinct"`  // distinct states stored (after symmetry reduction)
	Depth     int   `json:"depth"`     // the deepest level reached; the initial state is level 0
	Frontier  int   `json:"frontier"`  // states in the level being expanded
	// WidestLevel is the most states one level held: the frontier's
	// worlds are what the peak heap holds beyond the stored states.
	WidestLevel int           `json:"widest_level"`
	Elapsed     time.Duration `json:"elapsed_ns"`
	// StatesPerSecond is Distinct divided by Elapsed.
	StatesPerSecond float64 `json:"states_per_second"`
	// BytesPerState is the heap the visited set, the parent links and the
	// liveness edges hold, divided by Distinct.
	BytesPerState float64 `json:"bytes_per_state"`
	// PeakHeapBytes is the most heap the exploration held at the end of
	// a level: the stored states (as BytesPerState counts them), the
	// encodings of the frontier's states, two levels' worth of arenas,
	// and the workers' own states, counted from their capacities. It is
	// counted rather than measured: a collection before each
	// measurement cost a tenth of the run.
	PeakHeapBytes uint64 `json:"peak_heap_bytes"`
	Workers       int    `json:"workers"`
	Complete      bool   `json:"complete"` // every reachable state was explored (no MaxStates cut-off)
	// Part is which part of a split run was explored; nil for a whole run.
	Part *Part `json:"part,omitempty"`
}

// Part describes the part of a split run (Config.Parts) an exploration
// took. Every part explores the levels before Level in full, and those
// states count in each part's Distinct; at Level it keeps Kept of the
// level's Width states and explores what is reachable from them. A state
// reachable from the kept states of two parts is explored by both, since
// the parts share no visited set: the parts' Distinct counts add up to
// more than the whole's. Every state of the whole run is reached by some
// part (its shortest path passes through a state of Level, or lies before
// it), so the parts' verdicts together are the whole's.
type Part struct {
	Index int `json:"index"` // 1..Of
	Of    int `json:"of"`
	// Level is the level where the parts divide; -1 when the exploration
	// ended before any level was wide enough, and every part explored
	// the whole.
	Level int `json:"level"`
	Width int `json:"width"` // states in that level
	Kept  int `json:"kept"`  // of which this part explored these
}

// Explorer explores one configuration. It is not safe for concurrent use;
// it uses Config.Workers goroutines itself.
type Explorer struct {
	cfg   Config
	names *names
	seed  maphash.Seed
	like  *model.World // a world of the configuration's profile and mutation, for loadState

	shards  [nShards]shard
	next    atomic.Int64 // the next state index
	parents []uint32     // state index -> parent index
	fps     []uint64     // state index -> fingerprint
	depth   []uint16     // state index -> level
	edges   [][]uint32   // state index -> fault-free successors (Liveness)
	goal    []bool       // state index -> done (Liveness)
	gen     atomic.Int64
	level   atomic.Int64 // the level being expanded, for the progress line
	width   atomic.Int64 // its number of states
	start   time.Time
	stats   Stats

	// checkRestore, set by tests, compares every restored state's key
	// with the key it had when it was saved.
	checkRestore bool

	bad      *found // the first violation found at the shallowest level
	stuckF19 int64  // states in which some client is stuck as F19 says
	stuckAt  int32  // the first such state, -1 if none
	terminal int64  // states with no enabled step
}

// found is a violation and the state it was found in.
type found struct {
	v      *violation
	parent uint32 // the state the violating step started from
	fp     uint64 // the violating successor's fingerprint (0: the state itself)
	label  string
	level  int
}

const nShards = 64

// shard is one part of the visited set: fingerprint -> state index, an
// open-addressing table probed linearly, which costs less than a map and
// holds a state in 12 bytes at most three quarters full. Fingerprints are
// never 0, which marks a free entry; they are hashes already, so their
// bits above those that chose the shard choose the entry.
type shard struct {
	mu    sync.Mutex
	table []entry // a power of two long
	n     int
	_     [24]byte // keep shards on separate cache lines
}

// entry is a fingerprint, in halves so that an entry is 12 bytes, and
// its state's index.
type entry struct{ lo, hi, idx uint32 }

// lookup returns fp's index, or adds fp with the index next gives it.
func (sh *shard) lookup(fp uint64, next func() uint32) (uint32, bool) {
	if 4*(sh.n+1) > 3*len(sh.table) {
		sh.grow()
	}
	lo, hi := uint32(fp), uint32(fp>>32)
	mask := uint64(len(sh.table) - 1)
	for i := (fp >> 8) & mask; ; i = (i + 1) & mask {
		e := &sh.table[i]
		if e.lo == lo && e.hi == hi {
			return e.idx, false
		}
		if e.lo == 0 && e.hi == 0 {
			*e = entry{lo, hi, next()}
			sh.n++
			return e.idx, true
		}
	}
}

func (sh *shard) grow() {
	old := sh.table
	sh.table = make([]entry, max(64, 2*len(old)))
	mask := uint64(len(sh.table) - 1)
	for _, e := range old {
		if e.lo == 0 && e.hi == 0 {
			continue
		}
		i := (uint64(e.hi)<<32 | uint64(e.lo)) >> 8 & mask
		for sh.table[i].lo != 0 || sh.table[i].hi != 0 {
			i = (i + 1) & mask
		}
		sh.table[i] = e
	}
}

// New returns an explorer for cfg.
func New(cfg Config) (*Explorer, error) {
	if cfg.Profile.Name == "" {
		cfg.Profile = model.LibZMQ
	}
	if cfg.Workers == 0 {
		cfg.Workers = runtime.GOMAXPROCS(0)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	x := &Explorer{cfg: cfg, seed: maphash.MakeSeed(), stuckAt: -1}
	x.names = newNames(&x.cfg)
	x.like = model.NewWorld(cfg.Profile, nil)
	if err := x.like.Mutate(cfg.Mutation); err != nil {
		return nil, err
	}
	return x, nil
}

// Config returns the configuration being explored, with defaults filled in.
func (x *Explorer) Config() Config { return x.cfg }

// Stats returns the counts so far.
func (x *Explorer) Stats() Stats { return x.stats }

// insert adds fp to the visited set and reports its index and whether it
// is new.
func (x *Explorer) insert(fp uint64) (uint32, bool) {
	sh := &x.shards[fp%nShards]
	sh.mu.Lock()
	idx, isNew := sh.lookup(fp, x.nextIndex)
	sh.mu.Unlock()
	return idx, isNew
}

// nextIndex hands out the next state index.
func (x *Explorer) nextIndex() uint32 {
	return uint32(x.next.Add(1) - 1)
}

// node is a stored state waiting in a frontier, as its encoding
// (state.appendState) in an arena of the worker that found it.
type node struct {
	idx  uint32
	data []byte
}

// record is a new state found by a worker, merged at the end of a level.
type record struct {
	idx, parent uint32
	fp          uint64
	done        bool // Explorer.done, for Liveness
}

// arena holds the encodings of one level's states, in chunks that never
// move, so that a node can keep its part of one.
type arena struct {
	chunks [][]byte
	cur    int
}

const chunkSize = 1 << 20

// add copies b into the arena and returns the copy.
func (a *arena) add(b []byte) []byte {
	for a.cur < len(a.chunks) && len(a.chunks[a.cur])+len(b) > cap(a.chunks[a.cur]) {
		a.cur++
	}
	if a.cur == len(a.chunks) {
		a.chunks = append(a.chunks, make([]byte, 0, max(chunkSize, len(b))))
	}
	c := a.chunks[a.cur]
	a.chunks[a.cur] = append(c, b...)
	return a.chunks[a.cur][len(c) : len(c)+len(b) : len(c)+len(b)]
}

// reset empties the arena for a new level, keeping its memory.
func (a *arena) reset() {
	for i := range a.chunks {
		a.chunks[i] = a.chunks[i][:0]
	}
	a.cur = 0
}

func (a *arena) bytes() int {
	n := 0
	for _, c := range a.chunks {
		n += cap(c)
	}
	return n
}

// worker is one goroutine's scratch space.
type worker struct {
	x     *Explorer
	k     *keyer
	ch    forcer
	r     run // the transition in progress, reused
	pend  pending
	acts  []action
	asked [][]int      // per depth of branch, a copy of the choices asked
	gen   atomic.Int64 // successors generated in this level, read by the progress line
	next  []node
	recs  []record
	edges [][2]uint32
	bad   *found
	free  []*state // copies no longer in use, whose memory step's next copy reuses
	// work is the state being expanded, rebuilt from its node; levels
	// are the arenas of the states this worker found, one for the level
	// being expanded and one for the next; enc is an encoding's scratch.
	work   *state
	levels [2]arena
	enc    []byte

	saved saved  // the state being expanded, as it was before its steps
	key   []byte // a copy of a key, for Determinism
	// effects are every effect of a step and of its second run, for
	// Determinism.
	effects [2][]model.Effect
	stuck   int64
	stuckAt int32
	term    int64
}

// Explore runs the exploration to the end (or to MaxStates) and returns
// its result.
func (x *Explorer) Explore() (*Result, error) {
	x.start = time.Now()
	// What stays is a level's encodings and the visited set, which hold
	// no pointers, so a collection costs little; but the model's steps
	// allocate (effects, new pipes and connections), almost all of it
	// garbage at once: collecting less often trades memory for speed.
	defer debug.SetGCPercent(debug.SetGCPercent(400))
	st, err := x.initial()
	if err != nil {
		return nil, err
	}
	w0 := x.newWorker()
	fp := w0.fingerprint(st)
	idx, _ := x.insert(fp)
	x.parents, x.fps, x.depth = append(x.parents, idx), append(x.fps, fp), append(x.depth, 0)
	if x.cfg.Liveness {
		x.edges = append(x.edges, nil)
		x.goal = append(x.goal, x.done(st))
	}
	frontier := []node{{idx: idx, data: st.appendState(nil)}}
	workers := make([]*worker, x.cfg.Workers)
	for i := range workers {
		workers[i] = x.newWorker()
	}
	if x.cfg.Progress != nil {
		stop := x.progress(workers)
		defer stop()
	}
	complete := true
	all := workers
	if x.cfg.split() {
		// The levels before the split run on one worker, so that every
		// part finds the same states in the same order and their shares
		// of the split level are disjoint and complete.
		workers = workers[:1]
		x.stats.Part = &Part{Index: x.cfg.Part, Of: x.cfg.Parts, Level: -1}
	}
	for level := 0; len(frontier) > 0; level++ {
		if p := x.stats.Part; p != nil && p.Level < 0 && len(frontier) >= x.splitWidth() {
			frontier = x.share(frontier, level)
			workers = all
			if len(frontier) == 0 {
				break
			}
		}
		x.stats.Depth, x.stats.Frontier = level, len(frontier)
		x.level.Store(int64(level))
		x.width.Store(int64(len(frontier)))
		x.stats.WidestLevel = max(x.stats.WidestLevel, len(frontier))
		var wg sync.WaitGroup
		for wi, w := range workers {
			wg.Add(1)
			// This level's states are in the arenas of parity level%2;
			// the next level's go to the other, whose states, two levels
			// back, are done with.
			w.levels[(level+1)%2].reset()
			go func() {
				defer wg.Done()
				for i := wi; i < len(frontier); i += len(workers) {
					w.expand(frontier[i], level)
				}
			}()
		}
		wg.Wait()
		n := int(x.next.Load())
		x.parents = grow(x.parents, n)
		x.fps = grow(x.fps, n)
		x.depth = grow(x.depth, n)
		if x.cfg.Liveness {
			x.edges = grow(x.edges, n)
			x.goal = grow(x.goal, n)
		}
		frontier = frontier[:0]
		for _, w := range workers {
			for _, r := range w.recs {
				x.parents[r.idx], x.fps[r.idx], x.depth[r.idx] = r.parent, r.fp, uint16(level+1)
				if x.cfg.Liveness {
					x.goal[r.idx] = r.done
				}
			}
			for _, e := range w.edges {
				x.edges[e[0]] = append(x.edges[e[0]], e[1])
			}
			frontier = append(frontier, w.next...)
			x.gen.Add(w.gen.Swap(0))
			x.stuckF19 += w.stuck
			x.terminal += w.term
			if w.stuckAt >= 0 && x.stuckAt < 0 {
				x.stuckAt = w.stuckAt // levels run in order: the first is the shallowest
			}
			if w.bad != nil && (x.bad == nil || w.bad.level < x.bad.level) {
				x.bad = w.bad
			}
			w.recs, w.edges, w.next, w.stuck, w.term, w.bad = w.recs[:0], w.edges[:0], nil, 0, 0, nil
		}
		held := 0
		for _, w := range all {
			held += w.levels[0].bytes() + w.levels[1].bytes() + w.work.bytes()
		}
		x.updateStats(true)
		x.stats.PeakHeapBytes = max(x.stats.PeakHeapBytes, uint64(x.storedBytes())+uint64(held))
		if x.bad != nil {
			complete = false
			break
		}
		if x.cfg.MaxStates > 0 && int(x.next.Load()) >= x.cfg.MaxStates && len(frontier) > 0 {
			complete = false
			break
		}
	}
	x.stats.Complete = complete
	x.updateStats(false)
	return x.result()
}

func (x *Explorer) splitWidth() int {
	if x.cfg.SplitWidth > 0 {
		return x.cfg.SplitWidth * x.cfg.Parts
	}
	return DefaultSplitWidth * x.cfg.Parts
}

// share keeps this part's states of the split level: every Parts-th, in
// the order the one worker found them.
func (x *Explorer) share(frontier []node, level int) []node {
	p := x.stats.Part
	p.Level, p.Width = level, len(frontier)
	kept := frontier[:0]
	for i, nd := range frontier {
		if i%x.cfg.Parts == x.cfg.Part-1 {
			kept = append(kept, nd)
		}
	}
	clear(frontier[len(kept):])
	p.Kept = len(kept)
	return kept
}

// progress calls Config.Progress once a second, from its own goroutine,
// with counts read atomically, until the returned stop is called.
func (x *Explorer) progress(workers []*worker) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				s := Stats{Generated: x.gen.Load(), Distinct: x.next.Load(), Depth: int(x.level.Load()),
					Frontier: int(x.width.Load()), Elapsed: time.Since(x.start), Workers: len(workers)}
				for _, w := range workers {
					s.Generated += w.gen.Load()
				}
				s.StatesPerSecond = float64(s.Distinct) / s.Elapsed.Seconds()
				x.cfg.Progress(s)
			}
		}
	}()
	return func() { close(done); <-finished }
}

func grow[T any](s []T, n int) []T {
	if n <= len(s) {
		return s
	}
	return append(s, make([]T, n-len(s))...)
}

func (x *Explorer) updateStats(quick bool) {
	x.stats.Generated = x.gen.Load()
	x.stats.Distinct = x.next.Load()
	x.stats.Elapsed = time.Since(x.start)
	x.stats.Workers = x.cfg.Workers
	if s := x.stats.Elapsed.Seconds(); s > 0 {
		x.stats.StatesPerSecond = float64(x.stats.Distinct) / s
	}
	if !quick && x.stats.Distinct > 0 {
		x.stats.BytesPerState = float64(x.storedBytes()) / float64(x.stats.Distinct)
	}
}

// storedBytes is what the stored states hold: the visited set's tables, the parallel arrays and edge lists, by capacity.
func (x *Explorer) storedBytes() int64 {
	var b int64
	for i := range x.shards {
		b += int64(cap(x.shards[i].table)) * int64(unsafe.Sizeof(entry{}))
	}
	b += int64(cap(x.parents))*4 + int64(cap(x.fps))*8 + int64(cap(x.depth))*2
	if x.cfg.Liveness {
		b += int64(cap(x.edges))*24 + int64(cap(x.goal))
		for _, e := range x.edges {
			b += int64(cap(e)) * 4
		}
	}
	return b
}

func (x *Explorer) newWorker() *worker {
	w := &worker{x: x, k: newKeyer(x), stuckAt: -1, work: &state{mem: &model.Scratch{}}}
	// Names known by their strings' identity are found at once
	// (names.of); the worker's state keeps them so when it is rebuilt.
	n := x.names
	w.work.mem.Intern(n.client...)
	w.work.mem.Intern(n.server...)
	w.work.mem.Intern(n.clientEP...)
	w.work.mem.Intern(n.serverEP...)
	return w
}

func (w *worker) fingerprint(st *state) uint64 {
	fp := maphash.Bytes(w.x.seed, w.k.key(st))
	if fp == 0 {
		fp = 1 // 0 means "no successor" in found
	}
	return fp
}

// expand generates every successor of one stored state: every enabled
// step, with every answer to every open choice it asks. The state is
// rebuilt from its encoding into the worker's own state, each step is
// taken on it, which is then restored (see save), and only a successor
// that is new is encoded, into the worker's arena for the next level.
func (w *worker) expand(n node, level int) {
	x := w.x
	if err := x.loadState(w.work, n.data); err != nil {
		panic(err) // the explorer's own encoding: a bug
	}
	nd := expanding{idx: n.idx, st: w.work}
	nd.st.w.SetChooser(&w.ch)
	w.save(nd.st)
	w.acts = x.actions(nd.st, w.acts[:0], &w.pend)
	if len(w.acts) == 0 {
		w.term++
		if !x.done(nd.st) {
			w.report(&found{v: &violation{Rule: "deadlock", Fact: "F1, F19", Msg: "no step is possible, yet some request is neither answered nor lost"}, parent: nd.idx, level: level})
		}
	}
	for i := range nd.st.clients {
		if x.stuck(nd.st, i) {
			w.stuck++
			if w.stuckAt < 0 {
				w.stuckAt = int32(nd.idx)
			}
			break
		}
	}
	if x.checkRestore {
		w.saved.key = append(w.saved.key[:0], w.k.key(nd.st)...)
	}
	for _, a := range w.acts {
		w.branch(nd, a, nil, level)
	}
}

// branch takes step a with the forced choices prefix on the state being
// expanded, stores the successor if it is new, restores the state, and
// then takes every choice that the step asked beyond prefix with each of
// its other answers.
func (w *worker) branch(nd expanding, a action, prefix []int, level int) {
	x := w.x
	st := nd.st
	bad := w.apply(st, a, prefix)
	asked := w.branches(len(prefix))
	w.gen.Add(1)
	fp := w.fingerprint(st)
	if x.cfg.Determinism && bad == nil {
		w.key = append(w.key[:0], w.k.key(st)...)
		w.effects[0], w.effects[1] = w.effects[1], w.effects[0]
		w.restore(st)
		w.apply(st, a, prefix)
		switch {
		case !bytes.Equal(w.key, w.k.key(st)):
			bad = &violation{Rule: "determinism", Msg: "the same step with the same choices gave two different states: the model made a choice without its Chooser"}
		case !reflect.DeepEqual(w.effects[0], w.effects[1]):
			// A choice that only sets a duration (the reconnect jitter,
			// which the explorer answers 0, F23) shows in the effects.
			bad = &violation{Rule: "determinism", Msg: "the same step with the same choices had two different effects: the model made a choice without its Chooser"}
		}
	}
	if bad != nil {
		w.report(&found{v: bad, parent: nd.idx, fp: fp, label: x.label(a, prefix), level: level + 1})
	} else {
		idx, isNew := x.insert(fp)
		if isNew {
			w.recs = append(w.recs, record{idx: idx, parent: nd.idx, fp: fp, done: x.cfg.Liveness && x.done(st)})
			w.enc = st.appendState(w.enc[:0])
			w.next = append(w.next, node{idx: idx, data: w.levels[(level+1)%2].add(w.enc)})
		}
		if x.cfg.Liveness && !a.fault() {
			w.edges = append(w.edges, [2]uint32{nd.idx, idx})
		}
	}
	w.restore(st)
	if x.checkRestore && !bytes.Equal(w.saved.key, w.k.key(st)) {
		w.report(&found{v: &violation{Rule: "harness", Msg: "a restored state differs from the state saved"}, parent: nd.idx, fp: fp, label: x.label(a, prefix), level: level + 1})
	}
	for i := len(prefix); i < len(asked); i++ {
		for v := 1; v < asked[i]; v++ {
			p := make([]int, i+1)
			copy(p, prefix)
			p[i] = v
			w.branch(nd, a, p, level)
		}
	}
}

// expanding is the state being expanded and its index.
type expanding struct {
	idx uint32
	st  *state
}

// spare returns a copy no longer in use, or nil.
func (w *worker) spare() *state {
	n := len(w.free)
	if n == 0 {
		return nil
	}
	st := w.free[n-1]
	w.free[n-1] = nil
	w.free = w.free[:n-1]
	return st
}

// branches returns the choices the last step asked, when one of them
// beyond the first known ones has another answer to try, and nil
// otherwise: most steps ask nothing, or only choices of one option, and
// then nothing is copied. The copy lives in per-depth scratch memory, since
// the branches it leads to run steps of their own.
func (w *worker) branches(known int) []int {
	asked := w.ch.asked
	more := false
	for _, n := range asked[min(known, len(asked)):] {
		if n > 1 {
			more = true
			break
		}
	}
	if !more {
		return nil
	}
	for len(w.asked) <= known {
		w.asked = append(w.asked, nil)
	}
	w.asked[known] = append(w.asked[known][:0], asked...)
	return w.asked[known]
}

// step computes one successor on a copy of st and the first invariant it
// breaks.
func (w *worker) step(st *state, a action, prefix []int) (*state, *violation) {
	w.ch.reset(prefix)
	succ := st.cloneInto(w.spare(), &w.ch)
	w.r = run{x: w.x, st: succ, ch: &w.ch, eff: w.r.eff}
	w.r.apply(a)
	return succ, w.r.bad
}

// apply takes step a on st itself, whose world resolves its choices with
// the worker's forcer, and returns the first invariant it breaks.
func (w *worker) apply(st *state, a action, prefix []int) *violation {
	w.ch.reset(prefix)
	w.r = run{x: w.x, st: st, ch: &w.ch, eff: w.r.eff}
	if w.x.cfg.Determinism {
		w.effects[0] = w.effects[0][:0]
		w.r.log = &w.effects[0]
	}
	w.r.apply(a)
	return w.r.bad
}

// saved is a state as it was before the steps taken on it.
type saved struct {
	world   model.Snapshot
	clients []client
	servers []server
	used    Faults
	cut     uint64
	key     []byte // its key, when Explorer.checkRestore is set
}

// save records st, rebuilt or copied and with no step taken on it since
// (model.World.Save), so that restore can undo the steps taken on
// it after. The clients' queues are copied into memory of the record's
// own, since a step writes to a queue's bytes.
func (w *worker) save(st *state) {
	sv := &w.saved
	st.w.Save(&sv.world)
	sv.used, sv.cut = st.used, st.cut
	sv.servers = append(sv.servers[:0], st.servers...)
	sv.clients = copyClients(sv.clients, st.clients)
}

// restore returns st to what save recorded.
func (w *worker) restore(st *state) {
	sv := &w.saved
	st.w.Restore(&sv.world)
	st.used, st.cut = sv.used, sv.cut
	copy(st.servers, sv.servers)
	st.clients = copyClients(st.clients, sv.clients)
}

func (w *worker) report(f *found) {
	if w.bad == nil || f.level < w.bad.level {
		w.bad = f
	}
}

// String summarises the stats on one line, as the progress line shows them.
func (s Stats) String() string {
	return fmt.Sprintf("depth %d, %d distinct states, %d generated, %.0f states/s, frontier %d, %s",
		s.Depth, s.Distinct, s.Generated, s.StatesPerSecond, s.Frontier, s.Elapsed.Round(time.Millisecond))
}
