package model_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/zeromq-lockstep/lockstep/model"
)

// driver is a synchronous, test-only driver of a model.World. It collects the
// effects of w.Ready and, on settle, performs dials (DialDone, reachable
// unless the endpoint is listed in unreachable) and arrivals until nothing is
// left but timers. Timers are kept pending until a test fires them, so that a
// test can look at their durations (F23) and decide when reconnects happen.
type driver struct {
	t           *testing.T
	w           *model.World
	unreachable map[string]bool
	reps        []string // the REPs of zmq4Walk, in dial order

	inflight []model.Transmit   // transmitted, not yet arrived
	dials    []model.Dial       // dialled, not yet completed
	timers   []model.StartTimer // started, not yet fired

	transmits []model.Transmit    // every Transmit ever seen
	dialed    []model.Dial        // every Dial ever seen
	started   []model.StartTimer  // every StartTimer ever seen
	obs       []model.Observation // every Observation ever seen
}

func newDriver(t *testing.T, ch model.Chooser) *driver {
	t.Helper()
	return &driver{t: t, w: model.NewWorld(model.LibZMQ, ch), unreachable: map[string]bool{}}
}

// collect moves the world's new effects into the driver without performing
// any of them.
func (d *driver) collect() {
	for _, e := range d.w.Ready() {
		switch e := e.(type) {
		case model.Transmit:
			d.inflight = append(d.inflight, e)
			d.transmits = append(d.transmits, e)
		case model.Dial:
			d.dials = append(d.dials, e)
			d.dialed = append(d.dialed, e)
		case model.StartTimer:
			d.timers = append(d.timers, e)
			d.started = append(d.started, e)
		case model.Observation:
			d.obs = append(d.obs, e)
		default:
			d.t.Fatalf("unknown effect %T", e)
		}
	}
}

// settle completes every dial and delivers every message in flight, in the
// order they were produced, until only timers remain.
func (d *driver) settle() {
	d.t.Helper()
	for i := 0; ; i++ {
		if i > 1_000_000 {
			d.t.Fatal("driver: world does not settle")
		}
		d.collect()
		switch {
		case len(d.dials) > 0:
			x := d.dials[0]
			d.dials = d.dials[1:]
			d.w.DialDone(x.Attempt, !d.unreachable[x.Endpoint])
		case len(d.inflight) > 0:
			x := d.inflight[0]
			d.inflight = d.inflight[1:]
			d.w.Arrive(x.Conn, x.Dir)
		default:
			return
		}
	}
}

// fireAll fires every timer pending now (not those they start) and settles.
func (d *driver) fireAll() {
	d.t.Helper()
	d.collect()
	ts := d.timers
	d.timers = nil
	for _, x := range ts {
		d.w.TimerFired(x.Timer)
	}
	d.settle()
}

func (d *driver) ok(err error) {
	d.t.Helper()
	if err != nil {
		d.t.Fatal(err)
	}
}

func (d *driver) newREQ(name string, o model.Options) { d.t.Helper(); d.ok(d.w.NewREQ(name, o)) }
func (d *driver) newREP(name string, o model.Options) { d.t.Helper(); d.ok(d.w.NewREP(name, o)) }
func (d *driver) newDEALER(name string, o model.Options) {
	d.t.Helper()
	d.ok(d.w.NewDEALER(name, o))
}
func (d *driver) bind(name, ep string)    { d.t.Helper(); d.ok(d.w.Bind(name, ep)); d.settle() }
func (d *driver) connect(name, ep string) { d.t.Helper(); d.ok(d.w.Connect(name, ep)); d.settle() }

// send sends a message that must be accepted and settles.
func (d *driver) send(name string, frames ...string) {
	d.t.Helper()
	if err := d.w.Send(name, msg(frames...)); err != nil {
		d.t.Fatalf("Send(%s, %q): %v", name, frames, err)
	}
	d.settle()
}

