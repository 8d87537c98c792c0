package trace

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/zeromq-lockstep/lockstep/model"
)

// Outcome is what the applications of a run could observe, whichever
// backend ran it: the simulator over the model, or realnet over a real
// implementation. Timing is left out on purpose: two backends agree when
// their applications saw the same things in the same order.
type Outcome struct {
	// Delivered lists, per server, the requests its application read, in
	// order.
	Delivered map[string][]string
	// Received lists, per client, the replies its application got, in
	// order.
	Received map[string][]string
	// Errors lists, per actor, the kind of every failed socket call in
	// order (see ErrorKind), with a run of the same kind counted once:
	// how often an application retries is its business, not the socket's.
	// Panics and hangs of a real implementation count as errors.
	Errors map[string][]string
	// Lost lists the payloads of the messages lost, sorted, each once.
	Lost []string
}

// ErrorKind reduces an error or panic or hang event's reason to what the
// comparison keys on: "recv: EOF: ...", without a bracketed detail a real
// backend adds ("[zmq4: EOF]") and without the message.
func ErrorKind(e Event) string {
	r := e.Reason
	if i := strings.Index(r, " ["); i >= 0 {
		r = r[:i]
	}
	if e.Kind != model.EventError {
		r = string(e.Kind) + ": " + r
	}
	return r
}

// OutcomeOf derives the outcome of a run from its trace.
func OutcomeOf(trace []Event) Outcome {
	var a Accumulator
	for _, e := range trace {
		a.Add(e)
	}
	return a.Outcome()
}

// OutcomeLine is one row of a side-by-side comparison of two outcomes.
type OutcomeLine struct {
	Section string // delivered, received, errors, lost
	Actor   string // the server or client; empty for lost
	A, B    string // the two sides; empty where one has nothing
	Differs bool
}

// CompareOutcomes lines up two outcomes row by row, actor by actor, and
// marks each row where they differ. The outcomes agree when no row
// differs.
func CompareOutcomes(a, b Outcome) []OutcomeLine {
	var out []OutcomeLine
	section := func(name string, ma, mb map[string][]string) {
		actors := map[string]bool{}
		for k := range ma {
			actors[k] = true
		}
		for k := range mb {
			actors[k] = true
		}
		names := make([]string, 0, len(actors))
		for k := range actors {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, n := range names {
			out = append(out, rows(name, n, ma[n], mb[n])...)
		}
	}
	section("delivered", a.Delivered, b.Delivered)
	section("received", a.Received, b.Received)
	section("errors", a.Errors, b.Errors)
	out = append(out, rows("lost", "", a.Lost, b.Lost)...)
	return out
}

func rows(section, actor string, a, b []string) []OutcomeLine {
	var out []OutcomeLine
	for i := 0; i < max(len(a), len(b)); i++ {
		l := OutcomeLine{Section: section, Actor: actor}
		if i < len(a) {
			l.A = a[i]
		}
		if i < len(b) {
			l.B = b[i]
		}
		l.Differs = i >= len(a) || i >= len(b) || a[i] != b[i]
		out = append(out, l)
	}
	return out
}

// Agree reports whether no row of a comparison differs.
func Agree(lines []OutcomeLine) bool {
	return !slices.ContainsFunc(lines, func(l OutcomeLine) bool { return l.Differs })
}

// FormatComparison prints a comparison side by side, "!" marking each
// differing row; with brief set, rows that agree are summarised by count.
func FormatComparison(lines []OutcomeLine, nameA, nameB string, brief bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "  %-10s %-10s %-34s %s\n", "", "", nameA, nameB)
	same := 0
	flush := func() {
		if same > 0 {
			fmt.Fprintf(&b, "  ... %d agreeing rows\n", same)
			same = 0
		}
	}
	for _, l := range lines {
		if brief && !l.Differs {
			same++
			continue
		}
		flush()
		mark := " "
		if l.Differs {
			mark = "!"
		}
		fmt.Fprintf(&b, "%s %-10s %-10s %-34s %s\n", mark, l.Section, l.Actor, orDash(l.A), orDash(l.B))
	}
	flush()
	return b.String()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
