package properties

import (
	"fmt"
	"reflect"
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
}

// snapshot is what per-operation checks compare against.
type snapshot struct {
	awaiting map[string]bool
	queue    map[string]int
	received map[string]int
}

func (m *machine) snapshot() snapshot {
	s := snapshot{awaiting: map[string]bool{}, queue: map[string]int{}, received: map[string]int{}}
	for _, c := range m.sys.Clients {
		s.awaiting[c.Name] = m.sys.state(c.Name).AwaitingReply
		s.queue[c.Name] = c.Queue.Len()
		s.received[c.Name] = len(m.led.Received[c.Name])
	}
	return s
}

// stepCheck runs after each operation with the snapshot taken before it.
type stepCheck func(t *rapid.T, m *machine, op Op, before snapshot)

// run draws operations of the given kinds, applies each, and runs check
// after each one. It returns the machine for checks at the end of the run.
func run(t *rapid.T, cfg Config, kinds []string, check stepCheck) *machine {
	m := &machine{sys: NewSystem(cfg), led: newLedger()}
	// rapid, not the PRNG, resolves the model's open choices (which ready
	// client REP serves, F10's race, reconnect jitter, the first request
	// id), so it explores them and shrinks a failure to the choices that
	// matter.
	m.sys.Sim.SetChooser(model.ChooserFunc(func(c model.Choice, n int) int {
		k := rapid.IntRange(0, n-1).Draw(t, string(c))
		m.choices = append(m.choices, k)
		return k
	}))
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
			m.led.Update(m.sys.Trace())
			m.checkPipes(t)
			check(t, m, op, before)
		}
	}
	t.Repeat(actions)
	return m
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
	return fmt.Sprintf("seed=%d servers=%d clients=%d relaxed=%v correlate=%v immediate=%v sndhwm=%d rcvhwm=%d server-sndhwm=%d server-rcvhwm=%d pirate=%v profile=%s",
		c.Seed, c.Servers, c.Clients, c.Client.ReqRelaxed, c.Client.ReqCorrelate, c.Client.Immediate, c.Client.SndHWM, c.Client.RcvHWM,
		c.Server.SndHWM, c.Server.RcvHWM, c.Pirate, c.Profile.Name)
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

// checkPipes holds after every step of every property: no pipe holds more
// than its high-water mark, SNDHWM on the side a socket writes and RCVHWM
// on the side it reads, whole messages counted (F17, F18); a zero option
// is the default of 1000.
func (m *machine) checkPipes(t *rapid.T) {
	hwm := func(n int) int {
		if n <= 0 {
			return model.DefaultHWM
		}
		return n
	}
	check := func(name string, o model.Options) {
		st, err := m.sys.W.State(name)
		if err != nil {
			return // closed or crashed: it holds nothing
		}
		for _, p := range st.Pipes {
			if p.Out > hwm(o.SndHWM) {
				m.fail(t, "pipes: %s's pipe to %s holds %d to send, above SNDHWM %d (F18)", name, p.Peer, p.Out, hwm(o.SndHWM))
			}
			if p.In > hwm(o.RcvHWM) {
				m.fail(t, "pipes: %s's pipe from %s holds %d to read, above RCVHWM %d (F18)", name, p.Peer, p.In, hwm(o.RcvHWM))
			}
		}
	}
	for _, c := range m.sys.Clients {
		check(c.Name, m.sys.Cfg.Client)
	}
	for _, srv := range m.sys.Servers {
		check(srv.Name, m.sys.Cfg.Server)
	}
}
