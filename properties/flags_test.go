package properties_test

import (
	"flag"
	"testing"

	"github.com/zeromq-lockstep/lockstep/model"
)

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
