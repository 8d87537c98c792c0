package trace

import (
	"sort"

	"github.com/zeromq-lockstep/lockstep/model"
)

// Accumulator derives an Outcome from events as they happen, so that a
// caller comparing two runs need not hold either trace: it holds what the
// outcome holds (every delivered and received payload, the runs of error
// kinds, the lost payloads), which grows with the messages, not with the
// events of an idle queue.
//
//	var a trace.Accumulator
//	cfg.Sink = a.Add
//	...
//	o := a.Outcome()
type Accumulator struct {
	o    Outcome
	lost map[string]bool
}

// Add takes one event into the outcome.
func (a *Accumulator) Add(e Event) {
	if a.o.Delivered == nil {
		a.o = Outcome{Delivered: map[string][]string{}, Received: map[string][]string{}, Errors: map[string][]string{}}
		a.lost = map[string]bool{}
	}
	switch e.Kind {
	case model.EventDeliver:
		a.o.Delivered[e.Actor] = append(a.o.Delivered[e.Actor], e.Msg)
	case model.EventReceive:
		a.o.Received[e.Actor] = append(a.o.Received[e.Actor], e.Msg)
	case model.EventError, model.EventPanic, model.EventHang:
		k := ErrorKind(e)
		if l := a.o.Errors[e.Actor]; len(l) == 0 || l[len(l)-1] != k {
			a.o.Errors[e.Actor] = append(l, k)
		}
	case model.EventDrop:
		a.lost[e.Msg] = true
	}
}

// Outcome is the outcome of the events added so far.
func (a *Accumulator) Outcome() Outcome {
	if a.o.Delivered == nil {
		a.Add(Event{}) // allocates the maps; an empty event adds nothing
	}
	o := a.o
	o.Lost = nil
	for m := range a.lost {
		o.Lost = append(o.Lost, m)
	}
	sort.Strings(o.Lost)
	return o
}
