package simnet

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Event is one thing the network saw: at virtual time At, on host Host,
// Event happened (one of the Event* constants), involving Peer, because
// of Reason.
type Event struct {
	At     time.Duration
	Host   string
	Event  string
	Peer   string
	Reason string
}

// Event names. Where lockstep's trace (model.Event*) has the same notion
// the name is the same; [EventRefused] is what lockstep calls "retry"
// when the dialing socket will try again.
const (
	EventCrash      = "crash"      // a host crashed
	EventRestart    = "restart"    // a crashed host came back
	EventCut        = "cut"        // a link was cut
	EventHeal       = "heal"       // a cut link was healed
	EventDrop       = "drop"       // bytes to Host from Peer were lost; Reason says how many and why
	EventDisconnect = "disconnect" // Host's end of a connection to Peer ended
	EventConnect    = "connect"    // Host dialed Peer ("host:port") and connected
	EventRefused    = "refused"    // Host's dial to Peer failed; Reason says why
)

// rank orders events of one instant: the fault first, then what it did.
var rank = map[string]int{
	EventCrash: 0, EventRestart: 1, EventCut: 2, EventHeal: 3,
	EventDrop: 4, EventDisconnect: 5, EventConnect: 6, EventRefused: 7,
}

// String is the event's stable text form, aligned like lockstep's text
// trace: "   2.500000s  server     crash".
func (e Event) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%11.6fs  %-10s %-10s", e.At.Seconds(), e.Host, e.Event)
	if e.Peer != "" {
		fmt.Fprintf(&b, " peer=%s", e.Peer)
	}
	if e.Reason != "" {
		fmt.Fprintf(&b, " reason=%q", e.Reason)
	}
	return strings.TrimRight(b.String(), " ")
}

// less is the trace's order. Goroutines woken at one virtual instant run
// in any order, so events of one instant are sorted by content, never by
// the order in which they were recorded.
func less(a, b Event) bool {
	if a.At != b.At {
		return a.At < b.At
	}
	if rank[a.Event] != rank[b.Event] {
		return rank[a.Event] < rank[b.Event]
	}
	if a.Host != b.Host {
		return a.Host < b.Host
	}
	if a.Peer != b.Peer {
		return a.Peer < b.Peer
	}
	return a.Reason < b.Reason
}

// Trace returns the events so far in the trace's order: by time, and
// within one instant by content, so the same program and schedule give
// the same trace.
func (n *Network) Trace() []Event {
	n.mu.Lock()
	out := append([]Event(nil), n.events...)
	n.mu.Unlock()
	sort.SliceStable(out, func(i, j int) bool { return less(out[i], out[j]) })
	return out
}

// TraceText is [Network.Trace] as text, one event a line.
func (n *Network) TraceText() string {
	var b strings.Builder
	for _, e := range n.Trace() {
		b.WriteString(e.String())
		b.WriteByte('\n')
	}
	return b.String()
}
