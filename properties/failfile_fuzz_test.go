//go:build teeth

package properties

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zeromq-lockstep/lockstep/model"

	"pgregory.net/rapid"
)

// mutantFailFile has rapid find and save a failure of TestLockstepOrdering
// on a model that lets a REQ send twice, and returns the file's bytes.
func mutantFailFile(tb testing.TB, dir string) []byte {
	return mutantFailFileOf(tb, dir, "TestLockstepOrdering", model.Mutation{SecondSend: true})
}

// mutantFailFileOf has rapid find and save a failure of test on the given
// mutant and returns the file's bytes.
func mutantFailFileOf(tb testing.TB, dir, test string, mut model.Mutation) []byte {
	tb.Helper()
	wd, _ := os.Getwd()
	if err := os.Chdir(dir); err != nil {
		tb.Fatal(err)
	}
	defer os.Chdir(wd)
	old := flag.Lookup("rapid.shrinktime").Value.String()
	_ = flag.Set("rapid.shrinktime", "2s")
	defer flag.Set("rapid.shrinktime", old)
	p, _ := Lookup(test)
	rtb := NewRecordingTB(p.Test)
	rtb.Run(func() { rapid.Check(rtb, p.Check(mut)) })
	files, _ := filepath.Glob(filepath.Join(dir, "testdata", "rapid", p.Test, "*.fail"))
	if !rtb.Failed() || len(files) != 1 {
		tb.Fatalf("the mutant left no fail file (failed %v, files %v)", rtb.Failed(), files)
	}
	data, err := os.ReadFile(files[0])
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// FuzzFailFile feeds damaged fail files to Replay: it must never panic,
// must refuse what it cannot replay with ErrBadFailFile and a one-line
// message without raw control characters, and must not call a file that
// fails to parse anything but bad.
func FuzzFailFile(f *testing.F) {
	data := mutantFailFile(f, f.TempDir())
	f.Add(data)
	f.Add(data[:len(data)-3])
	f.Add([]byte(strings.Replace(string(data), "lockstep mutation", "lockstep mutatiom", 1)))
	f.Add([]byte("# x\nv0.4.8#1\n0x1"))
	f.Fuzz(func(t *testing.T, in []byte) {
		_, perr := ParseFailFile(in)
		file := filepath.Join(t.TempDir(), "TestLockstepOrdering-fuzz.fail")
		if err := os.WriteFile(file, in, 0o600); err != nil {
			t.Fatal(err)
		}
		r, err := Replay(file)
		if perr != nil && err == nil {
			t.Fatalf("ParseFailFile refused it (%v) but Replay accepted it", perr)
		}
		if err != nil {
			if !errors.Is(err, ErrBadFailFile) {
				t.Fatalf("error %v is not ErrBadFailFile", err)
			}
			for _, c := range err.Error() {
				if c < 0x20 || c == 0x7f {
					t.Fatalf("message %q has a raw control character", err)
				}
			}
			return
		}
		if r.Test == "" || len(r.Trace) == 0 && len(r.Ops) > 0 {
			t.Fatalf("a replay without its test or trace: %+v", r)
		}
	})
}

// The fail file the mutant writes replays as a failure; every cut of it
// that removes a value, and a damaged mutation line, is refused.
func TestFailFileValidity(t *testing.T) {
	data := mutantFailFile(t, t.TempDir())
	replay := func(content []byte) (*Replayed, error) {
		file := filepath.Join(t.TempDir(), "TestLockstepOrdering-x.fail")
		if err := os.WriteFile(file, content, 0o600); err != nil {
			t.Fatal(err)
		}
		return Replay(file)
	}
	r, err := replay(data)
	if err != nil || !r.Failed {
		t.Fatalf("the intact file: %v, %+v", err, r)
	}
	lines := strings.Split(string(data), "\n")
	for cut := 1; cut < len(lines) && !strings.HasPrefix(lines[len(lines)-cut], "v0.4.8#"); cut++ {
		short := strings.Join(lines[:len(lines)-cut], "\n")
		if _, err := replay([]byte(short)); !errors.Is(err, ErrBadFailFile) {
			t.Fatalf("cut by %d values: %v, want ErrBadFailFile", cut, err)
		}
	}
	extra := string(data) + "\n0x0"
	if _, err := replay([]byte(extra)); !errors.Is(err, ErrBadFailFile) {
		t.Fatalf("a value appended: %v, want ErrBadFailFile", err)
	}
	for _, bad := range []string{"lockstep mutatiom", "lockstep  mutation", "Lockstep mutation"} {
		if _, err := replay([]byte(strings.Replace(string(data), "lockstep mutation", bad, 1))); !errors.Is(err, ErrBadFailFile) {
			t.Fatalf("mutation line damaged to %q: %v, want ErrBadFailFile", bad, err)
		}
	}
}

// A failure found at the end of a run (after Repeat's last, unlogged
// "stop" draw) is cut by one value without losing a recorded draw: the
// stop probe of Replay is what refuses it.
func TestFailFileCutAfterItsLastDraw(t *testing.T) {
	for _, c := range []struct {
		test string
		mut  model.Mutation
	}{
		{"TestLossOnRestart", model.Mutation{KeepHeldOnCrash: true}},
		{"TestDeterminism", model.Mutation{SharedChoices: true}},
		{"TestIndefiniteQueue", model.Mutation{QueueDropsAbove: 3}},
	} {
		data := mutantFailFileOf(t, t.TempDir(), c.test, c.mut)
		lines := strings.Split(string(data), "\n")
		for cut := 1; cut <= 3; cut++ {
			file := filepath.Join(t.TempDir(), c.test+"-cut.fail")
			if err := os.WriteFile(file, []byte(strings.Join(lines[:len(lines)-cut], "\n")), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := Replay(file); !errors.Is(err, ErrBadFailFile) {
				t.Errorf("%s cut by %d values: %v, want ErrBadFailFile", c.test, cut, err)
			}
		}
	}
}
