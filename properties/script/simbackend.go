package script

import (
	"container/heap"
	"fmt"
	"strings"
	"time"

	"github.com/zeromq-lockstep/lockstep/model"
	"github.com/zeromq-lockstep/lockstep/trace"
)

// Timing of the sim backend: every message takes Latency, a dial one round
// trip; there is no jitter, so a script's output never changes.
const (
	Latency = time.Millisecond
	// maxEvents bounds the events one script may run, so that no script
	// (or fuzz input) can run for long.
	maxEvents = 100_000
)


func init() {
	Register("sim", func() (Backend, error) { return NewSim(), nil })
}

// Sim is the "sim" backend: package model's World driven on virtual time by
// a deterministic discrete-event loop.
type Sim struct {
	w       *model.World
	now     time.Duration
	seq     uint64
	agenda  agenda
	cut     map[[2]string]bool
	events  []trace.Event
	specs   map[string]*sockSpec
	queues  map[string]*model.AppQueue
	qorder  []string
	answers map[model.Choice][]int
	jitter  int // the last reconnect jitter drawn, -1 when none
	steps   int
}

type sockSpec struct {
	kind     model.SocketType
	opts     model.Options
	binds    []string
	connects []string
}

// NewSim returns an empty sim backend at virtual time zero.
func NewSim() *Sim {
	b := &Sim{
		cut:     map[[2]string]bool{},
		specs:   map[string]*sockSpec{},
		queues:  map[string]*model.AppQueue{},
		answers: map[model.Choice][]int{},
		jitter:  -1,
	}
	b.w = model.NewWorld(model.LibZMQ, model.ChooserFunc(b.choose))
	return b
}

// World is the model the backend drives.
func (b *Sim) World() *model.World { return b.w }

type evKind uint8

const (
	evArrive evKind = iota
	evDial
	evTimer
)

type item struct {
	at   time.Duration
	seq  uint64
	kind evKind
	conn model.ConnID
	dir  model.Dir
	att  model.AttemptID
	from string
	ep   string
	tm   model.TimerID
}

type agenda []item

func (a agenda) Len() int { return len(a) }
func (a agenda) Less(i, j int) bool {
	if a[i].at != a[j].at {
		return a[i].at < a[j].at
	}
	return a[i].seq < a[j].seq
}
func (a agenda) Swap(i, j int) { a[i], a[j] = a[j], a[i] }
func (a *agenda) Push(x any)   { *a = append(*a, x.(item)) }
func (a *agenda) Pop() any {
	old := *a
	x := old[len(old)-1]
	*a = old[:len(old)-1]
	return x
}

func (b *Sim) schedule(it item) {
	b.seq++
	it.seq = b.seq
	heap.Push(&b.agenda, it)
}

func (b *Sim) record(e trace.Event) {
	e.At = b.now
	b.events = append(b.events, e)
}

func link(a, c string) [2]string {
	if a > c {
		a, c = c, a
	}
	return [2]string{a, c}
}

// collect turns the world's effects into scheduled events and trace lines.
func (b *Sim) collect() {
	for _, e := range b.w.Ready() {
		switch e := e.(type) {
		case model.Transmit:
			b.schedule(item{at: b.now + Latency, kind: evArrive, conn: e.Conn, dir: e.Dir})
		case model.Dial:
			b.schedule(item{at: b.now + 2*Latency, kind: evDial, att: e.Attempt, from: e.From, ep: e.Endpoint})
		case model.StartTimer:
			b.schedule(item{at: b.now + e.After, kind: evTimer, tm: e.Timer})
			why := "reconnect in " + e.After.String()
			if b.jitter >= 0 {
				why += fmt.Sprintf(", jitter %dms", b.jitter)
				b.jitter = -1
			}
			b.record(trace.Event{Actor: e.Owner, Kind: model.EventTimer, Reason: why})
		case model.Observation:
			ev := trace.FromObservation(b.now, e)
			if q := b.queues[e.Actor]; q != nil && e.Kind == model.EventSend {
				ev.Queue, ev.HasQueue = q.Len(), true
			}
			b.record(ev)
		}
	}
}

