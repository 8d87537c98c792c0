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
	Event  string
	Actor  string
	Peer   string
	Msg    string
	Reason string
}

func (Transmit) isEffect()    {}
func (Dial) isEffect()        {}
func (StartTimer) isEffect()  {}
func (Observation) isEffect() {}

// Trace event names shared by the model, the simulator and realnet.
const (
	EventEnqueue    = "enqueue"    // the application hands a message to its queue (F24)
	EventSend       = "send"       // a socket puts a request on a pipe
	EventDeliver    = "deliver"    // a server application receives a request
	EventReply      = "reply"      // a server application sends a reply
	EventReceive    = "receive"    // a client application receives a reply
	EventDrop       = "drop"       // a message is lost; Reason says why
	EventCrash      = "crash"      // a server process dies
	EventRestart    = "restart"    // a server process comes back and binds again
	EventConnect    = "connect"    // a connection is established
	EventDisconnect = "disconnect" // a connection ends
	EventRetry      = "retry"      // a dial failed; a reconnect is scheduled (F23)
	EventError      = "error"      // a socket call failed; Reason is the error
	EventCut        = "cut"        // a link is cut (fault injection)
	EventHeal       = "heal"       // a cut link is healed
	EventPanic      = "panic"      // a real implementation panicked (realnet)
	EventHang       = "hang"       // a real call did not return within its bound (realnet)
)
