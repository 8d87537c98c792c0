//go:build teeth

package check

import (
	"testing"

	"github.com/zeromq-lockstep/lockstep/model"
)

// mutants are the TestTeeth mutants of package properties, each with a
// small configuration in which check must catch it.
var mutants = []struct {
	name string
	cfg  Config
}{
	{"second send", Config{Clients: 1, Servers: 1, Requests: 2, Mutation: model.Mutation{SecondSend: true}}},
	{"reorder requests", Config{Clients: 1, Servers: 1, Requests: 2, Options: model.Options{ReqRelaxed: true}, Mutation: model.Mutation{ReorderRequests: true}}},
	{"keep held on crash", Config{Clients: 1, Servers: 1, Requests: 1, Faults: Faults{Crashes: 1, Restarts: 1}, Mutation: model.Mutation{KeepHeldOnCrash: true}}},
	{"queue drops above 3", Config{Clients: 1, Servers: 1, Requests: 5, Options: model.Options{Immediate: true}, Mutation: model.Mutation{QueueDropsAbove: 3}}},
	{"resend on reconnect", Config{Clients: 1, Servers: 1, Requests: 1, Faults: Faults{Crashes: 1, Restarts: 1}, Mutation: model.Mutation{ResendOnReconnect: true}}},
	{"accept any id", Config{Clients: 1, Servers: 1, Requests: 2, Options: model.Options{ReqRelaxed: true, ReqCorrelate: true}, Mutation: model.Mutation{AcceptAnyID: true}}},
	// One worker: the mutant's counter is shared by every goroutine, and
	// a second worker's choice between a step and its rerun can give the
	// rerun the same answer, hiding the mutant from that step (a flaky
	// miss seen with two workers).
	// A crash, so that a reconnect's jitter, a choice that sets only a
	// timer's length, shows the mutant in one operation, as rapid's
	// shrunk runs do.
	{"shared choices", Config{Clients: 2, Servers: 1, Requests: 1, Faults: Faults{Crashes: 1}, Determinism: true, Workers: 1, Mutation: model.Mutation{SharedChoices: true}}},
}

// TestTeeth: check catches every mutant of the properties' TestTeeth in a
// small configuration, with a shortest counterexample, and the same
// configurations without the mutant pass.
func TestTeeth(t *testing.T) {
	for _, m := range mutants {
		t.Run(m.name, func(t *testing.T) {
			res := mustCheck(t, m.cfg)
			if res.Violation == nil {
				t.Fatalf("check did not catch %s", m.name)
			}
			v := res.Violation
			t.Logf("caught: %s (%s): %s in %d steps: %v", v.Rule, v.Fact, v.Message, len(v.Steps), v.Steps)
			if len(v.Trace) == 0 {
				t.Errorf("counterexample has no trace")
			}
			clean := m.cfg
			clean.Mutation = model.Mutation{}
			if res := mustCheck(t, clean); res.Violation != nil {
				t.Errorf("without the mutant: %s: %s %v", res.Violation.Rule, res.Violation.Message, res.Violation.Steps)
			}
		})
	}
}

// TestSymmetryKeepsMutantVerdicts: symmetry reduction finds each mutant's
// violation at the same depth as the plain search.
func TestSymmetryKeepsMutantVerdicts(t *testing.T) {
	for _, m := range mutants {
		if m.cfg.Clients < 2 && m.cfg.Servers < 2 {
			continue
		}
		cfg, plain := m.cfg, m.cfg
		plain.NoSymmetry = true
		a, b := mustCheck(t, cfg), mustCheck(t, plain)
		if a.Violation == nil || b.Violation == nil || len(a.Violation.Steps) != len(b.Violation.Steps) {
			t.Errorf("%s: with and without symmetry: %+v / %+v", m.name, a.Violation, b.Violation)
		}
	}
}

// TestPartsKeepMutantVerdicts: every mutant the whole run catches is
// caught by some part of a split run, with a counterexample as short, and
// no part finds a shorter one.
func TestPartsKeepMutantVerdicts(t *testing.T) {
	for _, m := range mutants {
		whole := mustCheck(t, m.cfg)
		if whole.Violation == nil {
			t.Fatalf("%s: the whole run does not catch it", m.name)
		}
		best := -1
		for i := 1; i <= 3; i++ {
			c := m.cfg
			c.Part, c.Parts, c.SplitWidth = i, 3, 1
			if res := mustCheck(t, c); res.Violation != nil && (best < 0 || len(res.Violation.Steps) < best) {
				best = len(res.Violation.Steps)
			}
		}
		if best != len(whole.Violation.Steps) {
			t.Errorf("%s: the whole's counterexample has %d steps, the parts' shortest %d", m.name, len(whole.Violation.Steps), best)
		}
	}
}
