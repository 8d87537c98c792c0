//go:build teeth

package properties_test

import (
	"strings"
	"testing"

	"github.com/zeromq-lockstep/lockstep/model"
	"github.com/zeromq-lockstep/lockstep/properties"

	"pgregory.net/rapid"
)

// breaks reports whether rapid finds a counterexample to p on the model
// with mut, and the message it found.
func breaks(t *testing.T, p properties.Property, mut model.Mutation) (bool, string) {
	t.Helper()
	tb := properties.NewRecordingTB(t.Name() + "/" + p.Test)
	tb.Run(func() { rapid.Check(tb, p.Check(mut)) })
	msg := tb.Output()
	if i := strings.Index(msg, "[rapid] failed"); i >= 0 {
		msg = msg[i:]
		if j := strings.IndexByte(msg, '\n'); j > 0 {
			msg = msg[:j]
		}
	}
	return tb.Failed(), msg
}

// TestTeeth runs each property against deliberately broken models and
// asserts that it catches every mutant it should, and that every property
// is broken by some mutant: a property nothing breaks checks nothing.
func TestTeeth(t *testing.T) {
	if testing.Short() {
		t.Skip("teeth: skipped in -short mode")
	}
	setFlag(t, "rapid.nofailfile", "true") // mutants' failures are expected, not regressions
	// Most mutants are caught within a few hundred checks, some after
	// 200 on average (a REP that reorders one client's requests, under
	// TestLockstepOrdering), so 1000 would miss one now and then: the
	// properties on the model get 5000, which a caught mutant never
	// reaches; the one on real sockets 1000.
	setFlag(t, "rapid.checks", "5000")
	setFlag(t, "rapid.shrinktime", "2s")
	mutants := []struct {
		name     string
		mut      model.Mutation
		caughtBy []string
	}{
		{"a REQ that allows a second send", model.Mutation{SecondSend: true}, []string{"TestLockstepOrdering", "TestReconnectingServers"}},
		{"a REP that serves one client's requests out of order", model.Mutation{ReorderRequests: true}, []string{"TestLockstepOrdering"}},
		{"a crash that keeps the held request", model.Mutation{KeepHeldOnCrash: true}, []string{"TestLossOnRestart", "TestSimulatorScenarios", "TestReconnectingServers"}},
		{"a REQ that takes a reply from any pipe", model.Mutation{AnyReplyPipe: true}, []string{"TestRawPeers"}},
		{"a queue that drops when it grows long", model.Mutation{QueueDropsAbove: 3}, []string{"TestIndefiniteQueue"}},
		{"a reconnect that resends the lost request", model.Mutation{ResendOnReconnect: true}, []string{"TestLossOnRestart"}},
		{"a correlate that accepts any id", model.Mutation{AcceptAnyID: true}, []string{"TestLockstepOrdering", "TestLazyPirate"}},
		{"choices that leak between runs", model.Mutation{SharedChoices: true}, []string{"TestDeterminism"}},
		// The model under the zmq4 profile must predict real zmq4: a REP
		// that serves a client's newest request first no longer does.
		{"a REP that serves one client's requests out of order (zmq4 profile)", model.Mutation{ReorderRequests: true}, []string{"TestModelAgreesWithZMQ4", "TestModelAgreesWithZMQ4OverTCP"}},
	}
	broken := map[string]bool{}
	for _, m := range mutants {
		for _, test := range m.caughtBy {
			p, ok := properties.Lookup(test)
			if !ok {
				t.Fatalf("teeth: no property %s", test)
			}
			t.Run(strings.ReplaceAll(m.name, " ", "_")+"/"+test, func(t *testing.T) {
				if p.Real {
					setFlag(t, "rapid.checks", "1000")
				}
				caught, msg := breaks(t, p, m.mut)
				if !caught {
					t.Fatalf("teeth: %s did not catch %s", test, m.name)
				}
				broken[test] = true
				t.Logf("caught: %s", msg)
			})
		}
	}
	// The agenda's defects are the simulator's, not the model's: mutation
	// testing of sim/ (scripts/mutation) measures what it catches.
	broken["TestSimulatorAgenda"] = true
	for _, p := range properties.All {
		if !broken[p.Test] {
			t.Errorf("teeth: no mutant breaks %s: it checks nothing", p.Test)
		}
	}
}
