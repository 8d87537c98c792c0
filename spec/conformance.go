package spec

import (
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/zeromq-lockstep/lockstep/backend"
	"github.com/zeromq-lockstep/lockstep/model"
)

// Status is how a backend fares on a script or a fact.
type Status string

// The statuses of a conformance run.
const (
	Conforms Status = "conforms"
	Differs  Status = "differs"
	// NotApplicable: the backend lacks what the script needs (a socket
	// type, an option, poll, ...) before any difference showed, or the
	// script does not declare the backend.
	NotApplicable Status = "not applicable"
)

// Status is the script's status: it differs when a command gave other
// output than expected (also before a command the backend does not
// support), is not applicable when it stopped at such a command or was
// skipped, and conforms otherwise.
func (r Result) Status() Status {
	switch {
	case r.Skipped:
		return NotApplicable
	case !r.Passed():
		return Differs
	case r.NotApplicable != "":
		return NotApplicable
	}
	return Conforms
}

// FactResult is the outcome of one fact's scripts on a backend.
type FactResult struct {
	Fact    model.Fact
	Status  Status
	Scripts []Result // every script of the fact, skipped ones included
}

// Conformance runs the builtin scripts of each fact on backend and rates
// each fact: it differs when one of its scripts differs, conforms when
// none differs and one conforms, and is not applicable otherwise. With
// fact set (e.g. "F5") only that fact is run. Scripts that do not declare
// the backend are skipped (not applicable).
func Conformance(impl string, fact model.FactID) ([]FactResult, error) {
	if _, err := openBackendCheck(impl); err != nil {
		return nil, err
	}
	if fact != "" {
		if _, ok := model.LookupFact(fact); !ok {
			return nil, fmt.Errorf("script: unknown fact %q (facts are F1..F24)", fact)
		}
	}
	facts, err := Facts()
	if err != nil {
		return nil, err
	}
	var out []FactResult
	for _, f := range facts {
		if fact != "" && f.Fact.ID != fact {
			continue
		}
		fr := FactResult{Fact: f.Fact, Status: NotApplicable}
		for _, s := range f.Scripts {
			res, err := Run(s, impl)
			if err != nil {
				return nil, err
			}
			fr.Scripts = append(fr.Scripts, res)
			switch st := res.Status(); {
			case st == Differs:
				fr.Status = Differs
			case st == Conforms && fr.Status == NotApplicable:
				fr.Status = Conforms
			}
		}
		out = append(out, fr)
	}
	return out, nil
}

// openBackendCheck reports whether backend is registered.
func openBackendCheck(impl string) (bool, error) {
	for _, b := range backend.Backends() {
		if b == impl {
			return true, nil
		}
	}
	return false, fmt.Errorf("script: unknown backend %q (known: %s)", impl, strings.Join(backend.Backends(), ", "))
}

// WriteDetails writes, for each fact, each script's status and, for a
// difference, every differing command with its expected and actual
// output (only result lines on a backend that does not observe events).
// It is the golden file of the zmq4 conformance test and what
// `lockstep conformance -v` prints.
func WriteDetails(w io.Writer, results []FactResult) {
	for _, fr := range results {
		fmt.Fprintf(w, "%s %s: %s\n", fr.Fact.ID, fr.Status, fr.Fact.Title)
		if len(fr.Scripts) == 0 {
			fmt.Fprintf(w, "  no script\n")
		}
		for _, r := range fr.Scripts {
			name := path.Base(r.Path)
			switch {
			case r.Skipped:
				fmt.Fprintf(w, "  %s: not applicable: the script does not declare backend %s\n", name, r.Backend)
				continue
			case r.Status() == NotApplicable:
				fmt.Fprintf(w, "  %s: not applicable: %s\n", name, r.NotApplicable)
				continue
			}
			fmt.Fprintf(w, "  %s: %s (%d commands)\n", name, r.Status(), len(r.Commands))
			for _, c := range r.Failures() {
				exp, act := c.Expected, c.Actual
				if !r.Observes {
					exp, act = resultLines(exp), resultLines(act)
				}
				fmt.Fprintf(w, "    line %d: %s\n", c.Line, c.Command)
				fmt.Fprintf(w, "      expected: %s\n", oneLine(strings.TrimSuffix(exp, "\n")))
				fmt.Fprintf(w, "      actual:   %s\n", oneLine(strings.TrimSuffix(act, "\n")))
			}
			if r.NotApplicable != "" {
				fmt.Fprintf(w, "    then stopped: %s\n", r.NotApplicable)
			}
		}
	}
}

func oneLine(s string) string { return strings.ReplaceAll(s, "\n", " | ") }
