package model

// Profile names the ways a real implementation departs from RFC 28 as
// libzmq implements it. Each field is one known deviation; the zero value is
// libzmq. A difference between the model and an implementation that no
// field explains is a finding, not something to special-case.
type Profile struct {
	Name string
	// ReqNotStrict: REQ allows a second send before the reply, as if
	// ReqRelaxed were always set (departs from F1).
	ReqNotStrict bool
	// StaleRepliesKept: REQ reads only from the pipe of its last send, but
	// never discards a reply: replies queued from earlier requests are
	// taken later as answers to newer ones, and a reply on another pipe
	// waits there (departs from F9, F10).
	StaleRepliesKept bool
	// RepNotStrict: REP allows a receive while a reply is owed (the new
	// request's envelope replaces the held one) and a send at any time: with
	// no request read yet the reply is dropped, a second send goes to the
	// last requester again (departs from F2).
	RepNotStrict bool
	// NoPoller: there is no poller and no readiness (F3 does not apply); a
	// REQ counts as writable whenever the application's own lockstep lets it
	// send, since a send without a connection fails at once (F11), and a
	// REP as readable whenever a request is queued.
	NoPoller bool
	// EnvelopeAtLastDelimiter: REP splits a request at its last empty
	// frame, not its first, a trailing one too; the body is what follows
	// the last empty frame that has frames after it, or nothing (zmq4's
	// splitReq; departs from F5).
	EnvelopeAtLastDelimiter bool
	// InvalidRequestError: a request without a delimiter makes REP's
	// receive fail with ErrInvalidMessage instead of being dropped
	// silently; the stored envelope is kept (departs from F5).
	InvalidRequestError bool
	// ReplyUnchecked: REQ takes any reply: no protocol error for a reply
	// without a delimiter, the first frame of a multi-frame reply is
	// dropped whatever it is (departs from F6).
	ReplyUnchecked bool
	// NoPipeWithoutConnection: a pipe exists only while its connection
	// does, as with IMMEDIATE=1 but without the option: nothing is queued
	// before a connection or across a reconnect (departs from F12, F21).
	NoPipeWithoutConnection bool
	// SendFailsWithoutPipe: a REQ send with no pipe fails at once with
	// ErrNoConnection instead of blocking (departs from F11, F13).
	SendFailsWithoutPipe bool
	// RecvEOFOnPeerLoss: when the connection a REQ's request went out on
	// ends, the REQ's receive fails with ErrPeerGone (io.EOF) instead of
	// waiting forever (departs from F19).
	RecvEOFOnPeerLoss bool
	// NoReconnect: a connect() whose connection ends is never re-established
	// (zmq4's default WithAutomaticReconnect(false); departs from F23).
	NoReconnect bool
	// RepArrivalOrder: REP serves requests first come, first served across
	// all clients, not fair-queued per pipe (departs from F14).
	RepArrivalOrder bool
	// AttachOrderRotation: sends rotate over the pipes in attach order,
	// skipping those that cannot take a message, and receives take the
	// first ready pipe after the last one read; libzmq's rotation changes
	// its order as pipes fill, empty and end (departs from F8, F14).
	AttachOrderRotation bool
	// ConnectBlocks: connect() is one call that returns once a connection
	// is up or given up (zmq4's Dial): a refused TCP connect is tried
	// again 250 ms later, ten times, and then connect() fails; a
	// connection that ends during the ZMTP handshake fails it at once.
	// A socket's connect()s run one after another, the application sends
	// nothing while one runs (it is blocked in it), and nothing retries a
	// connect() that failed (departs from F23). The simulator's dialer
	// implements it ([sim]): the World hands its dials to its driver, and
	// a driver of its own (check) dials as F23 says.
	ConnectBlocks bool
	// SerialHandshakes: a binding socket completes the ZMTP handshake of
	// one incoming connection before it accepts the next (zmq4's accept
	// loop runs the handshake itself), so a connection that arrives while
	// another one handshakes completes later, and is lost if the binder
	// dies meanwhile (departs from F13's "completed connections", which
	// libzmq completes side by side). The simulator implements it where
	// it times handshakes ([sim] Network.Handshake).
	SerialHandshakes bool
	// SendPanicsPastLastConnection: REQ learns that a connection ended
	// only from an I/O error on it (a send's write, or a receive's read on
	// the last send's connection), so a dead one keeps its place in the
	// rotation until then. A send tries the connections from its turn to
	// the end of the list, not round: one whose write fails is dropped,
	// and when its turn is not the first connection and every one from
	// there to the last has ended, the send panics with index out of
	// range and sends nothing (zmq4's reqWriter.write computes
	// i + nextConn%len, ZMQ4-FINDINGS H1; departs from F8). The
	// application's message stays queued. The turn is zmq4's nextConn:
	// a write sets it one past the index written to, a removal leaves it
	// alone, so after one the rotation may skip a connection.
	SendPanicsPastLastConnection bool
	// DealerSendsToEvery: a DEALER's send writes the message to every
	// connection, as a PUB does (zmq4's DEALER uses the socket writer
	// its PUB-like sockets share, mwriter), not to the next in a round
	// robin. With no connection it blocks until the socket's first one;
	// once the socket has had one it succeeds at once and the message
	// goes nowhere (mwriter's semaphore stays open). Departs from RFC 28's
	// DEALER, which our raw peers stand for.
	DealerSendsToEvery bool
	// DealerReadsEOF: each connection a DEALER loses leaves an EOF in its
	// receive queue, after what came on it, and a receive returns it as
	// ErrPeerGone (zmq4's qreader queues a read's error like a message).
	DealerReadsEOF bool
	// NoDisconnect: there is no zmq_disconnect (zmq4 has no such call):
	// World.Disconnect fails with ErrNoDisconnect and changes nothing.
	NoDisconnect bool
}

// LibZMQ is the default profile: RFC 28 as libzmq 4.3 implements it.
var LibZMQ = Profile{Name: "libzmq"}

// ZMQ4 is github.com/go-zeromq/zmq4 v0.17.0 over TCP, as probed (see
// the README's zmq4 section for the command that shows each field).
var ZMQ4 = Profile{
	Name:                    "zmq4",
	ReqNotStrict:            true,
	StaleRepliesKept:        true,
	RepNotStrict:            true,
	NoPoller:                true,
	EnvelopeAtLastDelimiter: true,
	InvalidRequestError:     true,
	ReplyUnchecked:          true,
	NoPipeWithoutConnection: true,
	SendFailsWithoutPipe:    true,
	RecvEOFOnPeerLoss:       true,
	NoReconnect:             true,
	RepArrivalOrder:         true,
	AttachOrderRotation:     true,
	ConnectBlocks:           true,
	SerialHandshakes:        true,

	SendPanicsPastLastConnection: true,
	DealerSendsToEvery:           true,
	DealerReadsEOF:               true,
	NoDisconnect:                 true,
}
