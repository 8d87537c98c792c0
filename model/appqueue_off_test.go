//go:build !teeth

package model_test

import (
	"errors"
	"testing"

	"github.com/zeromq-lockstep/lockstep/model"
)

// TestAppQueueHasNoMutationsByDefault: without -tags teeth a queue
// refuses the mutation that would make it lose messages.
func TestAppQueueHasNoMutationsByDefault(t *testing.T) {
	var q model.AppQueue
	if err := q.Mutate(model.Mutation{QueueDropsAbove: 2}); !errors.Is(err, model.ErrNoMutations) {
		t.Fatalf("Mutate: %v, want ErrNoMutations", err)
	}
	if err := q.Mutate(model.Mutation{}); err != nil {
		t.Fatalf("Mutate of no mutation: %v", err)
	}
}
