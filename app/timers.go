package app

import "time"

// timer is one of a run's application timers: a client's send, a
// server's reply, a fault. seq breaks ties in the order they were set,
// which is what makes a run reproducible.
type timer struct {
	at   time.Duration
	seq  uint64
	kind timerKind
	id   int // the index of the client or server
	aux  int // the incarnation a reply belongs to
	do   func() error
}

type timerKind uint8

const (
	timerTick  timerKind = iota + 1 // a client's interval (Client.NextSend)
	timerReply                      // a server's reply delay (Server.Policy)
	timerFault                      // a Fault's action
)

// timers is a binary min-heap on (at, seq), written out rather than on
// container/heap, which would box every timer: ticks and replies are
// most of a long run's work.
type timers struct {
	h   []timer
	seq uint64
}

func (t timer) before(u timer) bool {
	if t.at != u.at {
		return t.at < u.at
	}
	return t.seq < u.seq
}

func (q *timers) push(t timer) {
	q.seq++
	t.seq = q.seq
	h := append(q.h, t)
	for i := len(h) - 1; i > 0; {
		p := (i - 1) / 2
		if !h[i].before(h[p]) {
			break
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
	q.h = h
}

func (q *timers) peek() (timer, bool) {
	if len(q.h) == 0 {
		return timer{}, false
	}
	return q.h[0], true
}

func (q *timers) pop() timer {
	h := q.h
	top := h[0]
	n := len(h) - 1
	h[0] = h[n]
	h[n] = timer{}
	h = h[:n]
	for i := 0; ; {
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
	q.h = h
	return top
}

// at schedules a fault's action at t.
func (r *runner) at(t time.Duration, do func() error) {
	r.timers.push(timer{at: t, kind: timerFault, do: do})
}
