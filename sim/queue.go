package sim

import (
	"container/heap"
	"time"
)

// event is one scheduled action. seq breaks ties between events at the
// same virtual time in the order they were scheduled, which is what makes a
// run reproducible.
type event struct {
	at  time.Duration
	seq uint64
	do  func()
}

// agenda is the simulator's event queue: a min-heap on (at, seq).
type agenda []event

func (a agenda) Len() int { return len(a) }
func (a agenda) Less(i, j int) bool {
	if a[i].at != a[j].at {
		return a[i].at < a[j].at
	}
	return a[i].seq < a[j].seq
}
func (a agenda) Swap(i, j int) { a[i], a[j] = a[j], a[i] }
func (a *agenda) Push(x any)   { *a = append(*a, x.(event)) }
func (a *agenda) Pop() any {
	old := *a
	e := old[len(old)-1]
	old[len(old)-1] = event{}
	*a = old[:len(old)-1]
	return e
}

func (a *agenda) push(e event) { heap.Push(a, e) }
func (a *agenda) pop() event   { return heap.Pop(a).(event) }
func (a agenda) peek() event   { return a[0] }