// settle collects effects and lets application queues hand their heads to
// their sockets (F24), as the Node binding does after every event.
func (b *Sim) settle() {
	b.collect()
	for _, name := range b.qorder {
		q := b.queues[name]
		for {
			if _, ok := q.FlushOne(b.w, name); !ok {
				break
			}
			b.collect()
		}
	}
}

// choose answers the model's open choices from the script, 0 by default.
func (b *Sim) choose(c model.Choice, n int) int {
	b.collect() // keep the trace in order
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
	case model.ChoiceForgetReplyPipe:
		why = "forget the reply pipe"
		if k == 1 {
			why = "keep waiting on the dead pipe"
		}
	case model.ChoiceRequestID:
		why = fmt.Sprintf("first request id %d", uint32(k)+1)
	}
	if !scripted {
		why += ", by default"
	}
	b.record(trace.Event{Kind: model.EventChoice, Msg: fmt.Sprintf("%s=%d", c, k), HasMsg: true, Reason: why})
	return k
}

// Answer implements ChoiceScripter.
func (b *Sim) Answer(c model.Choice, answers ...int) {
	b.answers[c] = append(b.answers[c], answers...)
}

func (b *Sim) step() {
	it := heap.Pop(&b.agenda).(item)
	b.now = it.at
	switch it.kind {
	case evArrive:
		b.w.Arrive(it.conn, it.dir)
	case evDial:
		to, _ := b.w.Endpoint(it.ep)
		b.w.DialDone(it.att, !b.cut[link(it.from, to)])
	case evTimer:
		b.w.TimerFired(it.tm)
	}
	b.settle()
}

// Advance implements Backend.
func (b *Sim) Advance(d time.Duration) error {
	end := b.now + d
	for len(b.agenda) > 0 && b.agenda[0].at <= end {
		b.steps++
		if b.steps > maxEvents {
			return fmt.Errorf("%w: sim: more than %d events in one script", ErrBackend, maxEvents)
		}
		b.step()
	}
	b.now = end
	return nil
}

// Now implements Backend.
func (b *Sim) Now() time.Duration { return b.now }

// Events implements Backend.
func (b *Sim) Events() []trace.Event {
	b.settle()
	e := b.events
	b.events = nil
	return e
}

// Observes implements Observer: the model sees everything.
func (b *Sim) Observes() bool { return true }

// Shutdown implements Backend.
func (b *Sim) Shutdown() error { return nil }

func (b *Sim) done(err error) error { b.settle(); return err }

// Open implements Backend.
func (b *Sim) Open(name string, kind model.SocketType, o model.Options) error {
	var err error
	switch kind {
	case model.REQ:
		err = b.w.NewREQ(name, o)
	case model.REP:
		err = b.w.NewREP(name, o)
	default:
		err = b.w.NewDEALER(name, o)
	}
	if err == nil {
		b.specs[name] = &sockSpec{kind: kind, opts: o}
	}
	return b.done(err)
}

// Bind implements Backend.
func (b *Sim) Bind(name, ep string) error {
	err := b.w.Bind(name, ep)
	if err == nil {
		b.specs[name].binds = append(b.specs[name].binds, ep)
	}
	return b.done(err)
}

// Connect implements Backend.
func (b *Sim) Connect(name, ep string) error {
	err := b.w.Connect(name, ep)
	if err == nil {
		b.specs[name].connects = append(b.specs[name].connects, ep)
	}
	return b.done(err)
}

