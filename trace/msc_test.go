package trace_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/zeromq-lockstep/lockstep/model"
	"github.com/zeromq-lockstep/lockstep/trace"
)

// TestMSCIsWellFormed checks the Mermaid output's shape: every arrow and
// note refers to a declared lane, lost messages end in a cross, and the
// lanes run client, queue, socket, then server socket, server.
func TestMSCIsWellFormed(t *testing.T) {
	ms := time.Millisecond
	events := []trace.Event{
		{At: 0, Actor: "client", Kind: model.EventConnect, Peer: "server"},
		{At: 100 * ms, Actor: "client", Kind: model.EventEnqueue, Msg: "0", HasMsg: true, Queue: 0, HasQueue: true},
		{At: 100 * ms, Actor: "client", Kind: model.EventSend, Msg: "0", HasMsg: true, Queue: 0, HasQueue: true, Peer: "tcp://server:5454"},
		{At: 101 * ms, Actor: "server", Kind: model.EventDeliver, Msg: "0", HasMsg: true, Peer: "client"},
		{At: 150 * ms, Actor: "server", Kind: model.EventCrash},
		{At: 150 * ms, Actor: "server", Kind: model.EventDrop, Msg: "0", HasMsg: true, Reason: "request held by server that crashed"},
		{At: 250 * ms, Actor: "server", Kind: model.EventRestart},
	}
	out := trace.MSC(events)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if lines[0] != "sequenceDiagram" {
		t.Fatalf("first line %q", lines[0])
	}
	declared := map[string]bool{}
	var order []string
	decl := regexp.MustCompile(`^    participant (\w+) as (.+)$`)
	arrow := regexp.MustCompile(`^    (\w+)(->>|-\)|-x)(\w+): \S+s .+$`)
	note := regexp.MustCompile(`^    Note over (\w+): .+$`)
	lost := 0
	for _, l := range lines[1:] {
		switch {
		case decl.MatchString(l):
			m := decl.FindStringSubmatch(l)
			declared[m[1]] = true
			order = append(order, m[2])
		case arrow.MatchString(l):
			m := arrow.FindStringSubmatch(l)
			if !declared[m[1]] || !declared[m[3]] {
				t.Errorf("arrow between undeclared lanes: %q", l)
			}
			if m[2] == "-x" {
				lost++
				if !strings.Contains(l, "LOST 0") {
					t.Errorf("a cross that does not say what was lost: %q", l)
				}
			}
		case note.MatchString(l):
			if !declared[note.FindStringSubmatch(l)[1]] {
				t.Errorf("note on an undeclared lane: %q", l)
			}
		default:
			t.Errorf("not a Mermaid sequence line: %q", l)
		}
	}
	if lost != 1 {
		t.Errorf("%d lost messages marked, want 1", lost)
	}
	want := "client,client queue,client socket,server socket,server"
	if got := strings.Join(order, ","); got != want {
		t.Errorf("lanes %s, want %s", got, want)
	}
	if trace.MSC(events) != out {
		t.Error("two renderings of the same trace differ")
	}
}
