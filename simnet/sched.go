package simnet

import (
	"container/heap"
	"time"
)

// item is something the network does at a virtual instant: bytes (or the
// peer's FIN) reach an end, or a dial completes.
type item struct {
	at   time.Time
	key  string // what it happens to; orders items of one instant
	seq  uint64 // order among the items of one key
	end  *end   // arrival: the receiving end
	data []byte // arrival: the bytes (nil with fin)
	fin  bool   // arrival: the peer closed after these bytes
	dial *dial  // dial completion
	// alarm: closed for the harness (Network.Alarm); its key is "", so
	// it comes before the network's own items of the instant.
	alarm chan struct{}
}

type agenda []*item

func (a agenda) Len() int { return len(a) }
func (a agenda) Less(i, j int) bool {
	x, y := a[i], a[j]
	if !x.at.Equal(y.at) {
		return x.at.Before(y.at)
	}
	if x.key != y.key {
		return x.key < y.key
	}
	return x.seq < y.seq
}
func (a agenda) Swap(i, j int) { a[i], a[j] = a[j], a[i] }
func (a *agenda) Push(x any)   { *a = append(*a, x.(*item)) }
func (a *agenda) Pop() any {
	old := *a
	it := old[len(old)-1]
	*a = old[:len(old)-1]
	return it
}

// schedule adds it to the agenda; n.mu is held.
func (n *Network) schedule(it *item) {
	heap.Push(&n.agenda, it)
	n.kick()
}

func (n *Network) kick() {
	select {
	case n.wake <- struct{}{}:
	default:
	}
}

// loop is the network's scheduler, the only goroutine that calls
// synctest.Wait. Goroutines woken at one virtual instant run in any
// order, so the network never wakes two at once: it applies one item at a
// time, in (time, key) order, and lets the bubble settle after each, so
// whatever that item set off (a read returning, zmq4 answering, an accept)
// has happened before the next one. Settle requests are answered only
// when nothing is due any more at the current instant.
func (n *Network) loop() {
	defer close(n.done)
	for {
		n.wait()
		n.mu.Lock()
		if n.stopped {
			n.mu.Unlock()
			return
		}
		now := time.Now()
		if len(n.agenda) > 0 && !n.agenda[0].at.After(now) {
			it := heap.Pop(&n.agenda).(*item)
			n.apply(it)
			n.mu.Unlock()
			continue
		}
		if len(n.settlers) > 0 {
			for _, ch := range n.settlers {
				close(ch)
			}
			n.settlers = nil
			n.mu.Unlock()
			continue
		}
		var timer <-chan time.Time
		var t *time.Timer
		if len(n.agenda) > 0 {
			t = time.NewTimer(n.agenda[0].at.Sub(now))
			timer = t.C
		}
		n.mu.Unlock()
		select {
		case <-timer:
		case <-n.wake:
		}
		if t != nil {
			t.Stop()
		}
	}
}

// apply carries out one item; n.mu is held.
func (n *Network) apply(it *item) {
	if it.alarm != nil {
		close(it.alarm)
		return
	}
	if it.dial != nil {
		n.completeDial(it.dial)
		return
	}
	e := it.end
	if e.last == it {
		e.last = nil
	}
	e.pending -= len(it.data)
	if e.closed || e.err != nil || e.eof {
		return // reset or closed meanwhile: the loss was traced then
	}
	if len(it.data) > 0 {
		e.in = append(e.in, it.data...)
	}
	if it.fin {
		e.eof = true
	}
	e.signal()
}
