package main

import (
	"bytes"
	"fmt"
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

// crashTimesConnecting is how long the clients' connects take at most in
// the built-in scenarios on simnet: a TCP round trip, then the ZMTP
// handshake, the second client's after the first's (SerialHandshakes).
const crashTimesConnecting = 8 * simnet.DefaultLatency

// crashTimes are the crash times TestCompareAtEveryCrashTime tries for
// sc (whichever server crashes: the model's trace without a crash is the
// same): every half latency while the clients connect (0s, inside the TCP
// connect, inside each handshake), and every instant at which the
// model's trace (compare's configuration, no crash) has an event, with
// half a latency before and after each, inside the flight of whatever
// arrives or was sent then.
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
	var times []time.Duration
	for at := time.Duration(0); at <= crashTimesConnecting; at += simnet.DefaultLatency / 2 {
		times = append(times, at)
	}
	for _, e := range events {
		for _, at := range []time.Duration{e.At - simnet.DefaultLatency/2, e.At, e.At + simnet.DefaultLatency/2} {
			if at >= 0 && at < crashTimesFor {
				times = append(times, at)
			}
		}
	}
	slices.Sort(times)
	return slices.Compact(times)
}

// TestCompareAtEveryCrashTime runs `lockstep compare` (zmq4 on simnet) for
// every built-in scenario with each of its servers crashed at every time
// of crashTimes: the model under the zmq4 profile, on simnet's timing, and
// zmq4 must agree (issue 10, item 3). A crash at 0s finds zmq4's client
// blocked in its Dial, retrying (ConnectBlocks); one inside a handshake
// fails that Dial for good (ConnectBlocks), the second client's included,
// since a listener handshakes one connection at a time (SerialHandshakes).
// With server-b of two-servers dead, a send whose turn is server-b panics
// in zmq4 (SendPanicsPastLastConnection). simnet is deterministic per
// schedule, so each crash time gives one answer. The whole set takes
// about a second; -short tries every fifth.
func TestCompareAtEveryCrashTime(t *testing.T) {
	for _, sc := range app.Scenarios() {
		times := crashTimes(t, sc)
		for _, srv := range sc.Servers {
			t.Run(sc.Name+"/"+srv.Name, func(t *testing.T) {
				var differ []string
				tried := 0
				for i, at := range times {
					if testing.Short() && i%5 != 0 {
						continue
					}
					tried++
					args := []string{"compare", sc.Name, "-for", crashTimesFor.String(), "-restart-at", at.String(), "-server", srv.Name}
					var out, errb bytes.Buffer
					switch code := run(args, &out, &errb); code {
					case 0:
					case 1:
						differ = append(differ, fmt.Sprintf("lockstep %s\n%s", strings.Join(args, " "), out.String()))
					default:
						t.Fatalf("compare: lockstep %s: exit %d: %s", strings.Join(args, " "), code, errb.String())
					}
				}
				t.Logf("%d crash times, %d differ", tried, len(differ))
				if len(differ) > 0 {
					t.Errorf("compare: model and zmq4 differ at %d of %d crash times:\n%s", len(differ), tried, strings.Join(differ, "\n"))
				}
			})
		}
	}
}

// TestCompareWhileZMQ4Dials: a server down from 0s for longer than
// zmq4's Dial retries (2.5s) makes every client's connect() fail for
// good; one back before the last retry is reached by it
// (Profile.ConnectBlocks). Model and zmq4 must agree on both.
func TestCompareWhileZMQ4Dials(t *testing.T) {
	for _, sc := range app.Scenarios() {
		for _, down := range []string{"2.4s", "2.6s"} {
			args := []string{"compare", sc.Name, "-for", "4s", "-restart-at", "0s", "-down", down}
			var out, errb bytes.Buffer
			if code := run(args, &out, &errb); code != 0 {
				t.Errorf("compare: lockstep %s: exit %d:\n%s%s", strings.Join(args, " "), code, out.String(), errb.String())
			}
		}
	}
}
