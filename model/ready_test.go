package model_test

import (
	"reflect"
	"testing"

	"github.com/zeromq-lockstep/lockstep/model"
)

// TestAppendReadyMatchesReady runs the same steps on two worlds, one drained with Ready and
// one with AppendReady into a reused buffer, and checks that both see the
// same effects and that effects already handed out stay as they were.
func TestAppendReadyMatchesReady(t *testing.T) {
	a := model.NewWorld(model.LibZMQ, nil)
	b := model.NewWorld(model.LibZMQ, nil)
	var buf []model.Effect
	var kept [][]model.Effect // what AppendReady returned, as returned
	var copies [][]model.Effect
	step := func(what string, f func(w *model.World) error) {
		t.Helper()
		if err := f(a); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if err := f(b); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		want := a.Ready()
		buf = b.AppendReady(buf[:0])
		if !reflect.DeepEqual(append([]model.Effect(nil), buf...), append([]model.Effect(nil), want...)) {
			t.Fatalf("%s: AppendReady %+v, Ready %+v", what, buf, want)
		}
		// A second call has nothing new and leaves dst alone.
		if again := b.AppendReady(nil); len(again) != 0 {
			t.Fatalf("%s: second AppendReady %+v, want none", what, again)
		}
		kept = append(kept, buf)
		copies = append(copies, append([]model.Effect(nil), buf...))
		buf = nil // hand out a fresh buffer each step, so kept must not change
	}
	step("open", func(w *model.World) error {
		if err := w.NewREP("s", model.Options{}); err != nil {
			return err
		}
		if err := w.Bind("s", "tcp://s:1"); err != nil {
			return err
		}
		if err := w.NewREQ("c", model.Options{}); err != nil {
			return err
		}
		return w.Connect("c", "tcp://s:1")
	})
	dial, ok := copies[0][len(copies[0])-1].(model.Dial)
	if !ok {
		t.Fatalf("open: effects %+v, want a Dial last", copies[0])
	}
	step("dial", func(w *model.World) error { w.DialDone(dial.Attempt, true); return nil })
	step("send", func(w *model.World) error { return w.Send("c", model.Message{"7"}) })
	for i, k := range kept {
		if !reflect.DeepEqual(k, copies[i]) {
			t.Fatalf("step %d: effects handed out changed to %+v, were %+v", i, k, copies[i])
		}
	}
	// The steps did produce effects: a dial, a connect, a send, a
	// transmit.
	var n int
	for _, k := range kept {
		n += len(k)
	}
	if n < 4 {
		t.Fatalf("only %d effects in all: %+v", n, kept)
	}
}
