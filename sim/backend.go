package sim

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/zeromq-lockstep/lockstep/backend"
	"github.com/zeromq-lockstep/lockstep/model"
	"github.com/zeromq-lockstep/lockstep/trace"
)

// ScriptNetwork is the network of [NewBackend]: every message takes 1 ms
// and a dial one round trip, with no jitter, so a script's output never
// changes.
var ScriptNetwork = Network{Latency: time.Millisecond}

// maxEvents bounds the events one Backend may run, so that no script (or
// fuzz input) can run for long.
const maxEvents = 100_000

func init() {
	backend.Register("sim", func() (backend.Backend, error) { return NewBackend(), nil })
	backend.RegisterRunner("sim", backend.Runner{
		Profile: model.LibZMQ,
		Where:   func(o backend.RunOptions) string { return fmt.Sprintf("the model, seed %d, virtual time", o.Seed) },
		Run: func(o backend.RunOptions, f func(backend.Backend) error) error {
			b, err := NewScenarioBackend(Config{Seed: o.Seed})
			if err != nil {
				return err
			}
			return f(b)
		},
	})
}

// Backend is the simulator behind the [backend.Backend] interface: the
// model under its default (libzmq) profile on virtual time, registered
// as "sim". Open choices take option 0 unless answered ([Backend.Answer]),
// and each is traced, so a script shows and decides every one.
//
//	b := sim.NewBackend()
//	b.Open("client", model.REQ, model.Options{})
//	b.Connect("client", "tcp://server:5555")
//	b.Advance(10 * time.Millisecond)
type Backend struct {
	sim     *Sim
	specs   map[string]*socketSpec
	queues  map[string]*model.AppQueue
	qorder  []string          // queues in the order they were made: flushed in that order
	qs      []*model.AppQueue // qorder's queues, so that flush looks up no name
	answers map[model.Choice][]int
	// peerAnswers resolve choices between pipes by peer (AnswerPeer).
	peerAnswers map[model.Choice][]string
	jitter      int // the last reconnect jitter drawn, -1 when none
	steps       int
	maxEvents   int           // bound on steps; 0 for none
	events      []trace.Event // since the last Events call
}

// socketSpec is what Restart needs to open a socket again.
type socketSpec struct {
	kind     model.SocketType
	opts     model.Options
	binds    []string
	connects []string
}

// NewBackend returns an empty sim backend at virtual time zero, for
// scripts: on ScriptNetwork, every open choice traced and answered from
// the script ([Backend.Answer]), every reconnect timer traced, and at
// most 100,000 events.
func NewBackend() *Backend {
	b := newBackend(New(0, model.LibZMQ, ScriptNetwork))
	b.maxEvents = maxEvents
	b.sim.SetChooser(backendChooser{b})
	b.sim.timerNote = b.jitterNote
	return b
}

// LimitEvents bounds the events b runs in all, counting those it has run,
// at n (none for 0): the call that would run one more fails with
// [backend.ErrBackend] instead. NewBackend's bound is 100,000, a scenario
// backend has none.
func (b *Backend) LimitEvents(n int) { b.maxEvents = n }

// NewScenarioBackend returns an empty sim backend for a scenario run
// ([Run], app.Run): the simulator of cfg (seed, profile, network,
// mutation), whose open choices come from its seeded PRNG as [Sim.choose]
// documents, untraced, with no bound on events. cfg's For, Faults and
// Sink are the run's, not the backend's.
func NewScenarioBackend(cfg Config) (*Backend, error) {
	cfg = cfg.withDefaults()
	b := newBackend(New(cfg.Seed, cfg.Profile, cfg.Network))
	if err := b.sim.World().Mutate(cfg.Mutation); err != nil {
		return nil, err
	}
	if cfg.NoTrace {
		b.sim.DisableTrace()
	}
	return b, nil
}

func newBackend(s *Sim) *Backend {
	b := &Backend{
		sim:         s,
		specs:       map[string]*socketSpec{},
		queues:      map[string]*model.AppQueue{},
		answers:     map[model.Choice][]int{},
		peerAnswers: map[model.Choice][]string{},
		jitter:      -1,
	}
	b.sim.StreamTrace(func(e trace.Event) { b.events = append(b.events, e) })
	b.sim.observe = b.annotate
	b.sim.OnSettle(b.flush)
	return b
}

// Sim is the simulator the backend drives.
func (b *Backend) Sim() *Sim { return b.sim }

// World is the model the backend drives.
func (b *Backend) World() *model.World { return b.sim.World() }

