package main

import (
	"io"
	"runtime"
	"testing"
	"time"
)

// maxBytesPerQueued bounds what a streamed run may hold per message its
// application queue holds: the queue (F24) is the one thing allowed to
// grow, at its cost per message (about 60 bytes today). Anything else that
// grew with virtual time (a kept trace is about 500 bytes per queued
// message in seed) would break the bound.
const maxBytesPerQueued = 160

// A streamed `run seed` holds nothing per event: its heap grows only with
// the application queue, whatever -for is.
func TestStreamedRunMemoryIsTheQueue(t *testing.T) {
	hours := 12
	if raceEnabled || testing.Short() {
		hours = 4
	}
	type sample struct {
		heap  uint64
		queue int
	}
	var samples []sample
	streamProbe = func(now time.Duration, queues []int) {
		if now%time.Hour != 0 {
			return
		}
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		samples = append(samples, sample{ms.HeapAlloc, queues[0]})
	}
	defer func() { streamProbe = nil }()
	if code := run([]string{"run", "seed", "-for", (time.Duration(hours) * time.Hour).String()}, io.Discard, io.Discard); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if len(samples) != hours {
		t.Fatalf("%d samples, want %d", len(samples), hours)
	}
	first, last := samples[1], samples[len(samples)-1] // after an hour's warm-up
	grew := int64(last.heap) - int64(first.heap)
	queued := last.queue - first.queue
	if queued < 10000 {
		t.Fatalf("the queue grew by %d messages; the seed scenario should queue about 25,000 an hour", queued)
	}
	per := float64(grew) / float64(queued)
	t.Logf("heap grew %d bytes over %d hours while the queue grew by %d: %.0f bytes per queued message", grew, hours-2, queued, per)
	if per > maxBytesPerQueued {
		t.Fatalf("heap grew %.0f bytes per queued message, more than the queue's %d: something besides the queue grows with virtual time", per, maxBytesPerQueued)
	}
}
