package trace

import (
	"fmt"
	"sort"
	"strings"

	"github.com/zeromq-lockstep/lockstep/model"
)

// MSC renders a trace as a Mermaid sequence diagram: for every process a
// lane for the application, and for clients one for the application queue
// (F24), and one for its socket. Requests and replies are arrows between
// the lanes, lost messages end in a cross, and faults are notes.
//
//	out := trace.MSC(res.Trace)  // paste into a ```mermaid block
func MSC(events []Event) string {
	d := &msc{lanes: map[string]bool{}}
	for _, e := range events {
		d.event(e)
	}
	var b strings.Builder
	b.WriteString("sequenceDiagram\n")
	for _, l := range laneOrder(events, d.lanes) {
		fmt.Fprintf(&b, "    participant %s as %s\n", laneID(l), l)
	}
	b.WriteString(d.body.String())
	return b.String()
}

type msc struct {
	lanes map[string]bool
	body  strings.Builder
}

// lane notes that a lane is used and returns its Mermaid id.
func (d *msc) lane(name string) string {
	d.lanes[name] = true
	return laneID(name)
}

// laneOrder lays the lanes out left to right: each client's application,
// queue and socket, then each server's socket and application, in the
// order the trace first mentions the processes.
func laneOrder(events []Event, used map[string]bool) []string {
	var actors []string
	seen := map[string]bool{}
	server := map[string]bool{}
	for _, e := range events {
		if !seen[e.Actor] {
			seen[e.Actor] = true
			actors = append(actors, e.Actor)
		}
		switch e.Kind {
		case model.EventDeliver, model.EventReply, model.EventCrash, model.EventRestart:
			server[e.Actor] = true
		}
	}
	var order []string
	add := func(l string) {
		if used[l] {
			order = append(order, l)
			used[l] = false
		}
	}
	for _, a := range actors {
		if !server[a] {
			add(a)
			add(a + " queue")
			add(a + " socket")
		}
	}
	for _, a := range actors {
		if server[a] {
			add(a + " socket")
			add(a)
		}
	}
	for _, a := range actors { // anything left, such as a lane named by an endpoint only
		add(a)
		add(a + " queue")
		add(a + " socket")
	}
	var rest []string
	for l, left := range used {
		if left {
			rest = append(rest, l)
		}
	}
	sort.Strings(rest) // map order is random; diagrams must be stable
	return append(order, rest...)
}

func laneID(name string) string {
	var b strings.Builder
	for _, r := range name {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

// serverOf guesses the server behind an endpoint: lockstep's scenarios
// name endpoints tcp://SERVER:PORT.
func serverOf(endpoint string) string {
	host := endpoint
	if i := strings.Index(host, "://"); i >= 0 {
		host = host[i+3:]
	}
	if i := strings.LastIndexByte(host, ':'); i >= 0 {
		host = host[:i]
	}
	return host
}

// label escapes text for a Mermaid message: it ends at a newline, and ';'
// and '#' have meanings of their own.
func label(at string, text string) string {
	r := strings.NewReplacer("\n", " ", ";", ",", "#", "no.", "\"", "'")
	return at + " " + r.Replace(text)
}

func (d *msc) line(format string, args ...any) {
	fmt.Fprintf(&d.body, "    "+format+"\n", args...)
}

func (d *msc) event(e Event) {
	at := fmt.Sprintf("%.3fs", e.At.Seconds())
	app, sock, queue := e.Actor, e.Actor+" socket", e.Actor+" queue"
	switch e.Kind {
	case model.EventEnqueue:
		d.line("%s->>%s: %s", d.lane(app), d.lane(queue), label(at, fmt.Sprintf("%s (queue %d)", e.Msg, e.Queue)))
	case model.EventSend:
		from := d.lane(queue)
		if !e.HasQueue {
			from = d.lane(app)
		}
		d.line("%s->>%s: %s", from, d.lane(sock), label(at, e.Msg))
		if srv := serverOf(e.Peer); srv != "" {
			d.line("%s-)%s: %s", d.lane(sock), d.lane(srv+" socket"), label(at, "request "+e.Msg))
		}
	case model.EventDeliver:
		d.line("%s->>%s: %s", d.lane(sock), d.lane(app), label(at, e.Msg))
	case model.EventReply:
		d.line("%s->>%s: %s", d.lane(app), d.lane(sock), label(at, e.Msg))
		if e.Peer != "" {
			d.line("%s-)%s: %s", d.lane(sock), d.lane(e.Peer+" socket"), label(at, "reply"))
		}
	case model.EventReceive:
		d.line("%s->>%s: %s", d.lane(sock), d.lane(app), label(at, e.Msg))
	case model.EventDrop:
		d.line("%s-x%s: %s", d.lane(sock), d.lane(sock), label(at, "LOST "+e.Msg+": "+e.Reason))
	case model.EventCrash, model.EventRestart, model.EventPanic, model.EventHang:
		d.line("Note over %s: %s", d.lane(app), label(at, strings.TrimSpace(strings.ToUpper(string(e.Kind))+" "+e.Reason)))
	case model.EventConnect, model.EventDisconnect, model.EventCut, model.EventHeal, model.EventError:
		text := strings.TrimSpace(string(e.Kind) + " " + e.Peer)
		if e.Reason != "" {
			text += ": " + e.Reason
		}
		d.line("Note over %s: %s", d.lane(sock), label(at, text))
	}
	// retry is left out: a server that is down for a second shows ten of
	// them, and the diagram is for the messages.
}
