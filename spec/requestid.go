package spec

import (
	"encoding/binary"
	"fmt"
	"regexp"
	"strconv"
)

// requestIDFrame is a quoted 4-byte frame followed by the delimiter, as
// a raw peer receives the request id of REQ_CORRELATE (F7).
var requestIDFrame = regexp.MustCompile(`"((?:\\x[0-9a-f]{2}|\\.|[^"\\])+)" ""`)

// RequestIDs writes REQ_CORRELATE request ids relative to the first one it
// has seen: libzmq starts them at random (req.cpp: _request_id is
// generate_random () at construction), so a real backend's ids can be
// compared with the model's only by their distance from the first. The
// zero value has seen none. Use one per script and side:
//
//	var want, got spec.RequestIDs
//	same := want.Relative(expected) == got.Relative(actual)
type RequestIDs struct {
	first uint32
	seen  bool
}

// Relative returns s with every request id frame written <id+N>, N its
// distance from the first id seen.
func (r *RequestIDs) Relative(s string) string {
	return requestIDFrame.ReplaceAllStringFunc(s, func(q string) string {
		frame, err := strconv.Unquote(q[:len(q)-len(` ""`)])
		if err != nil || len(frame) != 4 {
			return q
		}
		id := binary.LittleEndian.Uint32([]byte(frame))
		if !r.seen {
			r.first, r.seen = id, true
		}
		return fmt.Sprintf(`<id+%d> ""`, id-r.first)
	})
}
