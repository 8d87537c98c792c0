// Package properties holds lockstep's properties of REQ/REP: rapid
// state-machine checks that generate operation sequences (sends through the
// application queue and straight on the socket, misuse included, serves,
// replies now and later, virtual time by milliseconds and by days, crashes
// and restarts, cut links, servers and clients that join) and check
// invariants after every step.
//
// Each property is an exported function of *rapid.T so that `go test
// ./properties` checks it and `lockstep replay FILE` re-runs a saved failure:
//
//	rapid.Check(t, properties.LockstepOrdering)
//
// The system under test is the model on the simulator (System); the
// differential property runs the same operations on real zmq4 as well.
package properties
