package sim

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/zeromq-lockstep/lockstep/model"
	"github.com/zeromq-lockstep/lockstep/trace"
)

// Network is the simulated network's timing. Every message on a connection
// takes Latency plus a uniform draw from [0, Jitter); a dial takes one
// round trip, or two with Handshake.
type Network struct {
	Latency time.Duration
	Jitter  time.Duration
	// Handshake makes a dial take a second round trip after the TCP
	// connect, for ZMTP's greeting and READY commands (RFC 23): each peer
	// sends each of them at once, so each takes one latency. The
	// connection is made only if the socket the connect reached is still
	// there, its link uncut, at the end. zmq4 on simnet takes that long
	// (its Dial returns only after the handshake); false keeps the dial
	// at one round trip, as the default network has it.
	Handshake bool
}

// DefaultNetwork is a loopback-like network: 100µs plus up to 50µs.
var DefaultNetwork = Network{Latency: 100 * time.Microsecond, Jitter: 50 * time.Microsecond}

// Sim is the simulator: a model.World, virtual time, an agenda and a trace.
// It is driven from one goroutine.
type Sim struct {
	now    time.Duration
	seq    uint64
	agenda agenda
	rng    *rand.Rand
	world  *model.World
	net    Network

	cut   map[link]bool          // links that drop every attempt
	extra map[link]time.Duration // added latency per link
	// gone counts the closes of each socket, so that a connect() or an
	// accept loop of an earlier incarnation is told apart.
	gone map[string]uint64
	// handshakes are the ZMTP handshakes under way (Network.Handshake).
	handshakes []*handshaking
	// dials are each socket's connect()s under Profile.ConnectBlocks, in
	// order; the first is under way, the others wait for it.
	dials map[string][]*blockingDial
	// accepting is when each binder handshakes its next connection
	// (Profile.SerialHandshakes).
	accepting map[string]acceptState

	trace   []trace.Event
	noTrace bool
	sink    func(trace.Event) // when set, events go here and are not kept
	// observe, when set, is called for each model observation before it is
	// traced, so the scenario layer can add what only it knows: the
	// application queue's length, when ok. It returns the length rather
	// than filling in the event so that the event stays on the stack.
	observe func(o model.Observation) (queue int, ok bool)
	// effects is Settle's buffer for the world's effects.
	effects []model.Effect
	// chooser, when set, resolves the model's open choices instead of the
	// PRNG, so a property test can draw (and shrink) them itself.
	chooser model.Chooser
	// timerNote, when set, makes every reconnect timer a trace line
	// (EventTimer) and adds what it returns to the line's reason.
	timerNote func() string
	// react, when set, lets applications respond to the world after each
	// event; it reports whether it did anything, and runs until it did not.
	react func() bool
}

// link is an unordered pair of socket names.
type link struct{ a, b string }

func mkLink(a, b string) link {
	if a > b {
		a, b = b, a
	}
	return link{a, b}
}

// New returns a simulator whose PRNG is seeded with seed and whose model
// follows profile.
func New(seed uint64, profile model.Profile, net Network) *Sim {
	s := &Sim{
		rng:   rand.New(rand.NewPCG(seed, 0x6c6f636b73746570)), // "lockstep"
		net:   net,
		cut:   map[link]bool{},
		extra: map[link]time.Duration{},
		gone:  map[string]uint64{},
		dials: map[string][]*blockingDial{},

		accepting: map[string]acceptState{},
	}
	s.world = model.NewWorld(profile, simChooser{s})
	return s
}

// simChooser is the world's chooser: the PRNG, or the chooser SetChooser
// gave, told the candidates of a choice between pipes when it asks.
type simChooser struct{ s *Sim }

func (c simChooser) Choose(ch model.Choice, n int) int { return c.s.choose(ch, n) }

func (c simChooser) ChoosePeer(ch model.Choice, peers []string) int {
	if pc, ok := c.s.chooser.(model.PeerChooser); ok {
		return pc.ChoosePeer(ch, peers)
	}
	return c.s.choose(ch, len(peers))
}

// choose resolves the model's open choices from the one PRNG. The race of
// a drain with its engine's refill (F9, F18) goes libzmq's usual way 18
// times in 30, as observed. The fair queue is
// libzmq's rotation, choice 0: libzmq's fq_t has no randomness, and its
// order depends on timing only when an application answers within the
// millisecond in which libzmq throttles its commands (F14).
func (s *Sim) choose(c model.Choice, n int) int {
	if s.chooser != nil {
		return s.chooser.Choose(c, n)
	}
	if c == model.ChoiceFairQueue {
		return 0
	}
	if c == model.ChoiceDrainRefill {
		// libzmq's drain ended first in 18 of 30 trials (model.ChoiceDrainRefill).
		if s.rng.IntN(30) < 18 {
			return 0
		}
		return 1
	}
	return s.rng.IntN(n)
}

// SetChooser hands the model's open choices to c instead of the PRNG;
// latency and jitter still come from the PRNG.
func (s *Sim) SetChooser(c model.Chooser) { s.chooser = c }

// Now is the current virtual time.
func (s *Sim) Now() time.Duration { return s.now }

// World is the model the simulator drives. Callers that change it directly
// must call Settle afterwards so its effects are scheduled.
func (s *Sim) World() *model.World { return s.world }

// Rand is the simulator's one PRNG, for scenario code that needs a draw.
func (s *Sim) Rand() *rand.Rand { return s.rng }

// Trace returns the events recorded so far.
func (s *Sim) Trace() []trace.Event { return s.trace }

