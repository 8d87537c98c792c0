package trace

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/zeromq-lockstep/lockstep/model"
)

// Event is one line of a trace, the same for the simulator and for
// realnet so that one set of formats serves both.
type Event struct {
	At     time.Duration   // virtual time since the start of the run
	Actor  string          // the process or socket the event happened to
	Kind   model.EventKind // what happened
	Msg    string          // the payload, where there is one
	HasMsg bool
	Queue  int // the application queue's length, where it applies (F24)
	// HasQueue says whether Queue applies; a queue of 0 is meaningful.
	HasQueue bool
	Reason   string // why, for drop, disconnect, retry, error, panic, hang
	Peer     string // the other end, where there is one
}

// jsonEvent fixes the jsonl field names and order.
type jsonEvent struct {
	TUS    int64   `json:"t_us"`
	Actor  string  `json:"actor"`
	Event  string  `json:"event"`
	Msg    *string `json:"msg,omitempty"`
	Queue  *int    `json:"queue,omitempty"`
	Reason string  `json:"reason,omitempty"`
	Peer   string  `json:"peer,omitempty"`
}

// JSON renders the event as one jsonl object: t_us (integer virtual
// microseconds), actor, event, and msg, queue, reason, peer where they apply.
func (e Event) JSON() []byte {
	j := jsonEvent{TUS: e.At.Microseconds(), Actor: e.Actor, Event: string(e.Kind), Reason: e.Reason, Peer: e.Peer}
	if e.HasMsg {
		j.Msg = &e.Msg
	}
	if e.HasQueue {
		j.Queue = &e.Queue
	}
	b, err := json.Marshal(j)
	if err != nil {
		panic(err) // cannot happen: strings and integers only
	}
	return b
}

// Parse reads one jsonl line back.
func Parse(line []byte) (Event, error) {
	var j jsonEvent
	dec := json.NewDecoder(strings.NewReader(string(line)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return Event{}, fmt.Errorf("trace: %w", err)
	}
	if !model.EventKind(j.Event).Known() {
		return Event{}, fmt.Errorf("trace: unknown event %q", j.Event)
	}
	e := Event{At: time.Duration(j.TUS) * time.Microsecond, Actor: j.Actor, Kind: model.EventKind(j.Event), Reason: j.Reason, Peer: j.Peer}
	if j.Msg != nil {
		e.Msg, e.HasMsg = *j.Msg, true
	}
	if j.Queue != nil {
		e.Queue, e.HasQueue = *j.Queue, true
	}
	return e, nil
}

// Text renders the event as one aligned line for people:
//
//	1.300412s  client    receive     msg={"response":"2"} queue=9
func (e Event) Text() string { return string(e.AppendText(nil)) }

// Node renders the event as the blog's Node.js client prints it: "N message
// queued" after each send through the queue, and the parsed reply as
// console.log shows an object. Other events print nothing (ok is false).
func (e Event) Node() (line string, ok bool) {
	switch e.Kind {
	case model.EventEnqueue:
		return fmt.Sprintf("%d message queued", e.Queue), true
	case model.EventReceive:
		return NodeInspect(e.Msg), true
	}
	return "", false
}

// NodeInspect prints a JSON payload the way Node's console.log prints the
// parsed object: {"response":"7"} becomes { response: '7' }. Payloads that
// are not a flat JSON object print as they are.
func NodeInspect(payload string) string {
	var obj map[string]any
	if err := json.Unmarshal([]byte(payload), &obj); err != nil {
		return payload
	}
	if len(obj) == 0 {
		return "{}"
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	// Node keeps insertion order; encoding/json does not, so sort for a
	// stable rendering (the scenario's replies have a single key).
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		var v string
		switch x := obj[k].(type) {
		case string:
			v = "'" + strings.ReplaceAll(x, "'", "\\'") + "'"
		case float64:
			v = strconv.FormatFloat(x, 'f', -1, 64)
		default:
			b, _ := json.Marshal(x)
			v = string(b)
		}
		parts = append(parts, k+": "+v)
	}
	return "{ " + strings.Join(parts, ", ") + " }"
}

// Formats are the trace formats, in the order help lists them.
var Formats = []string{"text", "node", "jsonl", "msc"}

// Render renders events in the named format, one line per event, as a
// [Writer] would write them.
func Render(events []Event, format string) ([]byte, error) {
	var b bytes.Buffer
	w, err := NewWriter(&b, format)
	if err != nil {
		return nil, err
	}
	for _, e := range events {
		w.Write(e) // a bytes.Buffer does not fail
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// FromObservation is the trace event of a model observation at time at.
// It is the one place where the model's reports become trace lines.
func FromObservation(at time.Duration, o model.Observation) Event {
	return Event{At: at, Actor: o.Actor, Kind: o.Kind, Msg: o.Msg, HasMsg: o.HasMsg, Reason: o.Reason, Peer: o.Peer}
}
