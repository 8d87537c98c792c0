//go:build libzmq && cgo

package libzmq

import (
	"fmt"
	"slices"

	"github.com/zeromq-lockstep/lockstep/model"
	"github.com/zeromq-lockstep/lockstep/spec"
)

// Skipped lists the script commands that Conformance leaves out on
// libzmq, because they address the model rather than the sockets: state
// prints the model's pipes, which libzmq does not show, and choose
// decides the model's open choices, which libzmq makes itself (fair
// queueing, F14; which pipe a reply may come from once the request's is
// gone, F10; reconnect jitter, F23; the first request id, F7). Leaving
// them out lets the rest of each script run: after a left-out choose the
// script's results show libzmq's own choice, and where that is not the
// scripted one the record says so.
var Skipped = []string{"state", "choose"}

// Conformance is spec.Conformance on libzmq with the Skipped commands
// left out of every script: it runs the builtin scripts of each fact
// (only fact's when it is set, e.g. "F5") and rates each fact.
func Conformance(fact model.FactID) ([]spec.FactResult, error) {
	if fact != "" {
		if _, ok := model.LookupFact(fact); !ok {
			return nil, fmt.Errorf("libzmq: unknown fact %q (facts are F1..F24)", fact)
		}
	}
	facts, err := spec.Facts()
	if err != nil {
		return nil, err
	}
	var out []spec.FactResult
	for _, f := range facts {
		if fact != "" && f.Fact.ID != fact {
			continue
		}
		fr := spec.FactResult{Fact: f.Fact, Status: spec.NotApplicable}
		for _, s := range f.Scripts {
			res, err := spec.Run(withoutSkipped(s), Name)
			if err != nil {
				return nil, err
			}
			fr.Scripts = append(fr.Scripts, res)
			switch st := res.Status(); {
			case st == spec.Differs:
				fr.Status = spec.Differs
			case st == spec.Conforms && fr.Status == spec.NotApplicable:
				fr.Status = spec.Conforms
			}
		}
		out = append(out, fr)
	}
	return out, nil
}

// withoutSkipped is a copy of s without its Skipped commands.
func withoutSkipped(s *spec.Script) *spec.Script {
	c := *s
	c.Commands = nil
	for _, cmd := range s.Commands {
		if !slices.Contains(Skipped, cmd.Name) {
			c.Commands = append(c.Commands, cmd)
		}
	}
	return &c
}
