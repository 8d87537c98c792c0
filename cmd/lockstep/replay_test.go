package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zeromq-lockstep/lockstep/model"
	"github.com/zeromq-lockstep/lockstep/properties"
	"github.com/zeromq-lockstep/lockstep/trace"

	"pgregory.net/rapid"
)

// writeFailFile runs a property against a mutant in a fresh directory and
// returns the fail file rapid saved there.
func writeFailFile(t *testing.T, test string, mut model.Mutation) string {
	t.Helper()
	if !model.Mutations() {
		t.Skip("a failing fail file needs a mutant: go test -tags teeth ./cmd/lockstep")
	}
	t.Chdir(t.TempDir())
	old := flag.Lookup("rapid.shrinktime").Value.String()
	_ = flag.Set("rapid.shrinktime", "2s")
	defer flag.Set("rapid.shrinktime", old)
	p, ok := properties.Lookup(test)
	if !ok {
		t.Fatalf("no property %s", test)
	}
	tb := properties.NewRecordingTB(test)
	tb.Run(func() { rapid.Check(tb, p.Check(mut)) })
	if !tb.Failed() {
		t.Fatalf("the mutant did not fail %s, so there is no fail file to replay", test)
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "rapid", test, "*.fail"))
	if len(files) != 1 {
		t.Fatalf("want one fail file, got %v", files)
	}
	abs, _ := filepath.Abs(files[0])
	return abs
}

func TestReplayPrintsTheFailingSequence(t *testing.T) {
	file := writeFailFile(t, "TestLockstepOrdering", model.Mutation{SecondSend: true})
	var out, errb bytes.Buffer
	code := run([]string{"replay", file, "-format", "jsonl"}, &out, &errb)
	if code != 0 {
		t.Fatalf("replay: exit %d, stderr %q", code, errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	sends := 0
	for _, l := range lines {
		e, err := trace.Parse([]byte(l))
		if err != nil {
			t.Fatalf("replay printed a line that is not jsonl: %q: %v", l, err)
		}
		if e.Kind == model.EventSend {
			sends++
		}
	}
	// The mutant's strict REQ stays writable with its request outstanding,
	// which the properties' poll check (F1, F3) catches right after the
	// first send: the shrunk sequence shows that send.
	if sends < 1 {
		t.Fatalf("replayed trace has %d sends, want the send of the failure:\n%s", sends, out.String())
	}
}

func TestReplayRejectsBadFailFiles(t *testing.T) {
	file := writeFailFile(t, "TestLockstepOrdering", model.Mutation{SecondSend: true})
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, content string) string {
		p := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cases := []struct {
		name, file, want string
	}{
		{"missing", filepath.Join(t.TempDir(), "nope.fail"), "no such file"},
		{"not rapid", write("x.fail", "hello\n"), "not a rapid fail file"},
		{"other rapid format", write("y.fail", strings.Replace(string(data), "v0.4.8#", "v0.9.9#", 1)), `rapid format "v0.9.9"`},
		{"not lockstep", write("z.fail", "# hello\nv0.4.8#1\n0x1\n"), "not written by a lockstep property"},
		{"other version", write("v.fail", strings.Replace(string(data), fmt.Sprintf("version %d", properties.Version), "version 999", -1)), "version 999"},
		{"unknown property", write("u.fail", strings.Replace(string(data), "lockstep property TestLockstepOrdering", "lockstep property TestNoSuch", -1)), "TestNoSuch"},
		{"unknown mutation", write("m.fail", strings.Replace(string(data), `"SecondSend"`, `"Nonsense"`, -1)), "mutation"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run([]string{"replay", c.file}, &out, &errb)
			if code != 2 {
				t.Fatalf("exit %d, want 2; stderr %q", code, errb.String())
			}
			if !strings.Contains(errb.String(), c.want) || strings.Count(errb.String(), "\n") != 1 {
				t.Fatalf("stderr %q, want one line containing %q", errb.String(), c.want)
			}
			if out.Len() != 0 {
				t.Fatalf("stdout %q, want nothing", out.String())
			}
		})
	}
}

func TestReplaySaysWhenTheFailureIsGone(t *testing.T) {
	file := writeFailFile(t, "TestLockstepOrdering", model.Mutation{SecondSend: true})
	data, _ := os.ReadFile(file)
	// Without the mutation the same sequence passes on the real model.
	var kept []string
	for _, l := range strings.Split(string(data), "\n") {
		if !strings.Contains(l, "lockstep mutation") {
			kept = append(kept, l)
		}
	}
	fixed := filepath.Join(filepath.Dir(file), "TestLockstepOrdering-fixed.fail")
	if err := os.WriteFile(fixed, []byte(strings.Join(kept, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := run([]string{"replay", fixed}, &out, &errb); code != 1 {
		t.Fatalf("exit %d, want 1; stderr %q", code, errb.String())
	}
	if !strings.Contains(errb.String(), "no longer fails") {
		t.Fatalf("stderr %q, want it to say the failure is gone", errb.String())
	}
}

// TestReplayOfTheDifferentialIsDeterministic: a fail file of the
// differential property (zmq4 on simnet) replays with exit 0, and two
// replays print the same trace and the same zmq4 and network logs, byte
// for byte.
func TestReplayOfTheDifferentialIsDeterministic(t *testing.T) {
	file := writeFailFile(t, "TestModelAgreesWithZMQ4", model.Mutation{ReorderRequests: true})
	var first string
	for i := range 3 {
		var out, errb bytes.Buffer
		if code := run([]string{"replay", file}, &out, &errb); code != 0 {
			t.Fatalf("replay %d: exit %d, stderr %q", i, code, errb.String())
		}
		got := out.String() + errb.String()
		if !strings.Contains(got, "simnet trace:") {
			t.Fatalf("replay %d shows no simnet trace:\n%s", i, got)
		}
		if i == 0 {
			first = got
		} else if got != first {
			t.Fatalf("replay %d differs from the first:\n%s\n---\n%s", i, first, got)
		}
	}
}
