// Package model is lockstep's executable account of ZeroMQ REQ/REP: REQ and REP
// sockets, the pipes between them and the connections that carry their
// messages, as pure state machines.
//
// Nothing here starts a goroutine, performs I/O or reads a clock. A World is
// driven by inputs (an application calls Send or Recv, a message arrives, a
// dial completes, a reconnect timer fires, a process crashes) and answers with
// effects that a driver collects with Ready, in the manner of etcd's raft:
//
//	w := model.NewWorld(model.LibZMQ, model.FirstChooser{})
//	w.NewREP("server", model.Options{})
//	w.Bind("server", "tcp://server:5454")
//	w.NewREQ("client", model.Options{})
//	w.Connect("client", "tcp://server:5454")
//	for _, e := range w.Ready() { ... schedule e ... }
//
// The default semantics are RFC 28 (REQREP) as libzmq 4.3 implements them; each
// rule cites the fact F1..F24 of docs/reqrep-facts.md that it
// implements. Where a real implementation deviates, the deviation is a named
// field of a Profile (see ZMQ4), never a special case elsewhere.
//
// Where libzmq leaves a choice open (which of several ready clients REP serves
// next, the race of F10, reconnect jitter, the first request id) the World asks
// its Chooser, so a simulator's seeded PRNG or a property test decides.
package model
