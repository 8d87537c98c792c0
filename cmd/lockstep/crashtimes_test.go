package main

import (
	"bytes"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zeromq-lockstep/lockstep/app"
	"github.com/zeromq-lockstep/lockstep/backend"
	"github.com/zeromq-lockstep/lockstep/sim"
	"github.com/zeromq-lockstep/lockstep/simnet"
	"github.com/zeromq-lockstep/lockstep/trace"
)

// crashTimesFor is how long each run of TestCompareAtEveryCrashTime lasts:
// long enough for a restart (app.DefaultDown) and the traffic after it.
const crashTimesFor = 3 * time.Second

// crashTimes are the crash times TestCompareAtEveryCrashTime tries for
// sc: 0s, every instant at which the model's trace (profile zmq4, no
// crash) has an event, and half a link latency after each, inside the
// flight of whatever was sent then.
func crashTimes(t *testing.T, sc app.Scenario) []time.Duration {
	var events []trace.Event
	r, err := backend.LookupRunner("zmq4")
	if err != nil {
		t.Fatal(err)
	}
	cfg := compareModelConfig(&runFlags{seed: 1, length: durationFlag{d: crashTimesFor}}, backendFlags{backend: "zmq4"}, r)
	cfg.Sink = func(e trace.Event) { events = append(events, e) }
	if _, err := sim.Run(sc, cfg); err != nil {
		t.Fatal(err)
	}
	times := []time.Duration{0}
	for _, e := range events {
		for _, at := range []time.Duration{e.At, e.At + simnet.DefaultLatency/2} {
			if at < crashTimesFor {
				times = append(times, at)
			}
		}
	}
	slices.Sort(times)
	return slices.Compact(times)
}

// TestCompareAtEveryCrashTime runs `lockstep compare` (zmq4 on simnet) for
// every built-in scenario with its first server crashed at every time of
// crashTimes: the model under the zmq4 profile and zmq4 must agree.
//
// Open (issue 10 item 3): it does not hold yet. Of 458 crash times 100
// differ and two hang (two-servers, 301.11777ms and 301.16777ms: the
// compare never returns, so the test would take the suite down with it).
// The main cause is timing, not zmq4: the simulator's links have a seeded
// jitter (the model's events fall at 100.105424ms, not 100.1ms) and its
// connect takes one round trip where zmq4's takes two (the ZMTP greeting),
// so a crash between the two sides' instants of an event finds them in
// different states. Then a crash at 0s: the model's REQ retries its
// refused connect in the background while the application sends (and
// fails, F11), where zmq4's Dial blocks the application (F23). It runs
// only when LOCKSTEP_CRASH_TIMES is set.
func TestCompareAtEveryCrashTime(t *testing.T) {
	if os.Getenv("LOCKSTEP_CRASH_TIMES") == "" {
		t.Skip("open: the model and zmq4 on simnet differ at some crash times (see the comment); set LOCKSTEP_CRASH_TIMES=1 to run")
	}
	for _, sc := range app.Scenarios() {
		t.Run(sc.Name, func(t *testing.T) {
			times := crashTimes(t, sc)
			var differ []string
			for _, at := range times {
				var out, errb bytes.Buffer
				code := run([]string{"compare", sc.Name, "-for", crashTimesFor.String(), "-restart-at", at.String()}, &out, &errb)
				switch code {
				case 0:
				case 1:
					differ = append(differ, at.String()+":\n"+out.String())
				default:
					t.Fatalf("compare -restart-at %v: exit %d: %s", at, code, errb.String())
				}
			}
			t.Logf("%d crash times, %d differ", len(times), len(differ))
			if len(differ) > 0 {
				t.Errorf("model and zmq4 differ at %d of %d crash times:\n%s", len(differ), len(times), strings.Join(differ, "\n"))
			}
		})
	}
}
