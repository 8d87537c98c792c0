// Package realnet runs lockstep on real github.com/go-zeromq/zmq4 sockets
// over 127.0.0.1: the "zmq4" [Backend] that scripts, properties and the
// applications of app.Run drive ([Run] runs a built-in scenario on it in
// real, mock or simnet time), whose traces use the same [trace]
// vocabulary as the simulator's so that every format and comparison works
// on both. [Sockets] is its one wrapper of zmq4.
//
// It is the only package that calls zmq4. Every call is bounded; a panic
// in zmq4 is recovered and reported as a panic event and an overrun as a
// hang (ZMQ4-FINDINGS.md beside this file lists what zmq4 gets wrong).
// Only 127.0.0.1 is ever bound or dialled, or, with [Config.Net], a
// simnet network's in-memory endpoints: [Run] runs a scenario there in a
// synctest bubble (lockstep's CLI does so by default, through
// simnet.RunProgram), and [Sockets] takes simnet endpoints too.
package realnet
