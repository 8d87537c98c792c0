package properties

import (
	"fmt"
	"reflect"
	"slices"
	"sync"

	"github.com/zeromq-lockstep/lockstep/model"
	"github.com/zeromq-lockstep/lockstep/trace"

	"pgregory.net/rapid"
)

// machine is one run of a property: the system, its ledger and the
// operations applied so far.
type machine struct {
	sys     *System
	led     *Ledger
	ops     []Op
	misused int // misuse results already checked
	// choices are the model's open choices as rapid drew them, in order,
	// so that a second run of the same operations can make them again.
	choices []int
	mirror  *mirror
	fresh   []trace.Event // the trace events of the latest operation
	// states is every open socket's State after the latest operation, as
	// the mirror last read it.
	states map[string]model.SocketState
	raw    map[string]*rawClient // what checkRawPeers knows of each client
	cut    map[[2]string]bool    // the links cut and not healed
	// judged is, per client, how many of its replies checkLoss has judged.
	judged map[string]int
}

func (m *machine) isClient(name string) bool {
	for _, c := range m.sys.Clients {
		if c.Name == name {
			return true
		}
	}
	return false
}

// snapshot is what per-operation checks compare against.
type snapshot struct {
	awaiting map[string]bool
	queue    map[string]int
	received map[string]int
	sent     map[string]int
}

func (m *machine) snapshot() snapshot {
	s := snapshot{awaiting: map[string]bool{}, queue: map[string]int{}, received: map[string]int{}, sent: map[string]int{}}
	if m.states == nil {
		m.states = m.mirror.states()
	}
	for _, c := range m.sys.Clients {
		s.awaiting[c.Name] = m.states[c.Name].AwaitingReply // as the last step left it
		s.queue[c.Name] = c.Queue.Len()
		s.received[c.Name] = len(m.led.Received[c.Name])
		s.sent[c.Name] = len(m.led.Sent[c.Name])
	}
	return s
}

// stepCheck runs after each operation with the snapshot taken before it.
type stepCheck func(t *rapid.T, m *machine, op Op, before snapshot)

// run draws operations of the given kinds, applies each, and runs check
// after each one. It returns the machine for checks at the end of the run.
func run(t *rapid.T, cfg Config, kinds []string, check stepCheck) *machine {
	m := &machine{sys: NewSystem(cfg), led: newLedger(), cut: map[[2]string]bool{}, judged: map[string]int{}}
	m.mirror = newMirror(m.sys, func(format string, args ...any) { m.fail(t, format, args...) })
	m.sys.watch = m.mirror
	m.sys.Sim.SetChooser(chooser{t: t, m: m})
	m.mirror.sync()
	setLastRun(m)
	t.Logf("config: %s", cfg)
	actions := map[string]func(*rapid.T){}
	for _, k := range kinds {
		// A kind listed twice is drawn twice as often: rapid picks action
		// names uniformly, so the copy gets a name of its own.
		name := k
		for n := 2; actions[name] != nil; n++ {
			name = k + "#" + itoa(n)
		}
		actions[name] = func(t *rapid.T) {
			op := drawOp(t, k)
			before := m.snapshot()
			m.ops = append(m.ops, op)
			t.Logf("op %d: %v", len(m.ops), op)
			m.sys.Apply(op)
			m.fresh = m.led.Update(m.sys.Trace())
			m.states = m.mirror.states()
			m.checkPipes(t)
			m.checkConservation(t)
			m.checkPoll(t)
			m.checkFaults(t, op)
			m.checkReconnectLoops(t)
			m.checkSocketTypes(t)
			check(t, m, op, before)
		}
	}
	t.Repeat(actions)
	return m
}

// chooser answers the model's open choices (which ready pipe a socket
// reads, F10's race, reconnect jitter, the first request id) with rapid's
// draws, not the PRNG's, so that rapid explores them and shrinks a failure
// to the choices that matter. It tells the mirror every answer; under
// Config.WrapChoices it answers out of range, which the model must take
// modulo the number of options.
type chooser struct {
	t *rapid.T
	m *machine
}

// Choose implements model.Chooser.
func (c chooser) Choose(ch model.Choice, n int) int { return c.answer(ch, n, nil) }