// DisableTrace stops recording, for benchmarks that measure the simulation
// alone.
func (s *Sim) DisableTrace() { s.noTrace = true }

// StreamTrace hands every event to sink as it happens instead of keeping
// it, so a run of any length prints in constant memory.
func (s *Sim) StreamTrace(sink func(trace.Event)) { s.sink = sink }

// Record appends an event stamped with the current virtual time.
func (s *Sim) Record(e trace.Event) {
	if s.noTrace {
		return
	}
	e.At = s.now
	if s.sink != nil {
		s.sink(e)
		return
	}
	if len(s.trace) == cap(s.trace) {
		// Double, rather than let append grow a long trace by 1.25x: an
		// hour of the seed scenario is 80k events, and the copies and
		// garbage of 1.25x growth were almost a third of its allocated bytes.
		s.trace = slices.Grow(s.trace, max(cap(s.trace), 256))
	}
	s.trace = append(s.trace, e)
}

// At schedules do at virtual time t (never in the past).
func (s *Sim) At(t time.Duration, do func()) {
	if t < s.now {
		t = s.now
	}
	s.schedule(event{at: t, do: do})
}

// schedule queues e with the next sequence number.
func (s *Sim) schedule(e event) {
	s.seq++
	e.seq = s.seq
	s.agenda.push(e)
}

// run performs one event.
func (s *Sim) run(e event) {
	switch e.kind {
	case netArrive:
		s.world.Arrive(model.ConnID(e.id), model.Dir(e.aux))
	case netTimer:
		s.world.TimerFired(model.TimerID(e.id))
	default:
		e.do()
	}
}

// After schedules do after d.
func (s *Sim) After(d time.Duration, do func()) { s.At(s.now+d, do) }

// Next is the time of the next scheduled event, if there is one.
func (s *Sim) Next() (time.Duration, bool) {
	if len(s.agenda) == 0 {
		return 0, false
	}
	return s.agenda.peek().at, true
}

// Pending is the number of scheduled events.
func (s *Sim) Pending() int { return len(s.agenda) }

// Step runs the next event, if any, and reports whether there was one.
func (s *Sim) Step() bool {
	if len(s.agenda) == 0 {
		return false
	}
	e := s.agenda.pop()
	s.now = e.at
	s.run(e)
	s.Settle()
	for s.react != nil && s.react() {
		s.Settle()
	}
	return true
}

// RunUntil runs every event scheduled at or before t, then sets the clock
// to t.
func (s *Sim) RunUntil(t time.Duration) {
	for len(s.agenda) > 0 && s.agenda.peek().at <= t {
		s.Step()
	}
	if t > s.now {
		s.now = t
	}
}

// Settle turns the model's pending effects into scheduled events and trace
// lines. Effects that cause more effects are handled in order.
func (s *Sim) Settle() {
	for {
		// The buffer is the simulator's own, reused from call to call;
		// it is taken while in use so that a nested Settle (from a trace
		// sink, say) gets a fresh one instead of overwriting it.
		effects := s.world.AppendReady(s.effects[:0])
		s.effects = nil
		if len(effects) == 0 {
			s.effects = effects
			return
		}
		for _, e := range effects {
			s.apply(e)
		}
		clear(effects)
		s.effects = effects[:0]
	}
}

func (s *Sim) apply(e model.Effect) {
	switch e := e.(type) {
	case model.Transmit:
		s.schedule(event{at: s.now + s.latency(e.From, e.To), kind: netArrive, id: int(e.Conn), aux: int(e.Dir)})
	case model.Dial:
		s.dial(e)
	case model.StartTimer:
		s.schedule(event{at: s.now + e.After, kind: netTimer, id: int(e.Timer)})
		if s.timerNote != nil {
			s.Record(trace.Event{Actor: e.Owner, Kind: model.EventTimer, Reason: "reconnect in " + e.After.String() + s.timerNote()})
		}
	case model.Observation:
		ev := trace.FromObservation(s.now, e)
		if s.observe != nil {
			ev.Queue, ev.HasQueue = s.observe(e)
		}
		s.Record(ev)
	default:
		panic(fmt.Sprintf("sim: unknown effect %T", e))
	}
}

// latency draws one message's delay on the link between two sockets.
func (s *Sim) latency(a, b string) time.Duration {
	d := s.net.Latency
	if len(s.extra) > 0 { // skip hashing two names per message when no link is slow
		d += s.extra[mkLink(a, b)]
	}
	if s.net.Jitter > 0 {
		d += time.Duration(s.rng.Int64N(int64(s.net.Jitter)))
	}
	return d
}

// OnSettle installs react, which lets applications respond after every
// event: it runs until it reports that it did nothing. The scenario runner
// installs its own; property tests install theirs.
func (s *Sim) OnSettle(react func() bool) { s.react = react }

// Cut cuts the link between sockets a and b: live connections end and
// dials fail until Heal.
func (s *Sim) Cut(a, b string) {
	s.cut[mkLink(a, b)] = true
	s.Record(trace.Event{Actor: a, Kind: model.EventCut, Peer: b})
	s.failHandshakes(func(h *handshaking) bool { return h.link == mkLink(a, b) }, dialReset)
	s.world.Cut(a, b)
	s.Settle()
}

// Heal restores a cut link; the next reconnect attempt succeeds.
func (s *Sim) Heal(a, b string) {
	delete(s.cut, mkLink(a, b))
	s.Record(trace.Event{Actor: a, Kind: model.EventHeal, Peer: b})
}

// AddLatency adds d to every message on the link between a and b.
func (s *Sim) AddLatency(a, b string, d time.Duration) {
	s.extra[mkLink(a, b)] += d
}
