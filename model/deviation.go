package model

import "reflect"

// Deviation describes one field of Profile: what an implementation with it
// set does, and which facts that departs from.
type Deviation struct {
	Field   string   // the Profile field
	Facts   []FactID // the facts it departs from
	Summary string   // what the implementation does, in one sentence
}

// Deviations lists every deviation a Profile can name, in field order.
// TestDeviationsCoverProfile keeps it in step with the struct.
var Deviations = []Deviation{
	{"ReqNotStrict", []FactID{"F1"}, "a second REQ send before the reply succeeds and is transmitted"},
	{"StaleRepliesKept", []FactID{"F9", "F10"}, "REQ reads only the last send's connection but never discards: old replies answer later requests"},
	{"RepNotStrict", []FactID{"F2"}, "REP receives while a reply is owed, a second send goes to the same requester again, and a send before any request is dropped"},
	{"NoPoller", []FactID{"F3"}, "there is no poller and no readiness; the application keeps lockstep itself"},
	{"EnvelopeAtLastDelimiter", []FactID{"F5"}, "REP splits a request at its last empty frame, not its first"},
	{"InvalidRequestError", []FactID{"F5"}, "a request without a delimiter makes REP's receive fail instead of being dropped"},
	{"ReplyUnchecked", []FactID{"F6"}, "REQ takes any reply shape, with no protocol error"},
	{"NoPipeWithoutConnection", []FactID{"F12", "F21"}, "nothing is queued before a connection or across a reconnect"},
	{"SendFailsWithoutPipe", []FactID{"F11", "F13"}, "a send with no connection fails at once instead of blocking"},
	{"RecvEOFOnPeerLoss", []FactID{"F19"}, "a REQ waiting for a reply gets EOF when its REP dies, instead of waiting forever"},
	{"NoReconnect", []FactID{"F23"}, "a connection that ends is never re-established"},
	{"RepArrivalOrder", []FactID{"F14"}, "REP serves requests first come, first served across clients"},
	{"AttachOrderRotation", []FactID{"F8", "F14"}, "sends and receives rotate over the pipes in attach order, which libzmq's rotation leaves once a pipe fills, empties or ends"},
	{"ConnectBlocks", []FactID{"F23"}, "connect() blocks the application until a connection is up, retries a refused one ten times 250 ms apart, then fails for good"},
	{"SerialHandshakes", []FactID{"F13"}, "a binding socket handshakes its incoming connections one at a time, so one that arrives during another's handshake completes later"},
	{"SendPanicsPastLastConnection", []FactID{"F8"}, "REQ notices a dead connection only when a write to it or a read on it fails, and a send whose turn is past the first connection panics (index out of range) when every connection from there to the last has died"},
	{"DealerSendsToEvery", []FactID{"F5", "F8"}, "a DEALER (the raw client of F5's requests) sends every message to every connection, not round robin, and once it has had a connection a send with none succeeds and the message goes nowhere"},
	{"DealerReadsEOF", []FactID{"F22"}, "each connection a DEALER loses leaves an EOF that a receive returns as an error, after what came on that connection"},
	{"NoDisconnect", []FactID{"F22"}, "there is no zmq_disconnect: the call fails and changes nothing"},
}

// Departures returns the deviations p has set, in field order.
func (p Profile) Departures() []Deviation {
	v := reflect.ValueOf(p)
	var out []Deviation
	for _, d := range Deviations {
		if f := v.FieldByName(d.Field); f.IsValid() && f.Kind() == reflect.Bool && f.Bool() {
			out = append(out, d)
		}
	}
	return out
}

// DepartsFrom returns the deviations of p that depart from fact.
func (p Profile) DepartsFrom(fact FactID) []Deviation {
	var out []Deviation
	for _, d := range p.Departures() {
		for _, f := range d.Facts {
			if f == fact {
				out = append(out, d)
			}
		}
	}
	return out
}
