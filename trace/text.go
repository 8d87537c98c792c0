package trace

import (
	"strconv"
	"unicode/utf8"
)

// AppendText appends the event's [Event.Text] line to b, without fmt and
// without allocating beyond b's growth: the text format of a long run
// spends its time here. The layout is "%11.6fs  %-10s %-10s" for time,
// actor and event, then msg=, queue=, peer= and a quoted reason= where
// they apply, with trailing spaces trimmed.
func (e Event) AppendText(b []byte) []byte {
	start := len(b)
	var num [32]byte
	secs := strconv.AppendFloat(num[:0], e.At.Seconds(), 'f', 6, 64)
	b = appendPad(b, 11-len(secs))
	b = append(b, secs...)
	b = append(b, "s  "...)
	// Widths count runes, as fmt's do.
	b = append(b, e.Actor...)
	b = appendPad(b, 10-utf8.RuneCountInString(e.Actor))
	b = append(b, ' ')
	b = append(b, e.Kind...)
	b = appendPad(b, 10-utf8.RuneCountInString(string(e.Kind)))
	if e.HasMsg {
		b = append(b, " msg="...)
		b = append(b, e.Msg...)
	}
	if e.HasQueue {
		b = append(b, " queue="...)
		b = strconv.AppendInt(b, int64(e.Queue), 10)
	}
	if e.Peer != "" {
		b = append(b, " peer="...)
		b = append(b, e.Peer...)
	}
	if e.Reason != "" {
		b = append(b, " reason="...)
		b = strconv.AppendQuote(b, e.Reason) // what %q does with a string
	}
	for len(b) > start && b[len(b)-1] == ' ' {
		b = b[:len(b)-1]
	}
	return b
}

func appendPad(b []byte, n int) []byte {
	for ; n > 0; n-- {
		b = append(b, ' ')
	}
	return b
}
