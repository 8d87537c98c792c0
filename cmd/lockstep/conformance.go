package main

import (
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/zeromq-lockstep/lockstep/model"
	"github.com/zeromq-lockstep/lockstep/properties/script"
)

// cmdConformance runs every fact's scripts (properties/script/testdata,
// compiled in) on a backend and prints one row per fact: conforms,
// differs, or not applicable on that backend, and for a difference the
// command that shows it. Exit 0 when every applicable fact conforms, 1
// when some differ, 2 for bad input.
func cmdConformance(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("conformance", flag.ContinueOnError)
	backend := fs.String("backend", "sim", "sim (the model), zmq4 (real go-zeromq/zmq4 sockets on 127.0.0.1) or libzmq (real libzmq; a binary built with -tags libzmq)")
	fact := fs.String("fact", "", "run only this fact's scripts, e.g. F5")
	verbose := fs.Bool("v", false, "print each script's result and every differing command, expected vs actual")
	pos, help, err := parseCommand(fs, args, stdout)
	if help || err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageErr("conformance: unexpected argument %q (flags only: -backend sim|zmq4 -fact F5 -v)", pos[0])
	}
	if *backend == backendLibzmq {
		if err := needLibzmq("conformance"); err != nil {
			return err
		}
	}
	if !slices.Contains(script.Backends(), *backend) {
		return usageErr("conformance: unknown backend %q (backends: %s)", *backend, strings.Join(script.Backends(), ", "))
	}
	if *fact != "" {
		f := strings.ToUpper(*fact)
		if _, ok := model.LookupFact(f); !ok {
			return usageErr("conformance: unknown fact %q (facts are F1..F24)", *fact)
		}
		*fact = f
	}
	conformance := script.Conformance
	if *backend == backendLibzmq {
		conformance = func(_, fact string) ([]script.FactResult, error) { return libzmqConformance(fact) }
	}
	results, err := conformance(*backend, *fact)
	if err != nil {
		return err
	}
	if *verbose {
		script.WriteDetails(stdout, results)
		fmt.Fprintln(stdout)
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "FACT\tRESULT\tRULE\tREPRODUCE\n")
	count := map[script.Status]int{}
	for _, fr := range results {
		count[fr.Status]++
		repro := ""
		if fr.Status == script.Differs {
			repro = fmt.Sprintf("lockstep conformance -backend %s -fact %s -v", *backend, fr.Fact.ID)
		}
		status := string(fr.Status)
		if fr.Status == script.NotApplicable {
			status += " on " + *backend
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", fr.Fact.ID, status, fr.Fact.Title, repro)
	}
	tw.Flush()
	fmt.Fprintf(stdout, "%s: %d conform, %d differ, %d not applicable\n", *backend,
		count[script.Conforms], count[script.Differs], count[script.NotApplicable])
	if count[script.Differs] > 0 {
		return &exitError{code: 1}
	}
	return nil
}
