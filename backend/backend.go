// Package backend is the one interface through which lockstep drives an
// implementation of REQ/REP: the model on virtual time ([sim]), or a real
// library. Scripts, properties, applications and the command line all go
// through it, so an implementation is added by one package that
// implements [Backend] and, from its init, calls [Register] (for the
// scripts: `lockstep conformance -backend mine`) and [RegisterRunner]
// (for the applications: `lockstep run|compare -backend mine`), plus a
// blank import in backend/all:
//
//	func init() {
//		backend.Register("mine", func() (backend.Backend, error) { return New(), nil })
//		backend.RegisterRunner("mine", backend.Runner{Profile: model.LibZMQ,
//			Where: func(backend.RunOptions) string { return "mine (127.0.0.1, real time)" },
//			Run: func(o backend.RunOptions, f func(backend.Backend) error) error {
//				b := New()
//				return errors.Join(f(b), b.Shutdown())
//			}})
//	}
//
// Socket calls never block: a call that would block returns
// [model.ErrAgain], and the other errors of package model name what a
// socket refused ([model.ErrFSM], ...), so every backend's results compare
// with the model's.
package backend

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/zeromq-lockstep/lockstep/model"
	"github.com/zeromq-lockstep/lockstep/trace"
)

// Backend is one implementation of REQ/REP: sockets that a name opens, on a
// network whose time the caller advances. An error that wraps ErrBackend
// is a failure of the backend itself, not of a socket call, and stops the
// run.
type Backend interface {
	// Open opens a socket of the given type and options.
	Open(name string, kind model.SocketType, o model.Options) error
	Bind(name, endpoint string) error
	Connect(name, endpoint string) error
	Disconnect(name, endpoint string) error
	// Send sends one whole message without blocking; for REQ and REP,
	// m is the body and the socket adds the envelope.
	Send(name string, m model.Message) error
	// Recv receives one whole message without blocking.
	Recv(name string) (model.Message, error)
	// Poll is ZMQ_POLLIN and ZMQ_POLLOUT (F3).
	Poll(name string) (readable, writable bool, err error)
	// Advance lets d of (virtual or real) time pass: messages in flight
	// arrive, dials complete, reconnect timers fire.
	Advance(d time.Duration) error
	// Wait lets time pass until Now reaches until, and returns sooner,
	// with its name, once one of the named sockets has a message to
	// receive (its Recv would not say EAGAIN); it returns "" when until
	// came first. What is due at until itself is left for later, so that
	// an application's timers due then run before it: on every backend
	// the timers of an instant come first. An application waits on it
	// instead of polling (app.Run).
	Wait(until time.Duration, readable ...string) (string, error)
	// Crash kills the socket's process; Close closes the socket cleanly.
	Crash(name string) error
	Close(name string) error
	// Restart opens a crashed or closed socket again with the same type
	// and options, binding and connecting the endpoints it had.
	Restart(name string) error
	// Cut and Heal break and restore the link between two sockets.
	Cut(a, b string) error
	Heal(a, b string) error
	// Now is the time since the backend started.
	Now() time.Duration
	// Events returns what the backend observed and what its calls did
	// since the last call, as trace events (sends, drops, connects, ...).
	// The slice is valid until the next call to the backend. A backend
	// that observes only its calls' results implements Observer.
	Events() []trace.Event
	// Shutdown releases everything the backend holds.
	Shutdown() error
}

// Observer is implemented by backends that can say whether they observe
// the model's events. When Observes is false, a script's event lines
// (those that start with a time) are left out of the comparison.
type Observer interface {
	Observes() bool
}

// Stater is implemented by backends that can show a socket's state
// (the state command).
type Stater interface {
	State(name string) (model.SocketState, error)
}

// ChoiceScripter is implemented by backends whose open choices a script
// can decide (the choose command).
type ChoiceScripter interface {
	// Answer queues answers for choice c; each is used once, in order,
	// and -1 stands for the last option. Unanswered choices take 0.
	Answer(c model.Choice, answers ...int)
}

// Queuer is implemented by backends that keep an application queue in
// front of a REQ (F24, the enqueue and queue commands).
type Queuer interface {
	// Enqueue appends m to the socket's queue and hands the head to the
	// socket whenever it can send; it returns the queue's length after.
	// It keeps a copy: the caller may reuse m.
	Enqueue(name string, m model.Message) (int, error)
	// Queue returns the messages waiting, oldest first.
	Queue(name string) ([]model.Message, error)
	// QueueLen is how many messages are waiting, without copying them.
	QueueLen(name string) (int, error)
}

// ErrBackend marks errors of a backend itself, not of a socket call.
var ErrBackend = errors.New("backend failure")

// ErrUnsupported is what a command returns on a backend that lacks the
// optional interface, socket type or option it needs. It prints as an
// error line; Run stops the script there and reports it as not
// applicable on the backend (Result.NotApplicable) rather than as a
// difference. Wrap it to say what is missing.
var ErrUnsupported = errors.New("unsupported by this backend")

var (
	regMu    sync.Mutex
	registry = map[string]func() (Backend, error){}
)

// Register makes a backend available under name. Packages that provide a
// backend call it from init.
func Register(name string, open func() (Backend, error)) {
	regMu.Lock()
	defer regMu.Unlock()
	if _, dup := registry[name]; dup {
		panic("backend: registered twice: " + name)
	}
	registry[name] = open
}

// Backends lists the registered backends.
func Backends() []string { return names(registry) }

// names lists a registry's names, sorted.
func names[V any](m map[string]V) []string {
	regMu.Lock()
	defer regMu.Unlock()
	return slices.Sorted(maps.Keys(m))
}

// Open opens a new instance of the backend registered as name.
func Open(name string) (Backend, error) {
	regMu.Lock()
	open := registry[name]
	regMu.Unlock()
	if open == nil {
		return nil, fmt.Errorf("backend: unknown backend %q (known: %v)", name, Backends())
	}
	return open()
}

// Errno renders a socket call's error as the errno a libzmq user knows:
// EFSM, EAGAIN, ...; an error it does not know prints as it is.
func Errno(err error) string {
	for _, e := range []struct {
		err  error
		name string
	}{
		{model.ErrFSM, "EFSM"},
		{model.ErrAgain, "EAGAIN"},
		{model.ErrAddrInUse, "EADDRINUSE"},
		{model.ErrNoSocket, "ENOTSOCK"},
		{model.ErrExists, "EEXIST (name already open)"},
		{model.ErrNotConnected, "ENOENT (not connected to that endpoint)"},
		{model.ErrWrongType, "ENOTSUP"},
		{model.ErrNoConnection, "no connection"},
		{model.ErrPeerGone, "EOF (peer gone)"},
		{model.ErrInvalidMessage, "invalid message (no delimiter)"},
		{ErrUnsupported, "unsupported"},
	} {
		if errors.Is(err, e.err) {
			return e.name
		}
	}
	return err.Error()
}

// Streamer is implemented by backends that can hand each trace event to
// a sink as it happens, instead of keeping it for Events: a long run
// then copies each event once.
type Streamer interface {
	// StreamEvents sends every event from now on to sink; Events then
	// returns nothing.
	StreamEvents(sink func(trace.Event))
}

// LinkSlower is implemented by backends that can add latency to a link
// (the simulator's slow-link fault).
type LinkSlower interface {
	// AddLatency adds d to every message between sockets a and b from now.
	AddLatency(a, b string, d time.Duration) error
}
