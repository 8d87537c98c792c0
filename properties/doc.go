// Package properties holds lockstep's properties of REQ/REP: rapid
// state-machine checks that generate operation sequences (sends through the
// application queue and straight on the socket, misuse included, serves,
// replies now and later, virtual time by milliseconds and by days, crashes
// and restarts, cut links, servers and clients that join) and check
// invariants after every step.
//
// Every property that runs the system also keeps a mirror of it: its own
// account, from the model's state and trace, of every socket's pipes and
// of libzmq's rotations over them (lb_t, fq_t), with which it predicts the
// pipe of every send and receive in every configuration (F8, F9, F10, F14,
// F15), accounts for every open choice the model asks, and checks the
// reconnect timing (F23); and after every step the high-water marks as the
// model counts them (F18), that every message is in one place or reported
// lost, the poll flags (F3) and the faults (F19, F21).
//
// Each property is an exported function of *rapid.T so that `go test
// ./properties` checks it and `lockstep replay FILE` re-runs a saved failure:
//
//	rapid.Check(t, properties.LockstepOrdering)
//
// The system under test is the model on the simulator (System); the
// differential property runs the same operations on real zmq4 as well.
package properties
