package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zeromq-lockstep/lockstep/model"
)

func TestCheckCommand(t *testing.T) {
	var out, errb bytes.Buffer
	report := filepath.Join(t.TempDir(), "r.json")
	if code := run([]string{"check", "-clients", "1", "-servers", "1", "-requests", "2", "-o", report}, &out, &errb); code != 0 {
		t.Fatalf("clean model: exit %d\n%s%s", code, out.String(), errb.String())
	}
	if !strings.Contains(out.String(), "no violation") || !strings.Contains(out.String(), "liveness: checked") {
		t.Fatalf("output:\n%s", out.String())
	}
	var res struct {
		Stats struct{ Distinct int64 }
	}
	if b, err := readFile(report); err != nil || json.Unmarshal(b, &res) != nil || res.Stats.Distinct == 0 {
		t.Fatalf("report: %v %s", err, b)
	}

	out.Reset()
	cex := filepath.Join(t.TempDir(), "c.json")
	code := run([]string{"check", "-clients", "1", "-servers", "1", "-requests", "1", "-mutation", "keep-held-on-crash", "-format", "msc", "-cex", cex}, &out, &errb)
	if !model.Mutations() {
		if code != 2 || !strings.Contains(errb.String(), "-tags teeth") {
			t.Fatalf("a mutant without teeth: exit %d, %s; want 2 naming -tags teeth", code, errb.String())
		}
		return // the rest replays the mutant's counterexample: go test -tags teeth
	}
	// The mutant hands the held request back to the client's pipe, and
	// the wire invariant sees it go out again (F19) before any loss.
	if code != 1 || !strings.Contains(out.String(), "VIOLATION duplicate") || !strings.Contains(out.String(), "sequenceDiagram") {
		t.Fatalf("mutant: exit %d\n%s", code, out.String())
	}
	out.Reset()
	errb.Reset()
	if code := run([]string{"check", "-replay", cex}, &out, &errb); code != 0 || !strings.Contains(errb.String(), "duplicate") {
		t.Fatalf("replay: exit %d\n%s%s", code, out.String(), errb.String())
	}

	for _, bad := range [][]string{{"check", "-bind", "both"}, {"check", "-clients", "0"}, {"check", "-mutation", "nope"}, {"check", "-nope"}, {"check", "-replay", "/nonexistent"}, {"check", "extra"}} {
		out.Reset()
		errb.Reset()
		if code := run(bad, &out, &errb); code != 2 || strings.Count(errb.String(), "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q; want 2 and one line", bad, code, errb.String())
		}
	}
}

func readFile(path string) ([]byte, error) { return os.ReadFile(path) }

// TestCheckPart: -part explores one part and says which in the report;
// a -part that names no part, and an output path that cannot be written,
// are refused before any run.
func TestCheckPart(t *testing.T) {
	report := filepath.Join(t.TempDir(), "r.json")
	var out, errb bytes.Buffer
	if code := run([]string{"check", "-clients", "1", "-servers", "2", "-requests", "2", "-part", "2/3", "-split-width", "2", "-o", report}, &out, &errb); code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out.String(), errb.String())
	}
	if !strings.Contains(out.String(), "part 2 of 3: the parts divide at depth") {
		t.Fatalf("output does not say which part:\n%s", out.String())
	}
	var res struct {
		Config string
		Stats  struct {
			Part struct{ Index, Of, Level, Width, Kept int }
		}
	}
	b, err := readFile(report)
	if err != nil || json.Unmarshal(b, &res) != nil {
		t.Fatalf("report: %v %s", err, b)
	}
	if p := res.Stats.Part; p.Index != 2 || p.Of != 3 || p.Level <= 0 || p.Kept == 0 || p.Kept > p.Width || !strings.Contains(res.Config, "part=2/3") {
		t.Fatalf("report's part: %+v, config %q", p, res.Config)
	}
	for _, bad := range [][]string{
		{"-part", "0/3"}, {"-part", "4/3"}, {"-part", "2"}, {"-part", "x/y"}, {"-part", "1/0"}, {"-part", "1/3", "-split-width", "-1"},
		{"-o", t.TempDir()}, {"-cex", filepath.Join(t.TempDir(), "no", "such", "c.json")}, {"-o", "/dev/null"},
	} {
		code, stderr := runOneLine(t, append([]string{"check", "-clients", "1", "-servers", "1", "-requests", "1"}, bad...)...)
		if code != 2 {
			t.Errorf("%q: exit %d, %q; want 2", bad, code, stderr)
		}
	}
}
