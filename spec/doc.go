// Package script runs scenario scripts that show, command by command, how
// ZeroMQ REQ/REP behaves: each fact F1..F24 of
// docs/reqrep-facts.md has scripts in testdata/, written in the
// format of github.com/cockroachdb/datadriven (as etcd's raft uses it) so
// that `go test ./spec -rewrite` regenerates their expected
// output.
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
//	                                forget-reply-pipe, reconnect-jitter, request-id;
//	                                an answer is a number or last
//	enqueue NAME FRAME...           the application queue in front of a REQ (F24)
//	queue NAME                      what that queue holds
//	trace                           every event since the last trace
//	reset                           start again with an empty world
//
// Output: a command prints its result (ok, error: EFSM, the frames it
// received, ...) followed by the events it caused, one per line, time first
// (1ms c send "r1" peer=tcp://s:1); when there are events, ok is left out.
// On the "sim" backend every message takes 1ms and a dial 2ms, with no
// jitter, and open choices take 0 unless a choose command says otherwise,
// so output never changes.
//
// The "zmq4" backend (ZMQ4) runs the scripts whose header names zmq4 on
// real github.com/go-zeromq/zmq4 sockets over 127.0.0.1 in real time; it
// compares result lines only, and a command zmq4 cannot do (poll, an
// option it lacks, ...) stops the script as not applicable. TestZMQ4Conformance
// pins where zmq4 differs in testdata/zmq4/conformance.txt (-rewrite
// regenerates it); `lockstep conformance -backend zmq4` prints the table.
//
// RunFile, Builtin, Facts and Conformance give a command-line tool what it
// needs to run scripts on a backend and to list them by fact. New backends
// implement Backend and call Register.
package spec
