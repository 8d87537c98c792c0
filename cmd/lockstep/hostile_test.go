package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/zeromq-lockstep/lockstep/model"
)

// runOneLine runs the command line and, for exit status 2, checks that
// stderr is exactly one line.
func runOneLine(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	if code == 2 && strings.Count(errb.String(), "\n") != 1 {
		t.Fatalf("%q: exit 2 with stderr %q, want one line", args, errb.String())
	}
	return code, errb.String()
}

// A fail file cut short, or with damage in its mutation line, is never
// reported as a fixed bug (exit 1): it replays as before (0) or is
// refused (2).
func TestReplayRefusesTruncatedAndCorruptedFiles(t *testing.T) {
	file := writeFailFile(t, "TestLockstepOrdering", model.Mutation{SecondSend: true})
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Dir(file)
	try := func(name string, content []byte) int {
		p := filepath.Join(dir, "TestLockstepOrdering-"+name+".fail")
		if err := os.WriteFile(p, content, 0o644); err != nil {
			t.Fatal(err)
		}
		defer os.Remove(p)
		code, stderr := runOneLine(t, "replay", p)
		if code == 1 {
			t.Fatalf("%s: exit 1 (%q): a damaged file must not read as a fixed bug", name, stderr)
		}
		return code
	}
	if code := try("whole", data); code != 0 {
		t.Fatalf("the intact file: exit %d, want 0", code)
	}
	values := len(data) - bytes.LastIndex(data, []byte("v0.4.8#"))
	for k := 1; k < values; k++ {
		code := try("cut", data[:len(data)-k])
		// Cutting k >= 3 bytes removes at least one whole "0x.." line
		// or leaves one unparsable: the file must be refused.
		if cut := string(data[len(data)-k:]); strings.Contains(cut, "\n") && code != 2 {
			t.Fatalf("cut by %d bytes (%q): exit %d, want 2", k, cut, code)
		}
	}
	start := bytes.Index(data, []byte("# "))
	line := bytes.Index(data, []byte("lockstep mutation"))
	lineStart := bytes.LastIndexByte(data[:line], '\n') + 1
	lineEnd := line + bytes.IndexByte(data[line:], '\n')
	if start < 0 || line < 0 {
		t.Fatal("no mutation line in the fail file")
	}
	refused := 0
	for i := lineStart; i < lineEnd; i++ {
		bad := bytes.Clone(data)
		bad[i] ^= 0x01
		if try("flip", bad) == 2 {
			refused++
		}
	}
	if refused == 0 {
		t.Fatal("no flip of the mutation line was refused")
	}
}

func TestReplayRefusesWhatIsNotARegularFile(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "f.fail")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(t.TempDir(), "big.fail")
	if err := os.WriteFile(big, bytes.Repeat([]byte("# x\n"), 1<<19), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ path, want string }{
		{fifo, "FIFO"}, {"/dev/urandom", "device"}, {"/dev/zero", "device"}, {t.TempDir(), "directory"}, {big, "limit of 1048576 bytes"},
	} {
		code, stderr := runOneLine(t, "replay", c.path)
		if code != 2 || !strings.Contains(stderr, c.want) {
			t.Errorf("replay %s: exit %d, stderr %q; want 2 and %q", c.path, code, stderr, c.want)
		}
	}
}

func TestSpecRefusesWhatIsNotARegularFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"spec", "-o", fifo}, {"spec", "-readme", fifo}, {"spec", "-readme", "/dev/zero"}, {"spec", "-o", "/dev/full"},
		{"spec", "-o", dir}, {"spec", "-o", filepath.Join(dir, "no", "such", "dir")}, {"spec", "-readme", filepath.Join(dir, "missing.md")},
	} {
		if code, stderr := runOneLine(t, args...); code != 2 {
			t.Errorf("%q: exit %d, stderr %q; want 2", args, code, stderr)
		}
	}
	out := filepath.Join(dir, "SPEC.md")
	if code, stderr := runOneLine(t, "spec", "-o", out); code != 0 {
		t.Fatalf("spec -o a new file: exit %d, %q", code, stderr)
	}
}

// errWriter fails every write, as /dev/full does.
type errWriter struct{}

func (errWriter) Write([]byte) (int, error) { return 0, syscall.ENOSPC }

func TestUnwritableOutputIsExit2(t *testing.T) {
	for _, args := range [][]string{
		{"scenarios"}, {"run", "seed"}, {"run", "seed", "-format", "msc"}, {"spec"}, {"conformance"}, {"help"},
	} {
		var errb bytes.Buffer
		if code := run(args, errWriter{}, &errb); code != 2 || strings.Count(errb.String(), "\n") != 1 {
			t.Errorf("%q to a full disk: exit %d, stderr %q; want 2 and one line", args, code, errb.String())
		}
	}
}

// Combinations that cannot mean anything, flags a command ignores, and
// what would have to be held beyond its limit are refused before any run.
func TestMeaninglessOrUnboundedRequestsAreRefused(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "seed", "-for", "2s", "-restart-at", "2s"}, "not before the end of the run"},
		{[]string{"run", "seed", "-for", "2s", "-restart-at", "1h"}, "not before the end of the run"},
		{[]string{"run", "seed", "-restart-at", "10s"}, "not before the end of the run"}, // -for defaults to 10s
		{[]string{"compare", "seed", "-restart-at", "3s", "-for", "2s"}, "not before the end of the run"},
		{[]string{"compare", "seed", "-format", "jsonl"}, "-format does not apply"},
		{[]string{"compare", "seed", "-format", "text"}, "-format does not apply"},
		{[]string{"compare", "no-reply", "-for", "100000h"}, "limit of 1h0m0s"},
		{[]string{"run", "seed", "-format", "msc", "-for", "100000h"}, "at most 10000 events"},
		{[]string{"replay", "x.fail", "-format", "msc", "-x"}, "-x"},
	} {
		code, stderr := runOneLine(t, c.args...)
		if code != 2 || !strings.Contains(stderr, c.want) {
			t.Errorf("%q: exit %d, stderr %q; want 2 and %q", c.args, code, stderr, c.want)
		}
	}
	if code, stderr := runOneLine(t, "run", "seed", "-for", "2s", "-restart-at", "1999ms"); code != 0 {
		t.Errorf("a crash just before the end: exit %d, %q", code, stderr)
	}
}

// The commands, as a process whose stdout is /dev/full: each
// exits 2 with one line, compare (on real sockets) included.
func TestDevFullAsABinary(t *testing.T) {
	full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Skipf("no /dev/full: %v", err)
	}
	defer full.Close()
	for _, args := range [][]string{{"compare", "seed", "-for", "1s"}, {"scenarios"}, {"conformance"}, {"run", "seed"}} {
		cmd := exec.Command(os.Args[0], args...)
		cmd.Env = append(os.Environ(), "LOCKSTEP_RUN_MAIN=1")
		var errb strings.Builder
		cmd.Stdout, cmd.Stderr = full, &errb
		err := cmd.Run()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 2 || strings.Count(errb.String(), "\n") != 1 {
			t.Errorf("%q > /dev/full: %v, stderr %q; want exit 2 and one line", args, err, errb.String())
		}
	}
}
