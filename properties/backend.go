package properties

import (
	"errors"
	"strings"
	"time"

	"github.com/zeromq-lockstep/lockstep/backend"
	"github.com/zeromq-lockstep/lockstep/model"
	"github.com/zeromq-lockstep/lockstep/sim"
	"github.com/zeromq-lockstep/lockstep/trace"

	"pgregory.net/rapid"
)

// backendAgenda puts the sim backend's time under SimulatorAgenda: a REQ
// and a REP on sim.NewBackend, driven by drawn calls, where Advance(d)
// runs every event due within d and leaves the clock at its end, Wait
// stops at the first event that leaves a named socket readable or at its
// deadline with nothing due before it, Restart opens a crashed socket
// again with its binds and connects, a reconnect timer's line shows the
// jitter drawn for it and only then (F23), and a run that goes on for
// more than the backend's bound of events fails instead of running on.
func backendAgenda(t *rapid.T) {
	// s1 binds two endpoints and c1 connects to both, so that a restart
	// must make each again; c3, retrying every millisecond, draws no
	// jitter, whatever c1 draws.
	eps := []string{"tcp://s1:5454", "tcp://s1:5455"}
	b := sim.NewBackend()
	ivl := rapid.SampledFrom([]time.Duration{0, time.Millisecond, 20 * time.Millisecond}).Draw(t, "reconnect ivl")
	must := func(what string, err error) {
		if err != nil {
			t.Fatalf("backend: %s: %v", what, err)
		}
	}
	must("open s1", b.Open("s1", model.REP, model.Options{}))
	must("open c1", b.Open("c1", model.REQ, model.Options{ReconnectIvl: ivl}))
	must("open c3", b.Open("c3", model.REQ, model.Options{ReconnectIvl: time.Millisecond}))
	for _, ep := range eps {
		must("bind s1", b.Bind("s1", ep))
		must("connect c1", b.Connect("c1", ep))
	}
	must("connect c3", b.Connect("c3", eps[0]))
	var events []trace.Event
	up := map[string]bool{"s1": true, "c1": true}
	sent := 0
	nothingDueBy := func(at time.Duration, inclusive bool) {
		if next, ok := b.Sim().Next(); ok && (next < at || inclusive && next == at) {
			t.Fatalf("backend: an event due at %v was left unrun at %v", next, b.Now())
		}
	}
	t.Repeat(map[string]func(*rapid.T){
		"send": func(t *rapid.T) {
			if up["c1"] {
				_ = b.Send("c1", model.Message{RequestBody("c1", sent)})
				sent++
			}
		},
		"serve": func(t *rapid.T) {
			if !up["s1"] {
				return
			}
			if req, err := b.Recv("s1"); err == nil {
				_ = b.Send("s1", model.Message{"re " + req.Text()})
			}
		},
		"recv": func(t *rapid.T) {
			if up["c1"] {
				_, _ = b.Recv("c1")
			}
		},
		"advance": func(t *rapid.T) {
			start := b.Now()
			d := time.Duration(rapid.IntRange(0, 300).Draw(t, "ms")) * time.Millisecond
			must("advance", b.Advance(d))
			if b.Now() != start+d {
				t.Fatalf("backend: Advance(%v) from %v left the clock at %v", d, start, b.Now())
			}
			nothingDueBy(b.Now(), true)
		},
		"wait": func(t *rapid.T) {
			until := b.Now() + time.Duration(rapid.IntRange(0, 300).Draw(t, "ms"))*time.Millisecond
			next, due := b.Sim().Next()
			if rapid.Bool().Draw(t, "until the next event") && due {
				until = next // which Wait must leave, due as it is at its deadline
			}
			name, err := b.Wait(until, "c1", "s1")
			must("wait", err)
			if name == "" {
				if b.Now() != until {
					t.Fatalf("backend: Wait(%v) returned nothing at %v", until, b.Now())
				}
				nothingDueBy(until, false)
				if now, ok := b.Sim().Next(); due && until == next && (!ok || now != next) {
					t.Fatalf("backend: Wait(%v) ran the event due at its deadline", until)
				}
				return
			}
			if r, _, _ := b.Poll(name); !r || b.Now() > until {
				t.Fatalf("backend: Wait(%v) returned %s at %v, readable %v", until, name, b.Now(), r)
			}
		},
		"crash": func(t *rapid.T) {
			name := rapid.SampledFrom([]string{"c1", "s1"}).Draw(t, "who")
			if up[name] {
				must("crash", b.Crash(name))
				up[name] = false
			}
		},
		"restart": func(t *rapid.T) {
			name := rapid.SampledFrom([]string{"c1", "s1"}).Draw(t, "who")
			if up[name] {
				return
			}
			must("restart", b.Restart(name))
			up[name] = true
			for i, ep := range eps {
				if got, _ := b.World().Endpoint(ep); name == "s1" && got != "s1" {
					t.Fatalf("backend: s1 restarted without binding %s again", ep)
				}
				if st, err := b.State(name); name == "c1" && (err != nil || len(st.Pipes) != len(eps) || st.Pipes[i].Peer != ep) {
					t.Fatalf("backend: c1 restarted without connecting to %v again: %+v %v", eps, st, err)
				}
			}
		},
		"": func(t *rapid.T) { events = append(events, b.Events()...) },
	})
	events = append(events, b.Events()...)
	for _, e := range events {
		if e.Kind != model.EventTimer {
			continue
		}
		// With RECONNECT_IVL of 1ms, rand() % 1 draws nothing to show.
		want := e.Actor == "c1" && ivl != time.Millisecond
		if jittered := strings.Contains(e.Reason, "jitter"); jittered != want {
			t.Fatalf("backend: %s's timer line reads %q, with RECONNECT_IVL %v (F23)", e.Actor, e.Reason, ivl)
		}
	}
	if rapid.IntRange(0, 49).Draw(t, "run away") == 0 {
		// A connect() to an endpoint nobody binds, retrying every
		// millisecond, never stops by itself.
		b.StreamEvents(func(trace.Event) {}) // its trace would only cost memory
		must("open c2", b.Open("c2", model.REQ, model.Options{ReconnectIvl: time.Millisecond}))
		must("connect c2", b.Connect("c2", "tcp://nowhere:1"))
		if err := b.Advance(time.Hour); !errors.Is(err, backend.ErrBackend) {
			t.Fatalf("backend: an hour of retries every millisecond ran to its end (%v), past the bound on events", err)
		}
	}
}

