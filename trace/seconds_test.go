package trace

import (
	"math/rand/v2"
	"strconv"
	"testing"
	"time"
)

// TestAppendSecondsAsFloat checks the integer formatting of a line's time
// against strconv's formatting of the float, around halfway points and at
// the ends of its range.
func TestAppendSecondsAsFloat(t *testing.T) {
	check := func(d time.Duration) {
		t.Helper()
		want := strconv.AppendFloat(nil, d.Seconds(), 'f', 6, 64)
		if got := appendSeconds(nil, d); string(got) != string(want) {
			t.Fatalf("appendSeconds(%d) = %s, want %s", int64(d), got, want)
		}
	}
	for _, base := range []time.Duration{0, time.Microsecond, time.Second, 1400 * time.Millisecond, time.Hour, 72 * time.Hour, 1e6*time.Second - time.Microsecond, 1e6 * time.Second, 1000 * time.Hour} {
		for off := time.Duration(-1500); off <= 1500; off++ {
			check(base + off)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 1_000_000 {
		check(time.Duration(r.Int64N(int64(2e6 * time.Second))))
	}
}
