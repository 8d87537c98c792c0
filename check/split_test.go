package check

import (
	"hash/maphash"
	"testing"
)

// explorePart explores cfg as part i of n with the given fingerprint seed,
// so that the fingerprints of different explorers can be compared.
func explorePart(t *testing.T, cfg Config, i, n int, seed maphash.Seed) (*Explorer, *Result) {
	t.Helper()
	cfg.Part, cfg.Parts = i, n
	x, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	x.seed = seed
	res, err := x.Explore()
	if err != nil {
		t.Fatal(err)
	}
	return x, res
}

// TestPartsCoverTheWhole: without symmetry reduction (where a state has
// one encoding, so fingerprints compare across runs), every state the
// whole run stores is stored by some part, and every part stores only
// states of the whole; the parts divide where Part says, and keep
// disjoint shares of that level that add up to it.
func TestPartsCoverTheWhole(t *testing.T) {
	cfg := Config{Clients: 2, Servers: 1, Requests: 2, Faults: Faults{Crashes: 1, Restarts: 1}, NoSymmetry: true, SplitWidth: 4}
	seed := maphash.MakeSeed()
	whole, wres := explorePart(t, cfg, 0, 0, seed)
	all := map[uint64]bool{}
	for _, fp := range whole.fps {
		all[fp] = true
	}
	const n = 3
	covered := map[uint64]bool{}
	var kept, sum int64
	width := 0
	for i := 1; i <= n; i++ {
		x, res := explorePart(t, cfg, i, n, seed)
		p := res.Stats.Part
		if p == nil || p.Index != i || p.Of != n || p.Level <= 0 || p.Width < 4*n {
			t.Fatalf("part %d: %+v", i, p)
		}
		kept += int64(p.Kept)
		width = p.Width
		sum += res.Stats.Distinct
		for _, fp := range x.fps {
			if !all[fp] {
				t.Fatalf("part %d stored a state the whole run does not have", i)
			}
			covered[fp] = true
		}
		if res.Violation != nil || !res.Stats.Complete {
			t.Fatalf("part %d: %+v complete=%v", i, res.Violation, res.Stats.Complete)
		}
		t.Logf("part %d/%d: %d distinct (the whole: %d), divided at level %d: %d of %d states", i, n, res.Stats.Distinct, wres.Stats.Distinct, p.Level, p.Kept, p.Width)
	}
	if len(covered) != len(all) {
		t.Fatalf("the parts stored %d of the whole's %d states", len(covered), len(all))
	}
	if kept != int64(width) {
		t.Fatalf("the parts kept %d states of the split level's %d", kept, width)
	}
	t.Logf("the parts stored %d states together, %.2f times the whole's %d", sum, float64(sum)/float64(len(all)), len(all))
}

// TestPartsAreDisjointAtTheSplit: the shares of the split level are the
// level's states dealt round, whatever the number of workers after it.
func TestPartsAreDisjointAtTheSplit(t *testing.T) {
	cfg := Config{Clients: 2, Servers: 2, Requests: 1, Faults: Faults{Crashes: 1, Restarts: 1}, NoSymmetry: true, Workers: 2}
	seed := maphash.MakeSeed()
	const n = 4
	seen := map[uint64]int{}
	width := 0
	for i := 1; i <= n; i++ {
		x, res := explorePart(t, cfg, i, n, seed)
		p := res.Stats.Part
		width = p.Width
		for idx, d := range x.depth {
			if int(d) == p.Level+1 {
				// the first states after the split come only from kept ones
				parent := x.parents[idx]
				seen[x.fps[parent]] |= 1 << i
			}
		}
	}
	for fp, parts := range seen {
		if parts&(parts-1) != 0 {
			t.Fatalf("state %x of the split level was expanded by parts %b", fp, parts)
		}
	}
	if len(seen) > width {
		t.Fatalf("%d states of the split level expanded, the level has %d", len(seen), width)
	}
}

// TestPartsKeepVerdicts: with symmetry reduction, a split run's parts
// agree with the whole: the clean model passes in every part, with the
// expected F19 outcome found by some part; and the violations a whole
// run finds are found, as short, by some part (teeth_test.go's mutants,
// in TestPartsKeepMutantVerdicts).
func TestPartsKeepVerdicts(t *testing.T) {
	cfg := Config{Clients: 2, Servers: 2, Requests: 2, Faults: Faults{Crashes: 1, Restarts: 1}, Liveness: true}
	whole := mustCheck(t, cfg)
	stuck := 0
	for i := 1; i <= 3; i++ {
		c := cfg
		c.Part, c.Parts = i, 3
		res := mustCheck(t, c)
		if res.Violation != nil {
			t.Errorf("part %d: %s", i, res.Violation.Rule)
		}
		if res.Stats.Part.Level >= 0 && res.Liveness == "checked" {
			t.Errorf("part %d checked liveness on part of the graph", i)
		}
		if len(res.Expected) > 0 {
			stuck++
		}
	}
	if whole.Violation != nil || len(whole.Expected) != 1 || stuck == 0 {
		t.Fatalf("the whole: %+v %+v; parts with the F19 outcome: %d", whole.Violation, whole.Expected, stuck)
	}
}

func TestPartValidation(t *testing.T) {
	for _, c := range []Config{
		{Clients: 1, Servers: 1, Part: 0, Parts: 2},
		{Clients: 1, Servers: 1, Part: 3, Parts: 2},
		{Clients: 1, Servers: 1, Part: 2, Parts: 1},
		{Clients: 1, Servers: 1, Part: 1, Parts: -1},
		{Clients: 1, Servers: 1, Part: 1, Parts: 2, SplitWidth: -1},
	} {
		if err := c.Validate(); err == nil {
			t.Errorf("%+v: no error", c)
		}
	}
}
