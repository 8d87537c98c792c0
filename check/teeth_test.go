package check

import (
	"testing"

	"github.com/zeromq-lockstep/lockstep/model"
)

// mutants are the TestTeeth mutants of package properties, each with a
// small configuration in which check must catch it, and the number of
// steps of the counterexample rapid shrinks it to (operations of the
// property that catches it, as TestTeeth logs them); check's
// counterexample, in its own finer steps, must be no longer.
var mutants = []struct {
	name  string
	cfg   Config
	rapid int
}{
	{"second send", Config{Clients: 1, Servers: 1, Requests: 2, Mutation: model.Mutation{SecondSend: true}}, 2},
	{"reorder requests", Config{Clients: 1, Servers: 1, Requests: 2, Options: model.Options{ReqRelaxed: true}, Mutation: model.Mutation{ReorderRequests: true}}, 3},
	{"keep held on crash", Config{Clients: 1, Servers: 1, Requests: 1, Faults: Faults{Crashes: 1, Restarts: 1}, Mutation: model.Mutation{KeepHeldOnCrash: true}}, 4},
	{"queue drops above 3", Config{Clients: 1, Servers: 1, Requests: 5, Mutation: model.Mutation{QueueDropsAbove: 3}}, 5},
	{"resend on reconnect", Config{Clients: 1, Servers: 1, Requests: 1, Faults: Faults{Crashes: 1, Restarts: 1}, Mutation: model.Mutation{ResendOnReconnect: true}}, 4},
	{"accept any id", Config{Clients: 1, Servers: 1, Requests: 2, Options: model.Options{ReqRelaxed: true, ReqCorrelate: true}, Mutation: model.Mutation{AcceptAnyID: true}}, 4},
	{"shared choices", Config{Clients: 2, Servers: 1, Requests: 1, Determinism: true, Mutation: model.Mutation{SharedChoices: true}}, 4},
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
