package check

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// lasso is TestLivenessFindsLasso's counterexample: a crash without a
// restart leaves the client in the reconnect loop for ever.
func lasso(t *testing.T) (Config, *Counterexample) {
	t.Helper()
	cfg := Config{Clients: 1, Servers: 1, Requests: 1, Faults: Faults{Crashes: 1}, Liveness: true}
	x, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := x.Explore(); err != nil {
		t.Fatal(err)
	}
	cx, err := x.liveness()
	if err != nil || cx == nil || !cx.Lasso {
		t.Fatalf("want a lasso, got %+v, %v", cx, err)
	}
	return cfg, cx
}

// TestReplayLasso: a lasso written to a file replays as a liveness
// failure, and the same steps do not when the loop is said to start at
// the crash (a fault inside the loop) or when they stop one step before
// the loop closes.
func TestReplayLasso(t *testing.T) {
	cfg, cx := lasso(t)
	path := filepath.Join(t.TempDir(), "lasso.json")
	if err := WriteCounterexample(path, cfg, cx); err != nil {
		t.Fatal(err)
	}
	r, err := ReplayFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(r.Violation, "liveness") {
		t.Fatalf("the lasso did not reproduce: %q", r.Note)
	}
	moved := *cx
	moved.LoopAt = 0 // a loop from the start holds the crash, a fault
	if err := WriteCounterexample(path, cfg, &moved); err != nil {
		t.Fatal(err)
	}
	if r, err := ReplayFile(path); err != nil || r.Violation != "" || !strings.Contains(r.Note, "fault") {
		t.Fatalf("a loop that does not close: %+v, %v; want it not to reproduce", r, err)
	}
	shorter := *cx
	shorter.Steps = cx.Steps[:len(cx.Steps)-1]
	if err := WriteCounterexample(path, cfg, &shorter); err != nil {
		t.Fatal(err)
	}
	if r, err := ReplayFile(path); err != nil || r.Violation != "" {
		t.Fatalf("a loop cut one step short: %+v, %v; want it not to reproduce", r, err)
	}
}

// FuzzParseCounterexample: whatever the bytes, the reader returns a file
// or an error wrapping ErrBadCounterexample, never panics, and a file it
// accepts replays without an error.
func FuzzParseCounterexample(f *testing.F) {
	cfg := Config{Clients: 1, Servers: 1, Requests: 1, Faults: Faults{Crashes: 1, Restarts: 1}}
	path := filepath.Join(f.TempDir(), "c.json")
	if err := WriteCounterexample(path, cfg, &Counterexample{Rule: "loss", Steps: []string{"dial-done c1->tcp://s1:5454", "enqueue c1"}}); err != nil {
		f.Fatal(err)
	}
	good, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte(`{"lockstep": "check counterexample v2"}`))
	f.Add([]byte(`{"lockstep": "check counterexample v2", "config": {"Clients": 1e9}}`))
	f.Add([]byte("# not json\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cf, err := ParseCounterexample(data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), ErrBadCounterexample.Error()) {
				t.Fatalf("an error that does not say the file is bad: %v", err)
			}
			return
		}
		if !bytes.Equal(data, good) {
			t.Logf("accepted a file that differs from the one check wrote: %q", data)
		}
		if _, err := Replay(cf); err != nil {
			t.Fatalf("an accepted file does not replay: %v", err)
		}
	})
}