// annotate gives the application queue's length for a send through it
// (F24).
func (b *Backend) annotate(o model.Observation) (queue int, ok bool) {
	if o.Kind != model.EventSend { // most observations: no look-up
		return 0, false
	}
	if q := b.queues[o.Actor]; q != nil {
		return q.Len(), true
	}
	return 0, false
}

// jitterNote shows, on a reconnect timer's line, the jitter drawn for it.
func (b *Backend) jitterNote() string {
	if b.jitter < 0 {
		return ""
	}
	n := fmt.Sprintf(", jitter %dms", b.jitter)
	b.jitter = -1
	return n
}

// choose answers the model's open choices from the script, 0 by default.
func (b *Backend) choose(c model.Choice, n int) int {
	b.sim.Settle() // keep the trace in order
	k, scripted := 0, false
	if q := b.answers[c]; len(q) > 0 {
		k, scripted = q[0], true
		b.answers[c] = q[1:]
		if k < 0 {
			k = n - 1
		}
		k %= n
	}
	var why string
	switch c {
	case model.ChoiceReconnectJitter:
		b.jitter = k // shown with the timer it sets
		return k
	case model.ChoiceFairQueue:
		why = fmt.Sprintf("of %d ready pipes in rotation order", n)
	case model.ChoiceDrainRefill:
		why = "the drain ends before the engine refills the pipe"
		if k == 1 {
			why = "the engine refills the pipe before the drain ends"
		}
	case model.ChoiceRequestID:
		why = fmt.Sprintf("first request id %d", uint32(k)+1)
	}
	if !scripted {
		why += ", by default"
	}
	b.sim.Record(trace.Event{Kind: model.EventChoice, Msg: fmt.Sprintf("%s=%d", c, k), HasMsg: true, Reason: why})
	return k
}

// backendChooser resolves the model's choices for a Backend: scripted
// answers, by index or by peer, else 0.
type backendChooser struct{ b *Backend }

func (c backendChooser) Choose(ch model.Choice, n int) int { return c.b.choose(ch, n) }

func (c backendChooser) ChoosePeer(ch model.Choice, peers []string) int {
	if q := c.b.peerAnswers[ch]; len(q) > 0 {
		c.b.peerAnswers[ch] = q[1:]
		if k := slices.Index(peers, q[0]); k >= 0 {
			c.b.answers[ch] = append([]int{k}, c.b.answers[ch]...)
		}
	}
	return c.b.choose(ch, len(peers))
}

// AnswerPeer resolves the next choice c between pipes with the pipe whose
// peer is peer, if it is a candidate (else as if not answered): how a
// driver makes the model read where a real implementation read.
func (b *Backend) AnswerPeer(c model.Choice, peer string) {
	b.peerAnswers[c] = append(b.peerAnswers[c], peer)
}

// Answer implements [backend.ChoiceScripter]: answers are used once each,
// in order; -1 stands for the last option.
func (b *Backend) Answer(c model.Choice, answers ...int) {
	b.answers[c] = append(b.answers[c], answers...)
}

// flush lets application queues hand their heads to their sockets (F24),
// as the Node binding does after every event, tracing each send with the
// queue's length after it; nothing while a connect() of the socket runs,
// which blocks the application under Profile.ConnectBlocks.
func (b *Backend) flush() bool {
	progress := false
	for i, name := range b.qorder {
		for !b.sim.Dialing(name) {
			_, ok := b.qs[i].FlushOne(b.sim.World(), name)
			// A hand-over that failed may still have been traced (a
			// send with no connection, Profile.SendFailsWithoutPipe):
			// settle it now, at the instant it failed, not at the next
			// event's.
			b.sim.Settle()
			if !ok {
				break
			}
			progress = true
		}
	}
	return progress
}

// settle schedules the model's effects and flushes the queues.
func (b *Backend) settle() {
	b.sim.Settle()
	for b.flush() {
		b.sim.Settle()
	}
}

func (b *Backend) done(err error) error { b.settle(); return err }

// Advance implements [backend.Backend]: it runs every event due within d.
func (b *Backend) Advance(d time.Duration) error {
	end := b.sim.Now() + d
	for {
		at, ok := b.sim.Next()
		if !ok || at > end {
			break
		}
		if err := b.step(); err != nil {
			return err
		}
	}
	b.sim.RunUntil(end)
	return nil
}

func (b *Backend) step() error {
	b.steps++
	if b.maxEvents > 0 && b.steps > b.maxEvents {
		return fmt.Errorf("%w: sim: more than %d events in one run", backend.ErrBackend, b.maxEvents)
	}
	b.sim.Step()
	return nil
}

