package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zeromq-lockstep/lockstep/check"
	"github.com/zeromq-lockstep/lockstep/model"
)

// mutantCounterexample runs check on a mutant, as a user does with -cex,
// and returns the file it wrote.
func mutantCounterexample(t *testing.T) string {
	t.Helper()
	if !model.Mutations() {
		t.Skip("a counterexample that still fails needs a mutant: go test -tags teeth ./cmd/lockstep")
	}
	cex := filepath.Join(t.TempDir(), "c.json")
	var out, errb bytes.Buffer
	if code := run([]string{"check", "-clients", "1", "-servers", "1", "-requests", "1", "-mutation", "keep-held-on-crash", "-cex", cex}, &out, &errb); code != 1 {
		t.Fatalf("check on the mutant: exit %d, want 1\n%s%s", code, out.String(), errb.String())
	}
	return cex
}

// cleanCounterexample writes a counterexample file for the clean model
// whose steps are possible but break nothing: a bug that was fixed.
func cleanCounterexample(t *testing.T, steps ...string) string {
	t.Helper()
	cfg := check.Config{Clients: 1, Servers: 1, Requests: 1, Faults: check.Faults{Crashes: 1, Restarts: 1}}
	cx := &check.Counterexample{Rule: "loss", Fact: "F19, F22", Message: "s1 read c1's request 0 after it was lost", Steps: steps}
	path := filepath.Join(t.TempDir(), "fixed.json")
	if err := check.WriteCounterexample(path, cfg, cx); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestReplayRunsCheckCounterexamples(t *testing.T) {
	cex := mutantCounterexample(t)
	var out, errb bytes.Buffer
	if code := run([]string{"replay", cex, "-format", "jsonl"}, &out, &errb); code != 0 {
		t.Fatalf("replay: exit %d, want 0\n%s", code, errb.String())
	}
	// One JSON object a line (check's own "step" events are not the
	// model's kinds, so trace.Parse would refuse them).
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		if !json.Valid([]byte(l)) || !strings.HasPrefix(l, "{") {
			t.Fatalf("replay printed a line that is not jsonl: %q", l)
		}
	}
	if !strings.Contains(errb.String(), "step 8: dial-done c1->tcp://s1:5454") || !strings.Contains(errb.String(), "put its request 0 on the wire again") {
		t.Fatalf("stderr does not show the steps and the violation:\n%s", errb.String())
	}
	// check -replay is the same replay.
	var out2, errb2 bytes.Buffer
	if code := run([]string{"check", "-replay", cex, "-format", "jsonl"}, &out2, &errb2); code != 0 || out2.String() != out.String() {
		t.Fatalf("check -replay: exit %d, and a trace that differs from replay's:\n%s", code, errb2.String())
	}
}

