// Package simnet runs unmodified [github.com/go-zeromq/zmq4] code on an
// in-memory network with virtual time, so a test can crash a server in the
// middle of a request, cut a link or let an hour pass, and get the same
// trace every time.
//
// A [Network] registers its own zmq4 transport (schemes simnet1, simnet2,
// …; see [zmq4.RegisterTransport]) and holds named hosts. Endpoints name
// the host: a socket on host "server" listens on [Host.Bind] (for example
// "simnet1://server:5454"), and a socket on host "client" dials
// [Host.Connect] ("simnet1://client@server:5454"), so the network knows
// both ends of every connection and can apply the link's latency and
// faults.
//
// [Run] creates a network inside a [testing/synctest] bubble (one network
// per bubble): zmq4's dial retries and timeouts, the program's
// time.Sleep, tickers and timers all run on virtual time, and an hour of
// traffic takes a fraction of a second. Goroutines woken at one virtual
// instant run in any order, so the network never wakes two at once: it
// delivers bytes and completes dials one at a time, by time and then by a
// stable key, and lets the bubble settle after each; faults and
// [Network.Settle] wait until the instant is over. The same program and
// schedule therefore give the same trace, byte for byte. Programs run on hosts through [Host.Start]; [Network.Crash] and
// [Network.Restart] stop and restart them, [Network.Cut] and
// [Network.Heal] end and restore a link. [Network.Trace] lists what the
// network saw as [Event] values whose names follow lockstep's trace
// vocabulary (connect, disconnect, cut, heal, crash, restart, drop).
//
// zmq4 bugs that leave goroutines behind make synctest panic, which kills
// the test binary; [Isolated] runs such a case in a child process and
// reports the outcome instead. [RunB] is [Run] for benchmarks.
package simnet
