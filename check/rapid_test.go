//go:build teeth

package check

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/zeromq-lockstep/lockstep/properties"

	"pgregory.net/rapid"
)

// operations counts a counterexample's steps as the properties' operations
// would: deliveries, dial completions and timers are no operation, since
// the simulator makes them happen inside every operation; a restart or a
// heal is part of rapid's crash or cut; and a server's read right after its
// reply is one cycle.
func operations(steps []string) int {
	n := 0
	replied := map[string]bool{}
	for _, s := range steps {
		kind, who, _ := strings.Cut(s, " ")
		switch kind {
		case "arrive", "dial-done", "timer", "restart", "heal":
			continue
		case "serve":
			if replied[who] {
				replied[who] = false
				continue
			}
		}
		clear(replied)
		if kind == "reply" {
			replied[who] = true
		}
		n++
	}
	return n
}

func setRapidFlag(t *testing.T, name, value string) {
	old := flag.Lookup(name).Value.String()
	if err := flag.Set(name, value); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = flag.Set(name, old) })
}

// TestNoLongerThanRapid: for every TestTeeth mutant, rapid finds and
// shrinks a failure with the property TestTeeth catches it by, and check's
// counterexample in its small configuration has no more operations. Each
// mutant's configuration is one that admits the fewest operations any
// configuration does (a queue that drops shows soonest with Immediate, when
// the first request cannot leave the queue), so a rapid sequence shorter
// than check's would mean check missed a shorter counterexample.
func TestNoLongerThanRapid(t *testing.T) {
	if testing.Short() {
		t.Skip("runs rapid with shrinking")
	}
	setRapidFlag(t, "rapid.nofailfile", "true")
	setRapidFlag(t, "rapid.checks", "2000")
	setRapidFlag(t, "rapid.shrinktime", "2s")
	// Several seeds every run, new ones each time unless -rapid.seed
	// names one: any seed's shrunk run must be at least as long as
	// check's counterexample (check sees a request put on the wire twice,
	// as rapid's ledger does, so ResendOnReconnect's single enqueue is
	// matched).
	seeds := []uint64{rand.Uint64(), rand.Uint64(), rand.Uint64()}
	if given := flag.Lookup("rapid.seed").Value.String(); given != "0" {
		v, err := strconv.ParseUint(given, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		seeds = []uint64{v}
	}
	caughtBy := map[string]string{
		"second send": "TestLockstepOrdering", "reorder requests": "TestLockstepOrdering",
		"keep held on crash": "TestLossOnRestart", "queue drops above 3": "TestIndefiniteQueue",
		"resend on reconnect": "TestLossOnRestart", "accept any id": "TestLockstepOrdering",
		"shared choices": "TestDeterminism",
	}
	for _, m := range mutants {
		t.Run(m.name, func(t *testing.T) {
			p, ok := properties.Lookup(caughtBy[m.name])
			if !ok {
				t.Fatalf("no property %s", caughtBy[m.name])
			}
			res := mustCheck(t, m.cfg)
			if res.Violation == nil {
				t.Fatalf("check did not catch %s", m.name)
			}
			got := operations(res.Violation.Steps)
			for _, seed := range seeds {
				setRapidFlag(t, "rapid.seed", strconv.FormatUint(seed, 10))
				again := fmt.Sprintf("go test -tags teeth ./check -run 'TestNoLongerThanRapid/%s' -rapid.seed=%d", strings.ReplaceAll(m.name, " ", "_"), seed)
				tb := properties.NewRecordingTB(t.Name())
				tb.Run(func() { rapid.Check(tb, p.Check(m.cfg.Mutation)) })
				if !tb.Failed() {
					t.Fatalf("rapid: did not catch %s with %s; again: %s", m.name, p.Test, again)
				}
				shrunk, ok := properties.LastRun()
				if !ok {
					t.Fatalf("rapid: no run recorded; again: %s", again)
				}
				t.Logf("seed %d: rapid: %d operations %v; check: %d operations in %d steps %v", seed, len(shrunk.Ops), shrunk.Ops, got, len(res.Violation.Steps), res.Violation.Steps)
				if got > len(shrunk.Ops) {
					t.Errorf("rapid: check's counterexample has %d operations, rapid's shrunk one %d; again: %s", got, len(shrunk.Ops), again)
				}
			}
		})
	}
}
