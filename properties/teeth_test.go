package properties_test

import (
	"flag"
	"fmt"
	"strings"
	"testing"

	"lockstep/model"
	"lockstep/properties"

	"pgregory.net/rapid"
)

// captureTB is a rapid.TB that records a failure instead of failing the
// test, so a test can assert that a property does fail.
type captureTB struct {
	name   string
	failed bool
	log    strings.Builder
}

type failNow struct{}

func (c *captureTB) Helper()                         {}
func (c *captureTB) Name() string                    { return c.name }
func (c *captureTB) Logf(format string, args ...any) { fmt.Fprintf(&c.log, format+"\n", args...) }
func (c *captureTB) Log(args ...any)                 { fmt.Fprintln(&c.log, args...) }
func (c *captureTB) Skipf(format string, args ...any) {
	panic("teeth: a property skipped")
}
func (c *captureTB) Skip(args ...any) { panic("teeth: a property skipped") }
func (c *captureTB) SkipNow()         { panic("teeth: a property skipped") }
func (c *captureTB) Errorf(format string, args ...any) {
	c.failed = true
	c.Logf(format, args...)
}
func (c *captureTB) Error(args ...any) { c.failed = true; c.Log(args...) }
func (c *captureTB) Fatalf(format string, args ...any) {
	c.Errorf(format, args...)
	panic(failNow{})
}
func (c *captureTB) Fatal(args ...any) { c.Error(args...); panic(failNow{}) }
func (c *captureTB) FailNow()          { c.failed = true; panic(failNow{}) }
func (c *captureTB) Fail()             { c.failed = true }
func (c *captureTB) Failed() bool      { return c.failed }

// breaks reports whether rapid finds a counterexample to p on the model
// with mut, and the message it found.
func breaks(t *testing.T, p properties.Property, mut model.Mutation) (bool, string) {
	t.Helper()
	tb := &captureTB{name: t.Name() + "/" + p.Test}
	func() {
		defer func() {
			if r := recover(); r != nil {
				if _, ok := r.(failNow); !ok {
					panic(r)
				}
			}
		}()
		rapid.Check(tb, p.Check(mut))
	}()
	msg := tb.log.String()
	if i := strings.Index(msg, "[rapid] failed"); i >= 0 {
		msg = msg[i:]
		if j := strings.IndexByte(msg, '\n'); j > 0 {
			msg = msg[:j]
		}
	}
	return tb.failed, msg
}

var noMutation model.Mutation

// setBenchFlag sets a rapid flag for the rest of the benchmark.
func setBenchFlag(b *testing.B, name, value string) {
	old := flag.Lookup(name).Value.String()
	if err := flag.Set(name, value); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = flag.Set(name, old) })
}

// setFlag sets a rapid flag for the rest of the test.
func setFlag(t *testing.T, name, value string) {
	old := flag.Lookup(name).Value.String()
	if err := flag.Set(name, value); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = flag.Set(name, old) })
}

// TestTeeth runs each property against deliberately broken models and
// asserts that it catches every mutant it should, and that every property
// is broken by some mutant: a property nothing breaks checks nothing.
func TestTeeth(t *testing.T) {
	if testing.Short() {
		t.Skip("teeth: skipped in -short mode")
	}
	setFlag(t, "rapid.nofailfile", "true") // mutants' failures are expected, not regressions
	setFlag(t, "rapid.checks", "300")
	setFlag(t, "rapid.shrinktime", "2s")
	mutants := []struct {
		name     string
		mut      model.Mutation
		caughtBy []string
	}{
		{"a REQ that allows a second send", model.Mutation{SecondSend: true}, []string{"TestLockstepOrdering"}},
		{"a REP that serves one client's requests out of order", model.Mutation{ReorderRequests: true}, []string{"TestLockstepOrdering"}},
		{"a crash that keeps the held request", model.Mutation{KeepHeldOnCrash: true}, []string{"TestLossOnRestart"}},
		{"a queue that drops when it grows long", model.Mutation{QueueDropsAbove: 3}, []string{"TestIndefiniteQueue"}},
		{"a reconnect that resends the lost request", model.Mutation{ResendOnReconnect: true}, []string{"TestLossOnRestart"}},
		{"a correlate that accepts any id", model.Mutation{AcceptAnyID: true}, []string{"TestLockstepOrdering", "TestLazyPirate"}},
		{"choices that leak between runs", model.Mutation{SharedChoices: true}, []string{"TestDeterminism"}},
	}
	broken := map[string]bool{}
	for _, m := range mutants {
		for _, test := range m.caughtBy {
			p, ok := properties.Lookup(test)
			if !ok {
				t.Fatalf("teeth: no property %s", test)
			}
			t.Run(strings.ReplaceAll(m.name, " ", "_")+"/"+test, func(t *testing.T) {
				caught, msg := breaks(t, p, m.mut)
				if !caught {
					t.Fatalf("teeth: %s did not catch %s", test, m.name)
				}
				broken[test] = true
				t.Logf("caught: %s", msg)
			})
		}
	}
	for _, p := range properties.All {
		if !broken[p.Test] && !p.Real {
			t.Errorf("teeth: no mutant breaks %s: it checks nothing", p.Test)
		}
	}
}
