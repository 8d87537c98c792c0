package model

// FactID names a fact: "F1" .. "F24". Code, tests, scripts and docs cite
// facts by it.
type FactID string

// Fact is one numbered fact of REQ/REP behaviour that the model
// implements: docs/reqrep-facts.md, F1..F24.
type Fact struct {
	ID     FactID
	Title  string
	Rule   string // the rule in one sentence
	Source string // where it comes from: RFC 28, a libzmq file or test, an observation
}

// Facts lists every fact in order. SPEC.md and `lockstep conformance` are
// generated from it; the model's code and tests cite the IDs.
var Facts = []Fact{
	{"F1", "REQ is strictly lockstep", "A second send before the reply, a receive before any send and a receive after the reply all fail at once with EFSM; a refused request is never transmitted and the socket stays usable.", "RFC 28 REQ; libzmq req.cpp _receiving_reply"},
	{"F2", "REP is strictly lockstep", "Send before any receive, receive while a reply is owed, and a second send all fail with EFSM.", "RFC 28 REP; libzmq rep.cpp"},
	{"F3", "Readiness", "An idle REQ is writable; after a send it is not writable and becomes readable only while a reply is awaited; an idle REP is neither, and becomes writable only after it has read a whole request.", "observed on libzmq 4.3.4"},
	{"F4", "REQ adds the delimiter", "REQ prefixes every request with an empty delimiter frame.", "RFC 28 REQ; test_req_message_format"},
	{"F5", "REP's envelope", "REP strips everything up to and including the first empty frame, keeps it, and puts it back in front of the reply; a request with no delimiter is dropped silently.", "RFC 28 REP; test_spec_rep test_envelope"},
	{"F6", "Malformed replies", "A reply whose first frame is not a delimiter is a protocol error: the connection is dropped and not re-established; well-formed replies to other requests are skipped silently.", "observed on libzmq 4.3.4; req.cpp req_session_t"},
	{"F7", "REQ_CORRELATE", "REQ_CORRELATE puts a 4-byte request id before the delimiter and discards replies with another id; on its own it does not relax lockstep.", "test_req_correlate"},
	{"F8", "Round-robin in attach order", "REQ sends round-robin over its pipes in the order they were attached, once per whole message; a full or closed pipe is skipped and swapped to the end of the rotation.", "RFC 28 REQ; test_reqrep_tcp test_multi_connect; libzmq lb.cpp"},
	{"F9", "Replies only from the request's pipe", "REQ accepts a reply only from the pipe its request went out on, and discards replies already queued when it sends a new request.", "RFC 28 REQ; libzmq PR 608"},
	{"F10", "Stray replies after the pipe is gone", "Once the pipe that holds the outstanding request is destroyed, libzmq takes the next well-formed reply from any peer, from the call after the one that read past the pipe's end; a stray read with that end is discarded, and with a surviving pipe strays are discarded.", "observed on libzmq 4.3.4; libzmq req.cpp, pipe.cpp"},
	{"F11", "No pipe, no send", "With no pipe at all, a REQ send blocks (EAGAIN without waiting).", "RFC 28 REQ; test_block_on_send_no_peers"},
	{"F12", "IMMEDIATE=0 queues for absent peers", "By default a send succeeds while the server is not running: the request waits in the pipe and is delivered once the server binds; a dead endpoint still takes its turn.", "ZMQ_IMMEDIATE docs; test_immediate_1"},
	{"F13", "IMMEDIATE=1 waits for connections", "With IMMEDIATE=1 only completed connections count: sends block until one exists, and dead endpoints are skipped.", "test_immediate_2, test_immediate_3"},
	{"F14", "REP fair-queues", "REP reads one whole request per client in rotation; a pipe found empty leaves the rotation and rejoins at its end when a request comes, so it is not FIFO across clients.", "RFC 28 REP; libzmq fq.cpp"},
	{"F15", "Replies go back where requests came from", "Each reply goes back on the pipe its request came from.", "RFC 28 REP"},
	{"F16", "Replies to gone clients", "A reply to a client that has gone is dropped silently and the send succeeds; a request that arrived before the client left is still handed to the application. Gone is what the REP's pipe says: a REP that connects keeps its pipe across a lost connection (IMMEDIATE=0), so its reply goes to whatever binds the client's endpoint next, and a plain REQ that restarted there takes it as its own reply.", "RFC 28 REP; observed on libzmq 4.3.4"},
	{"F17", "REP never blocks on send", "When the pipe back to the client is full, the reply is dropped; REP decides it when it reads the request, counting what it has not yet learnt was read.", "RFC 28 REP; libzmq rep.cpp, router.cpp"},
	{"F18", "The send high-water mark", "SNDHWM (default 1000) counts whole messages per pipe, as its writer learns of reads every (HWM+1)/2; a connected pipe never fills, since TCP holds what the receiver's RCVHWM refuses; when every pipe is full a send blocks, and in strict REQ the lockstep check comes first.", "observed on libzmq 4.3.4; libzmq pipe.cpp"},
	{"F19", "A request held by a dying REP is lost", "A request that reached a REP which then dies, read or unread, is lost and never resent; a strict REQ then waits forever, even after a new REP binds and the REQ reconnects.", "zguide ch. 4 Lazy Pirate; observed on libzmq 4.3.4"},
	{"F20", "REQ_RELAXED", "With REQ_RELAXED and REQ_CORRELATE the next send is allowed after a lost request and its reply arrives; REQ_RELAXED alone may take a late reply to an earlier request as the current one's.", "observed on libzmq 4.3.4"},
	{"F21", "Requests sent while the server is down", "On a connecting REQ with IMMEDIATE=0 a request sent while the REP is down waits in the surviving pipe and is delivered to the new REP; with IMMEDIATE=1 or a binding REQ the pipe is destroyed and sends block. A REP that reconnects on a surviving pipe at its RCVHWM stalls its handshake and ends the connection at the peer's first message.", "observed on libzmq 4.3.4"},
	{"F22", "What a dropped connection loses", "Messages sent that have not reached the other side are lost; what reached it is still read; messages still in the pipe survive only if the pipe does; a destroyed pipe discards its contents.", "libzmq session_base.cpp, pipe.cpp, stream_engine_base.cpp"},
	{"F23", "Reconnect interval", "The first attempt is immediate; after a refusal or disconnect the wait is RECONNECT_IVL + rand() % RECONNECT_IVL (100..199 ms by default), RECONNECT_IVL_MAX doubles the base up to a cap, and -1 never retries.", "libzmq stream_connecter_base.cpp"},
	{"F24", "The application queue", "The Node.js binding queues sends in front of the REQ and hands the head over whenever the socket can send; that queue, not libzmq, grows without bound while no reply comes.", "the blog's Node.js client (zeromq.node _outgoing)"},
}

// LookupFact returns the fact with the given ID.
func LookupFact(id FactID) (Fact, bool) {
	for _, f := range Facts {
		if f.ID == id {
			return f, true
		}
	}
	return Fact{}, false
}