// ChoosePeer implements model.PeerChooser: the model names the candidates'
// peers, which the mirror checks against libzmq's rotation (F14).
func (c chooser) ChoosePeer(ch model.Choice, peers []string) int {
	return c.answer(ch, len(peers), peers)
}

func (c chooser) answer(ch model.Choice, n int, peers []string) int {
	k := rapid.IntRange(0, n-1).Draw(c.t, string(ch))
	ans := k
	if c.m.sys.Cfg.WrapChoices {
		// One turn either way meets the clamp's bounds: n for k = 0,
		// -1 for k = n-1.
		ans += n * rapid.SampledFrom([]int{1, -1, 0, 2, -2}).Draw(c.t, "wrap")
	}
	c.m.choices = append(c.m.choices, ans)
	c.m.mirror.chose(drawn{choice: ch, n: n, k: k, peers: slices.Clone(peers)})
	return ans
}

// fail reports a violated property with the end of the trace.
func (m *machine) fail(t *rapid.T, format string, args ...any) {
	tr := m.sys.Trace()
	from := max(0, len(tr)-40)
	out, _ := trace.Render(tr[from:], "text")
	t.Logf("last %d trace events:\n%s", len(tr)-from, out)
	t.Fatalf(format, args...)
}

func (c Config) String() string {
	s := fmt.Sprintf("seed=%d servers=%d clients=%d relaxed=%v correlate=%v immediate=%v sndhwm=%d rcvhwm=%d reconnect-ivl=%v reconnect-ivl-max=%v server-sndhwm=%d server-rcvhwm=%d rogue=%v rogue-sndhwm=%d rogue-rcvhwm=%d pirate=%v wrap-choices=%v profile=%s",
		c.Seed, c.Servers, c.Clients, c.Client.ReqRelaxed, c.Client.ReqCorrelate, c.Client.Immediate, c.Client.SndHWM, c.Client.RcvHWM,
		c.Client.ReconnectIvl, c.Client.ReconnectIvlMax, c.Server.SndHWM, c.Server.RcvHWM, c.Rogue, c.RogueOptions.SndHWM, c.RogueOptions.RcvHWM,
		c.Pirate, c.WrapChoices, c.Profile.Name)
	if c.RawClient {
		s += " raw-client=true"
	}
	if c.ServersConnect {
		s += fmt.Sprintf(" servers-connect=true server-immediate=%v server-reconnect-ivl=%v server-reconnect-ivl-max=%v",
			c.Server.Immediate, c.Server.ReconnectIvl, c.Server.ReconnectIvlMax)
	}
	return s
}

// A Run is what one run of a property did: for replay, the failing one.
type Run struct {
	Config string
	Ops    []string
	// Trace is the model's trace; Notes say what else the run saw (the
	// differential property's zmq4 side).
	Trace []trace.Event
	Notes []string
}

// runSource is a run in progress; its Run is taken only when asked for.
type runSource interface{ run() Run }

func (m *machine) run() Run {
	r := Run{Config: m.sys.Cfg.String(), Trace: m.sys.Trace()}
	for _, op := range m.ops {
		r.Ops = append(r.Ops, op.String())
	}
	return r
}

var (
	lastMu  sync.Mutex
	lastRun runSource
)

func setLastRun(r runSource) {
	lastMu.Lock()
	lastRun = r
	lastMu.Unlock()
}

// LastRun returns what the most recent run of any property in this
// process did: after a replay, the failing sequence.
func LastRun() (Run, bool) {
	lastMu.Lock()
	defer lastMu.Unlock()
	if lastRun == nil {
		return Run{}, false
	}
	return lastRun.run(), true
}

// checkMisuse: every forbidden call failed with EFSM and changed nothing
// (F1, F2).
func (m *machine) checkMisuse(t *rapid.T) {
	fresh := m.sys.Misuse[m.misused:]
	m.misused = len(m.sys.Misuse)
	for _, u := range fresh {
		if u.Err != model.ErrFSM {
			m.fail(t, "lockstep: %s returned %v, want EFSM (F1, F2)", u.Op, u.Err)
		}
		if !reflect.DeepEqual(u.StateBefore, u.StateAfter) {
			m.fail(t, "lockstep: %s changed the socket: %+v -> %+v (F1, F2)", u.Op, u.StateBefore, u.StateAfter)
		}
	}
}