// TestReplayCheckCounterexampleAsABinary: the file check wrote replays in
// a process of its own, as a user runs it.
func TestReplayCheckCounterexampleAsABinary(t *testing.T) {
	cex := mutantCounterexample(t)
	out, errs, code := lockstepBinary(t, "replay", cex, "-format", "msc")
	if code != 0 || strings.Contains(errs, "panic") || !strings.Contains(out, "sequenceDiagram") {
		t.Fatalf("replay: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	damaged := filepath.Join(t.TempDir(), "cut.json")
	data, _ := os.ReadFile(cex)
	if err := os.WriteFile(damaged, data[:len(data)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	out, errs, code = lockstepBinary(t, "replay", damaged)
	if code != 2 || strings.Count(errs, "\n") != 1 || out != "" {
		t.Fatalf("a file cut in half: exit %d, stdout %q, stderr %q; want 2, nothing, one line", code, out, errs)
	}
}

func TestReplaySaysWhenACounterexampleNoLongerFails(t *testing.T) {
	for _, c := range []struct {
		name  string
		steps []string
		want  string
	}{
		{"steps that break nothing", []string{"dial-done c1->tcp://s1:5454", "enqueue c1", "arrive c1->s1", "serve s1"}, "break no invariant"},
		{"a step no longer possible", []string{"dial-done c1->tcp://s1:5454", "serve s1"}, "step 2 (\"serve s1\") is not possible"},
	} {
		t.Run(c.name, func(t *testing.T) {
			file := cleanCounterexample(t, c.steps...)
			code, stderr := runOneLine(t, "replay", file)
			if code != 1 || !strings.Contains(stderr, "no longer fails") || !strings.Contains(stderr, c.want) {
				t.Fatalf("exit %d, stderr %q; want 1, saying %q", code, stderr, c.want)
			}
			if code, stderr := runOneLine(t, "check", "-replay", file); code != 1 {
				t.Fatalf("check -replay: exit %d, %q; want 1", code, stderr)
			}
		})
	}
}

// TestReplayRefusesDamagedCounterexamples: a counterexample file cut at
// any byte, or with any byte changed, is refused
// (exit 2, one line, nothing on stdout), never read as a fixed bug; so are
// foreign files and other versions.
func TestReplayRefusesDamagedCounterexamples(t *testing.T) {
	file := cleanCounterexample(t, "dial-done c1->tcp://s1:5454", "enqueue c1")
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	try := func(name string, content []byte) (int, string) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, content, 0o644); err != nil {
			t.Fatal(err)
		}
		var out, errb bytes.Buffer
		code := run([]string{"replay", p}, &out, &errb)
		if code == 2 && (strings.Count(errb.String(), "\n") != 1 || out.Len() != 0) {
			t.Fatalf("%s: exit 2 with stdout %q and stderr %q; want nothing and one line", name, out.String(), errb.String())
		}
		return code, errb.String()
	}
	if code, stderr := try("whole.json", data); code != 1 {
		t.Fatalf("the intact file: exit %d (%q), want 1", code, stderr)
	}
	for n := 0; n < len(data); n++ {
		if code, stderr := try("cut.json", data[:n]); code != 2 {
			t.Fatalf("cut to %d of %d bytes: exit %d (%q), want 2", n, len(data), code, stderr)
		}
	}
	for i := range data {
		bad := bytes.Clone(data)
		bad[i] ^= 0x01
		if code, stderr := try("flip.json", bad); code != 2 {
			t.Fatalf("byte %d (%q) flipped: exit %d (%q), want 2", i, data[i], code, stderr)
		}
	}
	v1 := reseal(t, bytes.Replace(data, []byte(check.CounterexampleHeader), []byte("check counterexample v1"), 1))
	for _, c := range []struct {
		name    string
		content []byte
		want    string
	}{
		{"v1.json", v1, "run lockstep check -cex again"},
		{"extra.json", append(bytes.Clone(data), []byte("{}\n")...), "something after"},
		{"trailing.json", append(bytes.Clone(data), []byte("x")...), "something after"},
		{"resealed.json", reseal(t, bytes.Replace(data, []byte(`"config"`), []byte(`"konfig"`), 1)), "unknown field"},
		{"other.json", []byte(`{"lockstep": "something else"}`), "not a rapid fail file"},
		{"empty.json", nil, "not a rapid fail file"},
	} {
		if code, stderr := try(c.name, c.content); code != 2 || !strings.Contains(stderr, c.want) {
			t.Errorf("%s: exit %d, stderr %q; want 2 and %q", c.name, code, stderr, c.want)
		}
	}
}

// reseal gives an edited counterexample file the sum of its new contents,
// as a deliberate forgery would, so that the checks behind the sum are
// reached.
func reseal(t *testing.T, b []byte) []byte {
	t.Helper()
	const field = `"sum": "sha256:`
	i := bytes.Index(b, []byte(field)) + len(field)
	if i < len(field) {
		t.Fatal("no sum field")
	}
	c := bytes.Clone(b)
	copy(c[i:], strings.Repeat("0", 64))
	d := sha256.Sum256(c)
	copy(c[i:], hex.EncodeToString(d[:]))
	return c
}
