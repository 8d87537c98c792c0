package lazypirate_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"

	"pgregory.net/rapid"

	"github.com/zeromq-lockstep/lockstep/examples/lazypirate"
)

// recorder is a rapid.TB that keeps what rapid reports, so a test can
// check that a property fails instead of failing itself.
type recorder struct {
	name   string
	mu     sync.Mutex
	out    strings.Builder
	failed bool
}

func (r *recorder) Helper()      {}
func (r *recorder) Name() string { return r.name }
func (r *recorder) Logf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fmt.Fprintf(&r.out, format+"\n", args...)
}
func (r *recorder) Log(args ...any)                   { r.Logf("%s", fmt.Sprint(args...)) }
func (r *recorder) Skipf(format string, args ...any)  { r.Logf(format, args...); runtime.Goexit() }
func (r *recorder) Skip(args ...any)                  { r.Log(args...); runtime.Goexit() }
func (r *recorder) SkipNow()                          { runtime.Goexit() }
func (r *recorder) Errorf(format string, args ...any) { r.Logf(format, args...); r.Fail() }
func (r *recorder) Error(args ...any)                 { r.Log(args...); r.Fail() }
func (r *recorder) Fatalf(format string, args ...any) { r.Errorf(format, args...); runtime.Goexit() }
func (r *recorder) Fatal(args ...any)                 { r.Error(args...); runtime.Goexit() }
func (r *recorder) FailNow()                          { r.Fail(); runtime.Goexit() }
func (r *recorder) Fail() {
	r.mu.Lock()
	r.failed = true
	r.mu.Unlock()
}
func (r *recorder) Failed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.failed
}

// check runs rapid.Check on a goroutine of its own, since the recorder
// ends it with runtime.Goexit, and returns the recorder.
func check(name string, prop func(*rapid.T)) *recorder {
	r := &recorder{name: name}
	done := make(chan struct{})
	go func() {
		defer close(done)
		rapid.Check(r, prop)
	}()
	<-done
	return r
}

// mustFailOnBroken checks that r is the property failing on the broken
// client: a shrunk counterexample, the violation, its trace and a replay
// command.
func mustFailOnBroken(t *testing.T, r *recorder) string {
	t.Helper()
	out := r.out.String()
	if !r.Failed() {
		t.Fatalf("the property passed on a client that never reopens its socket; it would not catch it:\n%s", out)
	}
	for _, want := range []string{
		"[rapid] failed after",
		"the client does not recover",
		"client     no response from server",
		"To reproduce, specify -run=",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the failure report lacks %q:\n%s", want, out)
		}
	}
	// Shrunk: one fault, a crash or a cut, and nothing else is needed.
	if m := regexp.MustCompile(`(?m)^\[rapid\] draw faults: (.*)$`).FindStringSubmatch(out); m == nil {
		t.Errorf("the report shows no drawn faults:\n%s", out)
	} else if k := strings.Count(m[1], " at "); k != 1 || strings.Contains(m[1], "slow") {
		t.Errorf("counterexample not shrunk to one crash or cut: %s", m[1])
	}
	return out
}

// TestBrokenClientFails runs the Lazy Pirate property from scratch on a
// client that never reopens its socket: rapid must find that after a crash
// or a cut the client never recovers, shrink it, and say how to replay it.
func TestBrokenClientFails(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir) // rapid writes its fail file under ./testdata
	r := check("TestBrokenClient", property(t, lazypirate.NewBroken))
	out := mustFailOnBroken(t, r)
	m := regexp.MustCompile(`-rapid.failfile="([^"]+)"`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no fail file in the report:\n%s", out)
	}
	data, err := os.ReadFile(filepath.Join(dir, m[1]))
	if err != nil {
		t.Fatal(err)
	}
	keep := filepath.Join(os.TempDir(), "lazypirate-broken.fail")
	if err := os.WriteFile(keep, data, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("counterexample:\n%s\nreplay: go test ./examples/lazypirate -run '^TestBrokenClient$' -rapid.failfile=%s", out, keep)
}

// brokenFailFile is a counterexample TestBrokenClientFails found, kept so
// that its replay command works in a fresh checkout.
const brokenFailFile = "testdata/broken.fail"

// TestBrokenClient replays a fail file on the broken client. Given
// -rapid.failfile (the replay command), it fails as the property does and
// prints the counterexample and its trace; without it, it replays
// testdata/broken.fail and checks that it still fails.
func TestBrokenClient(t *testing.T) {
	f := flag.Lookup("rapid.failfile")
	if f.Value.String() != "" {
		rapid.Check(t, property(t, lazypirate.NewBroken))
		return
	}
	if err := flag.Set("rapid.failfile", brokenFailFile); err != nil {
		t.Fatal(err)
	}
	defer flag.Set("rapid.failfile", "")
	r := check("TestBrokenClient", property(t, lazypirate.NewBroken))
	out := mustFailOnBroken(t, r)
	if !strings.Contains(out, brokenFailFile) {
		t.Errorf("rapid did not replay %s:\n%s", brokenFailFile, out)
	}
}
