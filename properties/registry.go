package properties

import (
	"encoding/json"

	"github.com/zeromq-lockstep/lockstep/model"

	"pgregory.net/rapid"
)

// Property is one named property: its test name, the facts it rests on,
// and its check, which can run against a deliberately broken model.
type Property struct {
	Test  string         // the go test name, which is also rapid's fail-file folder
	Facts []model.FactID // the facts it checks
	// Real: the property runs zmq4 over real TCP sockets, so it is slow;
	// its teeth are tested with few checks.
	Real bool
	run  func(*rapid.T, model.Mutation)
}

// Check returns the property as rapid checks it, on the model with the
// given deliberate defects (none, for the real suite).
//
//	rapid.Check(t, p.Check(model.Mutation{}))
func (p Property) Check(mut model.Mutation) func(*rapid.T) {
	return func(t *rapid.T) {
		// The marker lets `lockstep replay` tell which property, at which
		// version, wrote a fail file: rapid saves this output in it.
		t.Logf("lockstep property %s version %d", p.Test, Version)
		if mut != (model.Mutation{}) {
			b, _ := json.Marshal(mut)
			t.Logf("lockstep mutation %s", b)
		}
		p.run(t, mut)
	}
}

// check runs the named property on the unmutated model.
func check(test string, t *rapid.T) {
	p, _ := Lookup(test)
	p.Check(model.Mutation{})(t)
}

// All is every property on the model, in the order the README lists them.
var All = []Property{
	{Test: "TestLockstepOrdering", Facts: []model.FactID{"F1", "F2", "F7", "F8", "F9", "F14", "F15"}, run: lockstepOrdering},
	{Test: "TestIndefiniteQueue", Facts: []model.FactID{"F1", "F3", "F24"}, run: indefiniteQueue},
	{Test: "TestLossOnRestart", Facts: []model.FactID{"F19", "F21", "F22"}, run: lossOnRestart},
	{Test: "TestLazyPirate", Facts: []model.FactID{"F7", "F20"}, run: lazyPirate},
	{Test: "TestRawPeers", Facts: []model.FactID{"F1", "F6", "F7", "F9"}, run: rawPeers},
	{Test: "TestReconnectingServers", Facts: []model.FactID{"F16", "F21", "F22"}, run: reconnectingServers},
	{Test: "TestDeterminism", Facts: []model.FactID{}, run: determinism},
	{Test: "TestSimulatorScenarios", Facts: []model.FactID{"F1", "F9", "F15", "F19", "F24"}, run: simulatorScenarios},
	{Test: "TestSimulatorAgenda", Facts: []model.FactID{}, run: simulatorAgenda},
	{Test: "TestModelAgreesWithZMQ4", Facts: []model.FactID{"F1", "F2", "F5", "F8", "F11", "F14", "F19"}, run: modelAgreesWithZMQ4},
	{Test: "TestModelAgreesWithZMQ4OverTCP", Facts: []model.FactID{"F1", "F2", "F5", "F8", "F11", "F14", "F19"}, run: modelAgreesWithZMQ4OverTCP, Real: true},
}

// Lookup finds a property by its test name.
func Lookup(test string) (Property, bool) {
	for _, p := range All {
		if p.Test == test {
			return p, true
		}
	}
	return Property{}, false
}
