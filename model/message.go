package model

import "strings"

// Message is one whole ZeroMQ message: its frames, in order. Frames are
// strings because messages are compared and printed far more often than they
// are built, and a string frame cannot be changed behind the model's back.
type Message []string

// Delimiter is the empty frame that separates a REQ/REP envelope from the
// body (RFC 28: "an empty delimiter frame").
const Delimiter = ""

// Body returns the frames after the first delimiter, or nil and false if the
// message has no delimiter.
func (m Message) Body() (Message, bool) {
	for i, f := range m {
		if f == Delimiter {
			return m[i+1:], true
		}
	}
	return nil, false
}

// Text renders the body of an application payload for traces: frames joined
// by "|". Binary frames (the 4-byte request ids of ReqCorrelate) are rare in
// bodies and are shown as they are.
func (m Message) Text() string { return strings.Join(m, "|") }

// clone copies the frame slice so that queues never share backing arrays.
func (m Message) clone() Message { return append(Message(nil), m...) }
