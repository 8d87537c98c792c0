package model_test

import (
	"reflect"
	"testing"

	"github.com/zeromq-lockstep/lockstep/model"
)

// TestDeviationsCoverProfile: every boolean field of Profile is described
// in Deviations, and every description names a real field and real facts,
// so SPEC.md's zmq4 column cannot silently miss a deviation.
func TestDeviationsCoverProfile(t *testing.T) {
	typ := reflect.TypeOf(model.Profile{})
	described := map[string]bool{}
	for _, d := range model.Deviations {
		f, ok := typ.FieldByName(d.Field)
		if !ok || f.Type.Kind() != reflect.Bool {
			t.Errorf("deviation %s names no boolean field of Profile", d.Field)
		}
		if len(d.Facts) == 0 || d.Summary == "" {
			t.Errorf("deviation %s cites no fact or has no summary", d.Field)
		}
		for _, id := range d.Facts {
			if _, ok := model.LookupFact(id); !ok {
				t.Errorf("deviation %s cites unknown fact %s", d.Field, id)
			}
		}
		described[d.Field] = true
	}
	for i := 0; i < typ.NumField(); i++ {
		if f := typ.Field(i); f.Type.Kind() == reflect.Bool && !described[f.Name] {
			t.Errorf("Profile.%s is not described in model.Deviations", f.Name)
		}
	}
	if got := len(model.LibZMQ.Departures()); got != 0 {
		t.Errorf("LibZMQ departs from %d facts, want none", got)
	}
}
