// Package spec is lockstep's specification as scripts: scenario scripts
// that show, command by command, how ZeroMQ REQ/REP behaves, and the
// runner that checks them on a backend. Each fact F1..F24 of
// docs/reqrep-facts.md ([model.Facts]) has scripts in testdata/, written in
// the format of [github.com/cockroachdb/datadriven] (as etcd's raft uses
// it) and read only by datadriven's own reader: the tests run them with
// [datadriven.RunTest], so that `go test ./spec -rewrite` regenerates their
// expected output, and [Parse] reads them with the same reader outside
// `go test`.
//
// A script opens with comment lines that state its fact in plain words,
// with three machine-read lines:
//
//	# fact: F1
//	# source: RFC 28, REQ; libzmq req.cpp
//	# backends: sim zmq4
//
// and then lists commands, each followed by ---- and its expected output:
//
//	new-req NAME [correlate] [relaxed] [immediate] [sndhwm=N] [rcvhwm=N]
//	        [reconnect-ivl=D|-1] [reconnect-ivl-max=D]
//	new-rep NAME [options]          a REP socket
//	new-dealer NAME [options]       a raw peer: sends and receives frames as given
//	bind NAME ENDPOINT
//	connect NAME ENDPOINT
//	disconnect NAME ENDPOINT
//	send NAME FRAME...              "" is the empty frame; "..." is a Go string literal
//	recv NAME                       prints the frames received, or error: EAGAIN, EFSM, ...
//	poll NAME                       readable=... writable=... (F3)
//	advance DURATION                virtual time passes: messages arrive, timers fire
//	crash NAME, close NAME          the socket's process dies, or closes it
//	restart NAME                    a new socket of that name binds/connects as before
//	cut A B, heal A B               break and restore the link between two sockets
//	state NAME                      the socket's state and its pipes
//	choose CHOICE=ANSWER...         script the model's open choices: fair-queue,
//	                                drain-refill, reconnect-jitter, request-id;
//	                                an answer is a number or last
//	enqueue NAME FRAME...           the application queue in front of a REQ (F24)
//	queue NAME                      what that queue holds
//	trace                           every event since the last trace
//	reset                           start again with an empty world
//
// Words are separated by spaces, as datadriven splits them; a frame that
// starts with " is a Go string literal and cannot contain a space (write
// \x20). A directive continues on the next line after a trailing \.
//
// Output: a command prints its result (ok, error: EFSM, the frames it
// received, ...) followed by the events it caused, one per line, time first
// (1ms c send "r1" peer=tcp://s:1); when there are events, ok is left out.
// On the "sim" backend every message takes 1ms and a dial 2ms, with no
// jitter, and open choices take 0 unless a choose command says otherwise,
// so output never changes.
//
// The "zmq4" backend runs the scripts whose header names zmq4 on
// real github.com/go-zeromq/zmq4 sockets over 127.0.0.1 in real time; it
// compares result lines only, and a command zmq4 cannot do (poll, an
// option it lacks, ...) stops the script as not applicable. TestZMQ4Conformance
// pins where zmq4 differs in testdata/zmq4/conformance.txt (-rewrite
// regenerates it); `lockstep conformance -backend zmq4` prints the table.
//
// [Builtin], [Facts], [Run], [RunFile], [Conformance], [WriteDetails] and
// [RecordedZMQ4] give a command-line tool (cmd/lockstep's conformance and
// SPEC.md) what it needs to run scripts on a backend and to list them by
// fact; [Runner] runs one command at a time. A new backend implements
// [backend.Backend] and calls [backend.Register]; scripts run on it once it
// is registered (package backend/all registers every backend).
package spec
