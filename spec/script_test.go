package spec

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"

	"github.com/zeromq-lockstep/lockstep/model"
)

// scriptFiles lists the scripts in testdata (not the fuzz corpus).
func scriptFiles(t testing.TB) []string {
	files, err := filepath.Glob("testdata/*.txt")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no scripts in testdata")
	}
	return files
}

// TestScripts runs every script on the sim backend through
// datadriven.RunTest, the reader Parse uses too, so that
// `go test ./spec -rewrite` regenerates their output.
func TestScripts(t *testing.T) {
	for _, path := range scriptFiles(t) {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txt"), func(t *testing.T) {
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			s, err := Parse(path, src)
			if err != nil {
				t.Fatal(err)
			}
			if !s.Header.Supports("sim") {
				t.Skip("not a sim script")
			}
			r, err := NewRunner(path, "sim")
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			p := newParser(path)
			datadriven.RunTest(t, path, func(t *testing.T, td *datadriven.TestData) string {
				c, err := p.command(td)
				if err != nil {
					t.Fatal(err)
				}
				out, err := r.Exec(c)
				if err != nil {
					t.Fatal(err)
				}
				return out
			})
		})
	}
}

// TestRunFile checks RunFile, the entry point of a CLI, against the same
// scripts: every command passes.
func TestRunFile(t *testing.T) {
	for _, path := range scriptFiles(t) {
		res, err := RunFile(path, "sim")
		if err != nil {
			t.Fatal(err)
		}
		if res.Skipped || len(res.Commands) == 0 {
			t.Fatalf("%s: skipped or empty", path)
		}
		for _, f := range res.Failures() {
			t.Errorf("%s:%d: %s: got\n%swant\n%s", path, f.Line, f.Command, f.Actual, f.Expected)
		}
	}
}

// TestHeaders: every script states its fact, cites a source and names its
// backends, and every fact F1..F24 has at least one script.
func TestHeaders(t *testing.T) {
	facts, err := Facts()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range facts {
		if len(f.Scripts) == 0 {
			t.Errorf("%s (%s) has no script", f.Fact.ID, f.Fact.Title)
		}
		for _, s := range f.Scripts {
			h := s.Header
			if h.Source == "" || len(h.Statement) < 40 || len(h.Backends) == 0 || !h.Supports("sim") {
				t.Errorf("%s: header incomplete: %+v", s.Path, h)
			}
		}
	}
	all, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != len(scriptFiles(t)) {
		t.Fatalf("%d builtin scripts, %d in testdata", len(all), len(scriptFiles(t)))
	}
	for _, s := range all {
		if len(s.Header.Facts) == 0 {
			t.Errorf("%s: no # fact: line", s.Path)
		}
		base := filepath.Base(s.Path)
		want := "f" + strings.TrimPrefix(string(s.Header.Facts[0]), "F")
		if len(want) == 2 {
			want = "f0" + want[1:]
		}
		if !strings.HasPrefix(base, want+"_") {
			t.Errorf("%s: file name does not start with %s_", s.Path, want)
		}
	}
}

// TestParseErrors: bad scripts get an error that names the file and line.
func TestParseErrors(t *testing.T) {
	cases := []struct {
		src  string
		line int
		want string
	}{
		{"frobnicate x\n----\nok\n", 1, `unknown command "frobnicate"`},
		{"new-req c\n----\nok\n\nsend d x\n----\nok\n", 5, `unknown socket "d"`},
		{"new-req c\n----\nok\n\nadvance soon\n----\nok\n", 5, `bad duration "soon"`},
		{"advance -1s\n", 1, "out of range"},
		{"advance 2h\n", 1, "out of range"},
		{"new-req c sndhwm=0\n", 1, "bad sndhwm"},
		{"new-req c sndhwm=(1, 2)\n", 1, "bad sndhwm"},
		{"new-req c reconnect-ivl=1ns\n", 1, "whole milliseconds"},
		{"new-rep s correlate\n", 1, "REQ sockets only"},
		{"new-req c bogus\n", 1, `unknown option "bogus"`},
		{"new-req c\n----\nok\n\nsend c\n", 5, "at least one frame"},
		{"new-req c\n----\nok\n\nsend c \"unterminated\n", 5, "malformed quoted frame"},
		{"new-req c\n----\nok\n\nsend c \"a\"b\n", 5, "malformed quoted frame"},
		{"new-req c\n----\nok\n\nsend c \"a b\"\n", 5, `write a space as \x20`},
		{"\"c\" x\n", 1, "not a quoted frame"},
		{"new-req c\nsend c x\n----\n", 1, "unexpected"},
		{"choose fair-queue=x\n", 1, "bad answer"},
		{"choose coin=1\n", 1, "unknown choice"},
		{"# fact: F99\nnew-req c\n", 1, "unknown fact"},
		{"trace now\n", 1, "takes no arguments"},
		{"new-req c\n----\nok\n\nreset\n----\nok\n\nsend c x\n", 9, "unknown socket"},
		// What datadriven's reader itself refuses, at the line where it
		// gives up.
		{"new-req c\n----\nok\n\nsend c =x\n----\nok\n", 5, "cannot parse directive"},
		{"new-req c\n----\nok\n\nnew-rep s sndhwm=(1\n", 5, "cannot parse directive"},
		{"new-req c\n----\n----\nok\n----\n----\nrecv c\n", 7, "non-blank line after end of double ---- separator"},
		{"new-req c\n" + strings.Repeat("x", 1<<16) + "\n", 2, "line longer than"},
	}
	for _, tc := range cases {
		_, err := Parse("bad.txt", []byte(tc.src))
		var se *Error
		if !errors.As(err, &se) {
			t.Errorf("%q: got %v, want a script error", tc.src, err)
			continue
		}
		prefix := "bad.txt:" + strconv.Itoa(tc.line) + ": "
		if !strings.HasPrefix(err.Error(), prefix) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %q, want %q...%q", tc.src, err, prefix, tc.want)
		}
	}
}

