package main

// These tests call run in-process: they build no binary and start no
// process beyond the test itself.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/zeromq-lockstep/lockstep/trace"
)

// call runs the CLI with args and fails the test if it panics.
func call(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	func() {
		defer func() {
			if p := recover(); p != nil {
				t.Fatalf("run %q panicked: %v", args, p)
			}
		}()
		code = run(args, &out, &errb)
	}()
	return code, out.String(), errb.String()
}

func lines(s string) []string {
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

func TestRunSeedText(t *testing.T) {
	code, out, errs := call(t, "run", "seed", "-for", "2s")
	if code != 0 || errs != "" {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	ls := lines(out)
	if len(ls) < 20 {
		t.Fatalf("only %d lines:\n%s", len(ls), out)
	}
	for _, l := range ls {
		f := strings.Fields(l)
		if len(f) < 3 || !strings.HasSuffix(f[0], "s") {
			t.Fatalf("line %q is not 'TIME ACTOR EVENT ...'", l)
		}
	}
	if !strings.Contains(out, `receive    msg={"response":"0"}`) {
		t.Errorf("no receive of response 0 in:\n%s", out)
	}
	// Flags may come before the scenario too, and the output is the same.
	_, out2, _ := call(t, "run", "-for", "2s", "seed")
	if out2 != out {
		t.Error("run -for 2s seed differs from run seed -for 2s")
	}
}

func TestRunSeedNode(t *testing.T) {
	code, out, errs := call(t, "run", "seed", "-for", "3s", "-format", "node")
	if code != 0 || errs != "" {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	if !strings.HasPrefix(out, "0 message queued\n") {
		t.Errorf("output starts %q, want \"0 message queued\"", out[:min(len(out), 40)])
	}
	for _, want := range []string{"{ response: '0' }", "{ response: '2' }\n{ response: '3' }\n{ response: '4' }\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	for _, l := range lines(out) {
		if !strings.HasSuffix(l, " message queued") && !strings.HasPrefix(l, "{ response: '") {
			t.Errorf("unexpected node line %q", l)
		}
	}
}

func TestRunSeedJSONL(t *testing.T) {
	code, out, errs := call(t, "run", "seed", "-for", "3s", "-format", "jsonl", "-restart-at", "1.1s")
	if code != 0 || errs != "" {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	sc := bufio.NewScanner(strings.NewReader(out))
	n := 0
	events := map[string]bool{}
	prev := int64(-1)
	for sc.Scan() {
		n++
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %d %q: %v", n, sc.Text(), err)
		}
		tus, ok := m["t_us"].(float64)
		if !ok || tus != float64(int64(tus)) || tus < 0 {
			t.Fatalf("line %d: t_us %v is not a non-negative integer", n, m["t_us"])
		}
		if int64(tus) < prev {
			t.Fatalf("line %d: time goes back from %d to %v", n, prev, tus)
		}
		prev = int64(tus)
		if !strings.Contains(sc.Text(), `"t_us":`+strings.TrimSpace(jsonInt(int64(tus)))) {
			t.Fatalf("line %d: t_us not written as an integer: %s", n, sc.Text())
		}
		actor, _ := m["actor"].(string)
		event, _ := m["event"].(string)
		if actor == "" || event == "" {
			t.Fatalf("line %d lacks actor or event: %s", n, sc.Text())
		}
		events[event] = true
		if _, err := trace.Parse(sc.Bytes()); err != nil {
			t.Fatalf("line %d does not parse back: %v", n, err)
		}
	}
	for _, e := range []string{"enqueue", "send", "receive", "crash", "drop", "restart"} {
		if !events[e] {
			t.Errorf("no %s event", e)
		}
	}
}

func jsonInt(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func TestRunOtherScenarios(t *testing.T) {
	for _, args := range [][]string{
		{"run", "no-reply", "-for", "1s"},
		{"run", "two-servers", "-for", "1s", "-restart-at", "500ms", "-server", "server-b"},
		{"run", "two-clients", "-for", "1s", "-format", "node"},
		{"run", "seed", "-for", "1s", "-restart-at", "150ms", "-down", "100ms", "-seed", "7"},
	} {
		code, out, errs := call(t, args...)
		if code != 0 || errs != "" || out == "" {
			t.Errorf("%q: exit %d, stderr %q, %d bytes out", args, code, errs, len(out))
		}
	}
}

func TestScenarios(t *testing.T) {
	code, out, errs := call(t, "scenarios")
	if code != 0 || errs != "" {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	ls := lines(out)
	want := []string{"seed", "no-reply", "two-servers", "two-clients"}
	if len(ls) != len(want) {
		t.Fatalf("%d lines, want %d:\n%s", len(ls), len(want), out)
	}
	for i, l := range ls {
		if f := strings.Fields(l); len(f) < 2 || f[0] != want[i] {
			t.Errorf("line %d is %q, want %s first and a summary", i, l, want[i])
		}
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"help"}, {"run", "-h"}} {
		code, out, errs := call(t, args...)
		if code != 0 || errs != "" || !strings.Contains(out, "usage:") {
			t.Errorf("%q: exit %d, stderr %q, stdout %q", args, code, errs, out)
		}
	}
}

func TestBadInput(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string // the problem the message must name
	}{
		{[]string{"run", "nope"}, `unknown scenario "nope"`},
		{[]string{"run", "seed", "-bogus"}, "-bogus"},
		{[]string{"run", "seed", "-format", "xml"}, `unknown format "xml"`},
		{[]string{"run", "seed", "-for", "-1s"}, "negative duration"},
		{[]string{"run", "seed", "-for", "abc"}, "not a duration"},
		{[]string{"run", "seed", "-restart-at", "-1s"}, "negative duration"},
		{[]string{"run", "seed", "-restart-at", "soon"}, "not a duration"},
		{[]string{"run", "seed", "-for", "0"}, "-for"},
		{[]string{"run", "seed", "-for"}, "-for"},
		{[]string{"run"}, "no scenario"},
		{[]string{"run", "-for", "1s"}, "no scenario"},
		{[]string{"run", "seed", "seed"}, "one scenario"},
		{[]string{"run", "seed", "-down", "2s"}, "-down needs -restart-at"},
		{[]string{"run", "seed", "-restart-at", "1s", "-down", "0"}, "-down"},
		{[]string{"run", "seed", "-server", "server"}, "-server needs -restart-at"},
		{[]string{"run", "seed", "-restart-at", "1s", "-server", "nope"}, `no server "nope"`},
		{[]string{"run", "seed", "-seed", "-1"}, "-seed"},
		{[]string{"frob"}, `unknown command "frob"`},
		{[]string{}, "no command"},
		{[]string{"scenarios", "extra"}, "no arguments"},
	} {
		code, out, errs := call(t, tc.args...)
		if code != 2 {
			t.Errorf("%q: exit %d, want 2", tc.args, code)
		}
		if out != "" {
			t.Errorf("%q: stdout %q, want nothing", tc.args, out)
		}
		if strings.Count(errs, "\n") != 1 || !strings.HasSuffix(errs, "\n") {
			t.Errorf("%q: stderr %q, want a single line", tc.args, errs)
		}
		if !strings.HasPrefix(errs, "lockstep: ") || !strings.Contains(errs, tc.want) {
			t.Errorf("%q: stderr %q, want it to name %q", tc.args, errs, tc.want)
		}
	}
}

func TestDeterministicOutput(t *testing.T) {
	for _, f := range trace.Formats {
		args := []string{"run", "seed", "-for", "3s", "-restart-at", "1.1s", "-format", f, "-seed", "5"}
		_, a, _ := call(t, args...)
		_, b, _ := call(t, args...)
		if a != b || a == "" {
			t.Errorf("format %s: two runs differ", f)
		}
	}
}
