package main

import (
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/zeromq-lockstep/lockstep/backend"
	"github.com/zeromq-lockstep/lockstep/model"
	"github.com/zeromq-lockstep/lockstep/spec"
)

// cmdConformance runs every fact's scripts (spec/testdata,
// compiled in) on a backend and prints one row per fact: conforms,
// differs, or not applicable on that backend, and for a difference the
// command that shows it. Exit 0 when every applicable fact conforms, 1
// when some differ, 2 for bad input.
func cmdConformance(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("conformance", flag.ContinueOnError)
	impl := fs.String("backend", "sim", "sim (the model), zmq4 (real go-zeromq/zmq4 sockets on 127.0.0.1) or libzmq (real libzmq; a binary built with -tags libzmq)")
	fact := fs.String("fact", "", "run only this fact's scripts, e.g. F5")
	verbose := fs.Bool("v", false, "print each script's result and every differing command, expected vs actual")
	pos, help, err := parseCommand(fs, args, stdout)
	if help || err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageErr("conformance: unexpected argument %q (flags only: -backend sim|zmq4 -fact F5 -v)", pos[0])
	}
	if err := needLibzmq("conformance", *impl); err != nil {
		return err
	}
	if !slices.Contains(backend.Backends(), *impl) {
		return usageErr("conformance: unknown backend %q (backends: %s)", *impl, strings.Join(backend.Backends(), ", "))
	}
	if *fact != "" {
		f := model.FactID(strings.ToUpper(*fact))
		if _, ok := model.LookupFact(f); !ok {
			return usageErr("conformance: unknown fact %q (facts are F1..F24)", *fact)
		}
		*fact = string(f)
	}
	conformance := spec.Conformance
	if *impl == backendLibzmq {
		conformance = func(_ string, fact model.FactID) ([]spec.FactResult, error) { return libzmqConformance(fact) }
	}
	results, err := conformance(*impl, model.FactID(*fact))
	if err != nil {
		return err
	}
	if *verbose {
		spec.WriteDetails(stdout, results)
		fmt.Fprintln(stdout)
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "FACT\tRESULT\tRULE\tREPRODUCE\n")
	count := map[spec.Status]int{}
	for _, fr := range results {
		count[fr.Status]++
		repro := ""
		if fr.Status == spec.Differs {
			repro = fmt.Sprintf("lockstep conformance -backend %s -fact %s -v", *impl, fr.Fact.ID)
		}
		status := string(fr.Status)
		if fr.Status == spec.NotApplicable {
			status += " on " + *impl
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", fr.Fact.ID, status, fr.Fact.Title, repro)
	}
	tw.Flush()
	fmt.Fprintf(stdout, "%s: %d conform, %d differ, %d not applicable\n", *impl,
		count[spec.Conforms], count[spec.Differs], count[spec.NotApplicable])
	if count[spec.Differs] > 0 {
		return &exitError{code: 1}
	}
	return nil
}
