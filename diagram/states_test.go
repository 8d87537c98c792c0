package diagram_test

import (
	"strings"
	"testing"

	"github.com/zeromq-lockstep/lockstep/diagram"
	"github.com/zeromq-lockstep/lockstep/model"
)

// TestStateDiagramREQ checks the generated REQ diagram against F1 and F3:
// a send from idle awaits the reply, a second send and a recv from idle get
// EFSM and stay put, and the reply's arrival makes the socket readable.
func TestStateDiagramREQ(t *testing.T) {
	d := diagram.States(model.REQ, model.LibZMQ, model.Options{})
	for _, want := range []string{
		"[*] --> Idle_Writable",
		"Idle_Writable --> AwaitingReply: send",
		"Idle_Writable --> Idle_Writable: recv / EFSM",
		"AwaitingReply --> AwaitingReply: send / EFSM",
		"AwaitingReply --> AwaitingReply_Readable: message arrives",
		"AwaitingReply_Readable --> Idle_Writable: recv",
	} {
		if !strings.Contains(d, want) {
			t.Errorf("REQ diagram lacks %q:\n%s", want, d)
		}
	}
}

// TestStateDiagramREP checks F2 and F3 for REP: neither readable nor
// writable when idle, writable only once a whole request has been read.
func TestStateDiagramREP(t *testing.T) {
	d := diagram.States(model.REP, model.LibZMQ, model.Options{})
	for _, want := range []string{
		"[*] --> Idle",
		"Idle --> Idle: send / EFSM",
		"Idle --> Idle_Readable: message arrives",
		"Idle_Readable --> OwesReply_Writable: recv",
		"OwesReply_Writable --> OwesReply_Writable: recv / EFSM",
		"OwesReply_Writable --> Idle: send",
	} {
		if !strings.Contains(d, want) {
			t.Errorf("REP diagram lacks %q:\n%s", want, d)
		}
	}
}
