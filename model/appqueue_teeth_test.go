//go:build teeth

package model_test

import (
	"reflect"
	"strconv"
	"testing"

	"github.com/zeromq-lockstep/lockstep/model"
)

// TestAppQueueDropAbove: the mutant QueueDropsAbove drops past its bound.
func TestAppQueueDropAbove(t *testing.T) {
	var q model.AppQueue
	if err := q.Mutate(model.Mutation{QueueDropsAbove: 2}); err != nil {
		t.Fatal(err)
	}
	for i, want := range []bool{true, true, false, false} {
		if got := q.Enqueue(model.Message{strconv.Itoa(i)}); got != want {
			t.Fatalf("Enqueue %d kept=%v, want %v", i, got, want)
		}
	}
	if got := q.Items(); !reflect.DeepEqual(got, []model.Message{{"0"}, {"1"}}) {
		t.Fatalf("Items %q", got)
	}
}