// recv receives a message that must be there and settles.
func (d *driver) recv(name string) model.Message {
	d.t.Helper()
	m, err := d.w.Recv(name)
	if err != nil {
		d.t.Fatalf("Recv(%s): %v", name, err)
	}
	d.settle()
	return m
}

// serve lets REP rep read one request and answer "re:" + its text; it
// returns the request's text.
// drain reads everything a socket can read now, as text.
func (d *driver) drain(name string) []string {
	var got []string
	for {
		m, err := d.w.Recv(name)
		if err != nil {
			return got
		}
		got = append(got, m.Text())
	}
}

func (d *driver) serve(rep string) string {
	d.t.Helper()
	body := d.recv(rep).Text()
	d.send(rep, "re:"+body)
	return body
}

// serveAll serves until rep has nothing to read.
func (d *driver) serveAll(rep string) []string {
	d.t.Helper()
	var out []string
	for {
		m, err := d.w.Recv(rep)
		if errors.Is(err, model.ErrAgain) {
			return out
		}
		d.ok(err)
		out = append(out, m.Text())
		d.send(rep, "re:"+m.Text())
	}
}

// whoServes finds the one REP among reps that has a request, serves it and
// returns that REP's name and the request text.
func (d *driver) whoServes(reps ...string) (string, string) {
	d.t.Helper()
	who, what := "", ""
	for _, r := range reps {
		m, err := d.w.Recv(r)
		if errors.Is(err, model.ErrAgain) {
			continue
		}
		d.ok(err)
		if who != "" {
			d.t.Fatalf("both %s and %s have a request", who, r)
		}
		who, what = r, m.Text()
		d.ok(d.w.Send(r, msg("re:"+what)))
	}
	if who == "" {
		d.t.Fatalf("none of %v has a request", reps)
	}
	d.settle()
	return who, what
}

func (d *driver) state(name string) model.SocketState {
	d.t.Helper()
	st, err := d.w.State(name)
	d.ok(err)
	return st
}

// drops returns the drop observations seen so far.
func (d *driver) drops() []model.Observation {
	d.collect()
	var out []model.Observation
	for _, o := range d.obs {
		if o.Kind == model.EventDrop {
			out = append(out, o)
		}
	}
	return out
}

// wantDrop fails unless a drop of msg with exactly reason was observed.
func (d *driver) wantDrop(msg, reason string) {
	d.t.Helper()
	for _, o := range d.drops() {
		if o.Msg == msg && o.Reason == reason {
			return
		}
	}
	d.t.Fatalf("no drop of %q with reason %q; drops: %+v", msg, reason, d.drops())
}

// timersOf returns the durations of every timer owner started, in order.
func (d *driver) timersOf(owner string) []model.StartTimer {
	d.collect()
	var out []model.StartTimer
	for _, x := range d.started {
		if x.Owner == owner {
			out = append(out, x)
		}
	}
	return out
}

// transmitsFrom returns the messages owner's engines put on the wire.
func (d *driver) transmitsFrom(owner string) []model.Message {
	d.collect()
	var out []model.Message
	for _, x := range d.transmits {
		if x.From == owner {
			out = append(out, x.Msg)
		}
	}
	return out
}

func msg(frames ...string) model.Message { return model.Message(frames) }

func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: got error %v, want %v", what, err, target)
	}
}

func wantMsg(t *testing.T, what string, got, want model.Message) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("%s: got %q, want %q", what, got, want)
	}
}

// choice is one question a scripted chooser was asked.
type choice struct {
	c model.Choice
	n int
}

// scripted is a Chooser that answers from per-choice functions (0 when none)
// and records every question.
type scripted struct {
	pick  map[model.Choice]func(n int) int
	calls []choice
}

func (s *scripted) Choose(c model.Choice, n int) int {
	s.calls = append(s.calls, choice{c, n})
	if f := s.pick[c]; f != nil {
		return f(n)
	}
	return 0
}

// asked returns the n of every question of kind c.
func (s *scripted) asked(c model.Choice) []int {
	var out []int
	for _, x := range s.calls {
		if x.c == c {
			out = append(out, x.n)
		}
	}
	return out
}
