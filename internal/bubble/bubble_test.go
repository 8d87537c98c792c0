package bubble_test

import (
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/zeromq-lockstep/lockstep/internal/bubble"
)

func TestRunGivesVirtualTime(t *testing.T) {
	var slept time.Duration
	runs := 0
	ok, err := bubble.Run("virtual", func(t *testing.T) {
		runs++
		start := time.Now()
		time.Sleep(time.Hour)
		slept = time.Since(start)
	})
	if err != nil || !ok || slept != time.Hour || runs != 1 {
		t.Fatalf("Run: ok=%v err=%v slept=%v runs=%d; want a passing bubble that slept exactly 1h once", ok, err, slept, runs)
	}
}

func TestRunReportsAFailedBubble(t *testing.T) {
	ok, err := bubble.Run("failing", func(t *testing.T) { t.Fail() })
	if err != nil || ok {
		t.Fatalf("Run of a failing bubble: ok=%v err=%v, want false, nil", ok, err)
	}
}

// TestRunOutsideGoTest builds a plain program that runs bubbles and runs
// it: the MainStart path of setup, which go test never takes.
func TestRunOutsideGoTest(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	bin := filepath.Join(t.TempDir(), "outside")
	if out, err := exec.Command("go", "build", "-o", bin, "./testdata/outside").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin).CombinedOutput()
	want := "bubble 0 slept 1h0m0s\nbubble 1 slept 1h0m0s\nbubble 2 slept 1h0m0s\n"
	if err != nil || string(out) != want {
		t.Fatalf("outside: %v, output:\n%s\nwant:\n%s", err, out, want)
	}
}
