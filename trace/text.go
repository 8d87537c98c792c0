package trace

import (
	"strconv"
	"time"
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
	secs := appendSeconds(num[:0], e.At)
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

// appendSeconds appends d in seconds with six decimals, as
// strconv.AppendFloat(b, d.Seconds(), 'f', 6, 64) does, in integers: the
// float formatting was half the time of a text line. Below a million
// seconds, d.Seconds() is within 1e-10 s of d, and d (whole nanoseconds)
// at least 1e-9 s from any halfway point but an exact one, so rounding d
// to the microsecond gives the float's digits; an exact halfway point,
// a negative d or a longer one is left to AppendFloat.
func appendSeconds(b []byte, d time.Duration) []byte {
	if d < 0 || d >= 1e6*time.Second || d%1000 == 500 {
		return strconv.AppendFloat(b, d.Seconds(), 'f', 6, 64)
	}
	us := int64(d+500) / 1000 // to the nearest microsecond
	b = strconv.AppendInt(b, us/1e6, 10)
	b = append(b, '.')
	frac := us % 1e6
	for div := int64(1e5); div > 0; div /= 10 {
		b = append(b, byte('0'+frac/div%10))
	}
	return b
}

func appendPad(b []byte, n int) []byte {
	for ; n > 0; n-- {
		b = append(b, ' ')
	}
	return b
}