// backendEventBound: a sim backend runs at most the events its bound
// allows, every event it runs counted, those due at the end of an Advance
// too, and the call that would run one more fails with backend.ErrBackend
// (the bound that keeps a script or a fuzz input from running for long).
func backendEventBound(t *rapid.T) {
	b := sim.NewBackend()
	limit := rapid.IntRange(1, 20).Draw(t, "event bound")
	b.LimitEvents(limit)
	ran := 0
	jobs := rapid.IntRange(0, 30).Draw(t, "bounded jobs")
	for range jobs {
		// Whole milliseconds, as the advances below, so that jobs fall
		// at an advance's end.
		b.Sim().At(time.Duration(rapid.IntRange(0, 8).Draw(t, "bounded job at"))*time.Millisecond, func() { ran++ })
	}
	var err error
	for b.Now() < 10*time.Millisecond && err == nil {
		err = b.Advance(time.Duration(rapid.IntRange(1, 3).Draw(t, "bounded advance")) * time.Millisecond)
	}
	switch {
	case err != nil && !errors.Is(err, backend.ErrBackend):
		t.Fatalf("backend: an Advance past the event bound failed with %v, want backend.ErrBackend", err)
	case err != nil && ran != limit:
		t.Fatalf("backend: %d of %d jobs ran before the bound of %d events stopped the run, want %d", ran, jobs, limit, limit)
	case err == nil && ran != jobs:
		t.Fatalf("backend: %d of %d jobs ran, all due, under a bound of %d events", ran, jobs, limit)
	case err == nil && jobs > limit:
		t.Fatalf("backend: %d events ran under a bound of %d", jobs, limit)
	}
}
