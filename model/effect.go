package model

import "time"

// ConnID names one connection: one TCP session between a connecting pipe
// and a binding pipe. A reconnect makes a new connection with a new id.
type ConnID int

// AttemptID names one dial attempt of a connect().
type AttemptID int

// TimerID names one reconnect timer.
type TimerID int

// Dir is the direction of travel on a connection.
type Dir int

const (
	// ToBinder carries messages from the connecting side to the binding side.
	ToBinder Dir = iota
	// ToConnecter carries messages from the binding side to the connecting side.
	ToConnecter
)

func (d Dir) String() string {
	if d == ToBinder {
		return "to-binder"
	}
	return "to-connecter"
}

// Effect is something the World asks its driver to do or to record. Drivers
// collect effects with World.Ready.
type Effect interface{ isEffect() }

// Transmit says that a connection's engine took Msg from a pipe and put it
// on the wire. The driver calls World.Arrive(Conn, Dir) when it arrives;
// arrivals on one connection and direction are FIFO, as on TCP, so Arrive
// names no message.
type Transmit struct {
	Conn     ConnID
	Dir      Dir
	From, To string // socket names
	Msg      Message
}

// Dial says that a connect() is attempting a connection. The driver calls
// World.DialDone(Attempt, reachable) once the attempt would complete.
type Dial struct {
	Attempt  AttemptID
	From     string
	Endpoint string
}

// StartTimer asks for World.TimerFired(Timer) after After (F23).
type StartTimer struct {
	Timer TimerID
	Owner string
	After time.Duration
}

// Observation is an event for the trace: Event is one of the Event*
// constants, Actor the socket it happened to.
type Observation struct {
	Kind   EventKind
	Actor  string
	Peer   string
	Msg    string
	HasMsg bool // the event is about a message (Msg may still be empty)
	Reason string
}

func (Transmit) isEffect()    {}
func (Dial) isEffect()        {}
func (StartTimer) isEffect()  {}
func (Observation) isEffect() {}

// EventKind is the kind of a trace event: what happened. The constants below
// list every kind there is, whoever reports it (the model, a backend, an
// application); traces, scripts and properties use no others.
type EventKind string

// The events.
const (
	EventEnqueue    EventKind = "enqueue"    // the application hands a message to its queue (F24)
	EventSend       EventKind = "send"       // a socket puts a request on a pipe
	EventResend     EventKind = "resend"     // a Lazy Pirate client sends its request again after a timeout
	EventDeliver    EventKind = "deliver"    // a server application receives a request
	EventReply      EventKind = "reply"      // a server application sends a reply
	EventReceive    EventKind = "receive"    // a client application receives a reply
	EventDrop       EventKind = "drop"       // a message is lost; Reason says why
	EventCrash      EventKind = "crash"      // a server process dies
	EventRestart    EventKind = "restart"    // a server process comes back and binds again
	EventConnect    EventKind = "connect"    // a connection is established
	EventDisconnect EventKind = "disconnect" // a connection ends
	EventRetry      EventKind = "retry"      // a dial failed; a reconnect is scheduled (F23)
	EventError      EventKind = "error"      // a socket call failed; Reason is the error
	EventCut        EventKind = "cut"        // a link is cut (fault injection)
	EventHeal       EventKind = "heal"       // a cut link is healed
	EventPanic      EventKind = "panic"      // a real implementation panicked (realnet; the model as zmq4 does, Profile.SendPanicsPastLastConnection)
	EventHang       EventKind = "hang"       // a real call did not return within its bound (realnet)
	EventTimer      EventKind = "timer"      // a reconnect timer was started (F23); Reason says when it fires
	EventChoice     EventKind = "choice"     // the model asked its chooser an open choice; Msg is "choice=answer"
)

// EventKinds lists every event kind, in the order of the constants above.
var EventKinds = []EventKind{
	EventEnqueue,
	EventSend,
	EventResend,
	EventDeliver,
	EventReply,
	EventReceive,
	EventDrop,
	EventCrash,
	EventRestart,
	EventConnect,
	EventDisconnect,
	EventRetry,
	EventError,
	EventCut,
	EventHeal,
	EventPanic,
	EventHang,
	EventTimer,
	EventChoice,
}

// Known reports whether k is one of EventKinds.
func (k EventKind) Known() bool {
	for _, e := range EventKinds {
		if e == k {
			return true
		}
	}
	return false
}