// TestHeaderParse reads a header's machine lines and statement.
func TestHeaderParse(t *testing.T) {
	s, err := Parse("h.txt", []byte("# fact: F1 F2\n# source: RFC 28\n# backends: sim zmq4\n#\n# First\n# paragraph.\n#\n# Second.\n\nnew-req c\n----\nok\n"))
	if err != nil {
		t.Fatal(err)
	}
	h := s.Header
	if !slices.Equal(h.Facts, []model.FactID{"F1", "F2"}) || h.Source != "RFC 28" || !h.Supports("zmq4") ||
		h.Statement != "First paragraph.\n\nSecond." {
		t.Fatalf("header %+v", h)
	}
	if len(s.Commands) != 1 || s.Commands[0].Expected != "ok\n" || s.Commands[0].Line != 10 {
		t.Fatalf("commands %+v", s.Commands)
	}
	s, err = Parse("h.txt", []byte("new-req c\n"))
	if err != nil || !s.Header.Supports("sim") || s.Header.Supports("zmq4") {
		t.Fatalf("default backends: %+v %v", s, err)
	}
}

// TestSkipAndCompare: a script not meant for a backend is skipped; event
// lines are ignored for a backend that does not observe.
func TestSkipAndCompare(t *testing.T) {
	s, err := Parse("x.txt", []byte("# backends: zmq4\nnew-req c\n----\nok\n"))
	if err != nil {
		t.Fatal(err)
	}
	if res, err := Run(s, "sim"); err != nil || !res.Skipped {
		t.Fatalf("got %+v %v, want skipped", res, err)
	}
	var w, g RequestIDs
	if !same("1ms c drop \"x\"\nerror: EFSM\n", "error: EFSM\n", false, &w, &g) || same("1ms c drop \"x\"\n", "error: EFSM\n", false, &w, &g) {
		t.Fatal("comparison without events")
	}
	if !IsEventLine(`1.5s c send "x"`) || IsEventLine("readable=true writable=false") || IsEventLine("ok") {
		t.Fatal("IsEventLine")
	}
	_ = model.Facts
}

func TestRequestIDsAreRelative(t *testing.T) {
	var model, real RequestIDs
	for _, c := range []struct{ want, got string }{
		{`["\x01\x00\x00\x00" "" "r1"]`, `["\xe4\xa9\xe2y" "" "r1"]`},
		{`["\x03\x00\x00\x00" "" "r3"]`, `["\xe6\xa9\xe2y" "" "r3"]`},
	} {
		if a, b := model.Relative(c.want), real.Relative(c.got); a != b {
			t.Fatalf("%s and %s: %s != %s", c.want, c.got, a, b)
		}
	}
	// One apart on one side and two on the other is a difference.
	if model.Relative(`["\x04\x00\x00\x00" "" "r4"]`) == real.Relative(`["\xe8\xa9\xe2y" "" "r4"]`) {
		t.Fatal("ids two apart compared equal to ids one apart")
	}
	var other RequestIDs
	if got := other.Relative(`["abc" "" "x"]`); got != `["abc" "" "x"]` {
		t.Fatalf("a 3-byte frame was rewritten: %s", got)
	}
}

func TestAnswerNeedsAnEnvelope(t *testing.T) {
	s, err := Parse("x.txt", []byte("# backends: sim\nnew-dealer d\n----\nok\n\nanswer d x\n----\nok\n"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(s, "sim")
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Commands[1].Actual; !strings.Contains(got, "d has received nothing") {
		t.Fatalf("answer before any receive printed %q", got)
	}
}
