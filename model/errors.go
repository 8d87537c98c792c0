package model

import "errors"

// The errors a socket call can return. They mirror libzmq's errno values so
// that a trace and a test read like the libzmq documentation.
var (
	// ErrFSM is EFSM: the call is not allowed in the socket's current state
	// (F1, F2). A call refused with ErrFSM changes nothing.
	ErrFSM = errors.New("EFSM: operation not allowed in the socket's state")
	// ErrAgain is EAGAIN: the call would block (F11, F18). A blocking
	// application waits for readiness and tries again.
	ErrAgain = errors.New("EAGAIN: would block")
	// ErrAddrInUse is EADDRINUSE: the endpoint is already bound.
	ErrAddrInUse = errors.New("EADDRINUSE: endpoint already bound")
	// ErrNoSocket reports a call on a socket name that is not open.
	ErrNoSocket = errors.New("ENOTSOCK: no such open socket")
	// ErrExists reports a socket name that is already open.
	ErrExists = errors.New("socket name already open")
	// ErrNotConnected is ENOENT from zmq_disconnect: no such connect().
	ErrNotConnected = errors.New("ENOENT: socket is not connected to that endpoint")
	// ErrWrongType reports a REQ call on a REP socket or the reverse.
	ErrWrongType = errors.New("ENOTSUP: call not supported by this socket type")
)

// Errors of implementations that depart from libzmq (see Profile).
var (
	// ErrNoConnection: a send found no connection and failed at once
	// instead of blocking (Profile.SendFailsWithoutPipe, zmq4's "no
	// connections available" and a write to a dead peer).
	ErrNoConnection = errors.New("no connection: send failed at once")
	// ErrPeerGone: the connection a REQ's request went out on ended, and
	// the receive fails (Profile.RecvEOFOnPeerLoss, zmq4's io.EOF).
	ErrPeerGone = errors.New("EOF: the request's peer is gone")
	// ErrInvalidMessage: REP read a request without a delimiter
	// (Profile.InvalidRequestError).
	ErrInvalidMessage = errors.New("invalid REP message: no delimiter")
	// ErrSendPanic: REQ's send ran past the end of its connection list
	// and panicked; nothing was sent (Profile.SendPanicsPastLastConnection,
	// zmq4's reqWriter.write, ZMQ4-FINDINGS H1).
	ErrSendPanic = errors.New("panic in zmq4: runtime error: index out of range")
	// ErrNoDisconnect: the implementation has no zmq_disconnect
	// (Profile.NoDisconnect).
	ErrNoDisconnect = errors.New("no disconnect: the implementation has no such call")
)