// Wait implements [backend.Backend]: it runs the events due before until,
// one at a time, and stops after the one that leaves a named socket
// readable.
func (b *Backend) Wait(until time.Duration, readable ...string) (string, error) {
	w := b.sim.World()
	for {
		for _, name := range readable {
			if w.Readable(name) {
				return name, nil
			}
		}
		at, ok := b.sim.Next()
		if !ok || at >= until {
			break
		}
		if err := b.step(); err != nil {
			return "", err
		}
	}
	if until > b.sim.now {
		b.sim.now = until
	}
	return "", nil
}

// Now implements [backend.Backend].
func (b *Backend) Now() time.Duration { return b.sim.Now() }

// Events implements [backend.Backend]. The buffer is reused: a run that
// drains it after every call allocates nothing for its trace.
func (b *Backend) Events() []trace.Event {
	// Every call settles before it returns, so nothing is pending here.
	e := b.events
	clear(b.events[len(b.events):cap(b.events)])
	b.events = b.events[:0]
	return e
}

// Observes implements [backend.Observer]: the model sees everything.
func (b *Backend) Observes() bool { return true }

// Shutdown implements [backend.Backend]; the simulator holds nothing.
func (b *Backend) Shutdown() error { return nil }

// Open implements [backend.Backend].
func (b *Backend) Open(name string, kind model.SocketType, o model.Options) error {
	w := b.sim.World()
	var err error
	switch kind {
	case model.REQ:
		err = w.NewREQ(name, o)
	case model.REP:
		err = w.NewREP(name, o)
	default:
		err = w.NewDEALER(name, o)
	}
	if err == nil {
		b.specs[name] = &socketSpec{kind: kind, opts: o}
	}
	return b.done(err)
}

// Bind implements [backend.Backend].
func (b *Backend) Bind(name, ep string) error {
	err := b.sim.World().Bind(name, ep)
	if err == nil {
		b.specs[name].binds = append(b.specs[name].binds, ep)
	}
	return b.done(err)
}

// Connect implements [backend.Backend].
func (b *Backend) Connect(name, ep string) error {
	err := b.sim.World().Connect(name, ep)
	if err == nil {
		b.specs[name].connects = append(b.specs[name].connects, ep)
	}
	return b.done(err)
}

// Disconnect implements [backend.Backend].
func (b *Backend) Disconnect(name, ep string) error {
	err := b.sim.World().Disconnect(name, ep)
	if err == nil {
		s := b.specs[name]
		for i, c := range s.connects {
			if c == ep {
				s.connects = append(s.connects[:i:i], s.connects[i+1:]...)
				break
			}
		}
	}
	return b.done(err)
}

func (b *Backend) kind(name string) (model.SocketType, error) {
	return b.sim.World().TypeOf(name)
}

// Send implements [backend.Backend]; REP replies and raw sends are traced
// here, since only the caller knows they are the application's.
func (b *Backend) Send(name string, m model.Message) error {
	kind, err := b.kind(name)
	if err != nil {
		return b.done(err)
	}
	w := b.sim.World()
	from := w.RequestFrom(name)
	b.sim.Settle()
	err = w.Send(name, m)
	// The application's line comes before what the send made the socket
	// do (a reply dropped because its client is gone, F16).
	switch {
	case err != nil:
		b.sim.Settle()
		b.sim.Record(trace.Event{Actor: name, Kind: model.EventError, Reason: "send: " + err.Error()})
	case kind == model.REP:
		b.sim.Record(trace.Event{Actor: name, Kind: model.EventReply, Msg: m.Text(), HasMsg: true, Peer: from})
	case kind == model.DEALER:
		b.sim.Record(trace.Event{Actor: name, Kind: model.EventSend, Msg: m.Text(), HasMsg: true})
	}
	return b.done(err)
}

// Recv implements [backend.Backend].
func (b *Backend) Recv(name string) (model.Message, error) {
	kind, err := b.kind(name)
	if err != nil {
		return nil, b.done(err)
	}
	w := b.sim.World()
	m, err := w.Recv(name)
	b.sim.Settle()
	switch {
	case err != nil:
		b.sim.Record(trace.Event{Actor: name, Kind: model.EventError, Reason: "recv: " + err.Error()})
	case kind == model.REP:
		b.sim.Record(trace.Event{Actor: name, Kind: model.EventDeliver, Msg: m.Text(), HasMsg: true, Peer: w.RequestFrom(name)})
	default:
		ev := trace.Event{Actor: name, Kind: model.EventReceive, Msg: m.Text(), HasMsg: true}
		if q := b.queues[name]; q != nil {
			ev.Queue, ev.HasQueue = q.Len(), true // what the client prints (F24)
		}
		b.sim.Record(ev)
	}
	return m, b.done(err)
}

