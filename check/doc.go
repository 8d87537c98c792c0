// Package check explores every reachable state of a small configuration of
// the model ([model.World]) breadth first: exhaustive, bounded model
// checking of REQ/REP, in the manner of TLA+'s TLC and Rust's Stateright.
//
// A [Config] names the clients and servers, which side binds, the clients'
// [model.Options], the [model.Profile], how many requests each client
// enqueues and a budget of [Faults]. From each state the explorer takes
// every enabled step: an application operation (a client enqueues, a
// server reads or answers, a Lazy Pirate times out), every delivery of a
// message in flight ([model.World.Arrive]), every dial completion
// ([model.World.DialDone]) and reconnect timer ([model.World.TimerFired]),
// every fault within the budget, and every answer to every open choice the
// model asks its [model.Chooser] (fair queueing F14, the race of F10).
//
// Time is abstracted. The model has no clock: its only time inputs are the
// TimerFired, DialDone and Arrive callbacks, and what it does depends only
// on their order. The explorer keeps timers, dial attempts and messages in
// flight as unordered pending events and tries every order, except that
// messages on one connection direction arrive first in, first out, as on
// TCP (the model's own rule). Every timed schedule is therefore one of the
// orders explored, so nothing a simulator could reach is missed; some
// orders need timings no real network would produce, which can only add
// states.
//
// States are deduplicated by a canonical encoding
// ([model.World.AppendCanonical] and the applications' bookkeeping) with
// symmetry reduction: interchangeable clients, and servers, are sorted by
// a name-free signature before the whole state is encoded with names
// replaced by their place in that order. The visited set keeps 64-bit
// fingerprints of the encodings, as TLC does; with n states the chance of
// a collision, which would hide a state, is about n²/2⁶⁵.
//
// Safety invariants, those of package properties, are checked on every
// step: lockstep (F1), poll agrees with it (F1, F2, F3), replies match
// requests (F7, F9), nothing is read or answered twice, a REQ puts each
// request on the wire once (F19), requests of one client are read in
// order (F14), loss only as the facts allow (F19, F22), and the
// application queue never shrinks without a send (F24). A state with no enabled step where some request is
// still unsettled is a deadlock. With [Config.Liveness], the fault-free
// edges are kept and the explorer checks that from every state some
// fault-free run settles every request (answered, abandoned by a Lazy
// Pirate, or lost as F19 allows); a state that cannot is reported with a
// lasso. A strict REQ that lost its request is stuck for ever, which F19
// predicts: it is reported in [Result.Expected], not as a failure.
//
// Breadth first search makes every counterexample a shortest one. The
// explorer expands each level on every core ([Config.Workers]), with the
// visited set sharded by fingerprint. A level's states are kept as exact
// encodings of a few hundred bytes ([model.World.AppendState]); a worker
// rebuilds each into its own state ([model.Scratch.LoadState]), saves it
// ([model.World.Save]), takes every step on it and restores it
// ([model.World.Restore]) after each, and encodes only the successors
// that are new.
//
//	res, err := check.Check(check.Config{Clients: 2, Servers: 2, Requests: 3,
//		Faults: check.Faults{Crashes: 1, Restarts: 1}})
package check