// Disconnect implements Backend.
func (b *Sim) Disconnect(name, ep string) error {
	err := b.w.Disconnect(name, ep)
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

func (b *Sim) kind(name string) (model.SocketType, error) {
	st, err := b.w.State(name)
	return st.Type, err
}

// Send implements Backend.
func (b *Sim) Send(name string, m model.Message) error {
	kind, err := b.kind(name)
	if err != nil {
		return b.done(err)
	}
	from := b.w.RequestFrom(name)
	err = b.w.Send(name, m)
	b.collect()
	switch {
	case err != nil:
		b.record(trace.Event{Actor: name, Kind: model.EventError, Reason: "send: " + errName(err)})
	case kind == model.REP:
		b.record(trace.Event{Actor: name, Kind: model.EventReply, Msg: m.Text(), HasMsg: true, Peer: from})
	case kind == model.DEALER:
		b.record(trace.Event{Actor: name, Kind: model.EventSend, Msg: m.Text(), HasMsg: true})
	}
	return b.done(err)
}

// Recv implements Backend.
func (b *Sim) Recv(name string) (model.Message, error) {
	kind, err := b.kind(name)
	if err != nil {
		return nil, b.done(err)
	}
	m, err := b.w.Recv(name)
	b.collect()
	switch {
	case err != nil:
		b.record(trace.Event{Actor: name, Kind: model.EventError, Reason: "recv: " + errName(err)})
	case kind == model.REP:
		b.record(trace.Event{Actor: name, Kind: model.EventDeliver, Msg: m.Text(), HasMsg: true, Peer: b.w.RequestFrom(name)})
	default:
		b.record(trace.Event{Actor: name, Kind: model.EventReceive, Msg: m.Text(), HasMsg: true})
	}
	return m, b.done(err)
}

// Poll implements Backend.
func (b *Sim) Poll(name string) (bool, bool, error) {
	if _, err := b.kind(name); err != nil {
		return false, false, err
	}
	return b.w.Readable(name), b.w.Writable(name), nil
}

// Crash implements Backend.
func (b *Sim) Crash(name string) error {
	if _, err := b.kind(name); err != nil {
		return err
	}
	b.record(trace.Event{Actor: name, Kind: model.EventCrash})
	return b.done(b.w.Crash(name))
}

// Close implements Backend.
func (b *Sim) Close(name string) error { return b.done(b.w.Close(name)) }

// Restart implements Backend.
func (b *Sim) Restart(name string) error {
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
	b.record(trace.Event{Actor: name, Kind: model.EventRestart, Peer: strings.Join(append(append([]string(nil), binds...), connects...), " ")})
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

// Cut implements Backend.
func (b *Sim) Cut(a, c string) error {
	b.cut[link(a, c)] = true
	b.record(trace.Event{Actor: a, Kind: model.EventCut, Peer: c})
	b.w.Cut(a, c)
	return b.done(nil)
}

// Heal implements Backend.
func (b *Sim) Heal(a, c string) error {
	delete(b.cut, link(a, c))
	b.record(trace.Event{Actor: a, Kind: model.EventHeal, Peer: c})
	return nil
}

// State implements Stater.
func (b *Sim) State(name string) (model.SocketState, error) { return b.w.State(name) }

// Enqueue implements Queuer with model.AppQueue.
func (b *Sim) Enqueue(name string, m model.Message) (int, error) {
	q := b.queues[name]
	if q == nil {
		q = &model.AppQueue{}
		b.queues[name] = q
		b.qorder = append(b.qorder, name)
	}
	q.Enqueue(m)
	_, sent := q.FlushOne(b.w, name)
	// As the Node client prints it: the queue's length after the first
	// hand-over, before the send's trace line.
	b.record(trace.Event{Actor: name, Kind: model.EventEnqueue, Msg: m.Text(), HasMsg: true, Queue: q.Len(), HasQueue: true})
	if sent {
		b.collect()
	}
	b.settle()
	return q.Len(), nil
}

// Queue implements Queuer.
func (b *Sim) Queue(name string) ([]model.Message, error) {
	if q := b.queues[name]; q != nil {
		return q.Items(), nil
	}
	return nil, nil
}
