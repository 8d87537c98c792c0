package sim

import "time"

// event is one scheduled action. seq breaks ties between events at the
// same virtual time in the order they were scheduled, which is what makes a
// run reproducible.
type event struct {
	at  time.Duration
	seq uint64
	do  func() // a scheduled action, or nil for a typed event below
	// Arrivals and reconnect timers carry their data instead of a
	// closure: they are all but a handful of a run's events, and a
	// closure is an allocation. Dials are rare and keep a closure.
	id   int // the ConnID of an arrival, the TimerID of a timer
	aux  int // the Dir of an arrival
	kind netEvent
}

// netEvent says which input a typed event is.
type netEvent uint8

const (
	netNone   netEvent = iota
	netArrive          // World.Arrive(conn, dir)
	netTimer           // World.TimerFired(timer)
)

// agenda is the simulator's event queue: a binary min-heap on (at, seq).
// It is written out rather than built on container/heap, whose Push and Pop
// box every event in an interface: two allocations per event, a quarter of
// all the allocations of a long run.
type agenda []event

func (e event) before(f event) bool {
	if e.at != f.at {
		return e.at < f.at
	}
	return e.seq < f.seq
}

func (a *agenda) push(e event) {
	h := append(*a, e)
	i := len(h) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !h[i].before(h[p]) {
			break
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
	*a = h
}

func (a *agenda) pop() event {
	h := *a
	top := h[0]
	n := len(h) - 1
	h[0] = h[n]
	h[n] = event{}
	h = h[:n]
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && h[r].before(h[l]) {
			m = r
		}
		if !h[m].before(h[i]) {
			break
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
	*a = h
	return top
}

func (a agenda) peek() event { return a[0] }