// Poll implements [backend.Backend] (F3).
func (b *Backend) Poll(name string) (bool, bool, error) {
	if _, err := b.kind(name); err != nil {
		return false, false, err
	}
	// ZMQ_EVENTS takes the socket's commands and moves its rotations, as
	// a receive or a send would (model.World.Poll): the libzmq backend's
	// poll does, so the simulator's must too.
	r, w := b.sim.World().Poll(name)
	return r, w, b.done(nil)
}

// Crash implements [backend.Backend] (F19).
func (b *Backend) Crash(name string) error {
	if _, err := b.kind(name); err != nil {
		return err
	}
	b.sim.Record(trace.Event{Actor: name, Kind: model.EventCrash})
	err := b.sim.World().Crash(name)
	b.sim.closed(name)
	return b.done(err)
}

// Close implements [backend.Backend].
func (b *Backend) Close(name string) error {
	err := b.sim.World().Close(name)
	if err == nil {
		b.sim.closed(name)
	}
	return b.done(err)
}

// Restart implements [backend.Backend]: the socket is opened again with
// its type and options and binds and connects what it had.
func (b *Backend) Restart(name string) error {
	s := b.specs[name]
	if s == nil {
		return fmt.Errorf("%w: %q", model.ErrNoSocket, name)
	}
	if _, err := b.kind(name); err == nil {
		return fmt.Errorf("%w: %q is still open", model.ErrExists, name)
	}
	binds, connects := s.binds, s.connects
	if err := b.Open(name, s.kind, s.opts); err != nil {
		return err
	}
	b.sim.Record(trace.Event{Actor: name, Kind: model.EventRestart, Peer: strings.Join(append(append([]string(nil), binds...), connects...), " ")})
	for _, ep := range binds {
		if err := b.Bind(name, ep); err != nil {
			return err
		}
	}
	for _, ep := range connects {
		if err := b.Connect(name, ep); err != nil {
			return err
		}
	}
	return nil
}

// Cut implements [backend.Backend].
func (b *Backend) Cut(a, c string) error {
	b.sim.Cut(a, c)
	return b.done(nil)
}

// Heal implements [backend.Backend].
func (b *Backend) Heal(a, c string) error {
	b.sim.Heal(a, c)
	return nil
}

// StreamEvents implements [backend.Streamer].
func (b *Backend) StreamEvents(sink func(trace.Event)) { b.sim.StreamTrace(sink) }

// AddLatency implements [backend.LinkSlower].
func (b *Backend) AddLatency(a, c string, d time.Duration) error {
	b.sim.AddLatency(a, c, d)
	return nil
}

// State implements [backend.Stater].
func (b *Backend) State(name string) (model.SocketState, error) {
	return b.sim.World().State(name)
}

// Enqueue implements [backend.Queuer] with [model.AppQueue].
func (b *Backend) Enqueue(name string, m model.Message) (int, error) {
	q := b.queues[name]
	if q == nil {
		q = &model.AppQueue{}
		b.queues[name] = q
		b.qorder = append(b.qorder, name)
		b.qs = append(b.qs, q)
	}
	q.Enqueue(m)
	sent := false
	if !b.sim.Dialing(name) { // the application is blocked in connect() (Profile.ConnectBlocks)
		_, sent = q.FlushOne(b.sim.World(), name)
	}
	// As the Node client prints it: the queue's length after the first
	// hand-over, before the send's trace line.
	b.sim.Record(trace.Event{Actor: name, Kind: model.EventEnqueue, Msg: m.Text(), HasMsg: true, Queue: q.Len(), HasQueue: true})
	if sent {
		b.sim.Settle()
	}
	b.settle()
	return q.Len(), nil
}

// Queue implements [backend.Queuer].
func (b *Backend) Queue(name string) ([]model.Message, error) {
	if q := b.queues[name]; q != nil {
		return q.Items(), nil
	}
	return nil, nil
}

// QueueLen implements [backend.Queuer].
func (b *Backend) QueueLen(name string) (int, error) {
	if q := b.queues[name]; q != nil {
		return q.Len(), nil
	}
	return 0, nil
}

var (
	_ backend.Backend        = (*Backend)(nil)
	_ backend.Stater         = (*Backend)(nil)
	_ backend.ChoiceScripter = (*Backend)(nil)
	_ backend.Queuer         = (*Backend)(nil)
	_ backend.Observer       = (*Backend)(nil)
	_ backend.LinkSlower     = (*Backend)(nil)
	_ backend.Streamer       = (*Backend)(nil)
)
