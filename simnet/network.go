package simnet

import (
	"context"
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing/synctest"
	"time"

	"github.com/go-zeromq/zmq4"
)

// DefaultLatency is the one-way delay of every link until
// [Network.SetLatency] says otherwise: loopback-like, as lockstep's
// simulator.
const DefaultLatency = 100 * time.Microsecond

// firstEphemeralPort is where a host's dialing and port-0 listening ports
// start, as on Linux.
const firstEphemeralPort = 49152

// Network is a set of hosts joined by links, with one zmq4 transport
// scheme of its own. It is meant to be created and used inside one
// [testing/synctest] bubble (see [Run]): its waits are then bubble
// channels and timers, and [Network.Settle] is [synctest.Wait].
//
// Faults, [Network.Settle], [Network.Sleep] and [Network.Close] belong to
// the test's own goroutine (the harness); programs started with
// [Host.Start] and the zmq4 sockets they open use the network only
// through endpoints.
type Network struct {
	slot  *slot
	start time.Time

	mu        sync.Mutex
	hosts     map[string]*Host
	order     []*Host // creation order, so Close stops hosts deterministically
	latency   time.Duration
	links     map[link]*linkState
	listeners map[string]*listener // "host:port" of live listeners
	conns     map[*connection]struct{}
	connSeq   uint64
	events    []Event
	closed    bool
	bubble    bool // created inside a synctest bubble

	agenda   agenda
	settlers []chan struct{} // Settle calls waiting for the instant to end
	dials    map[string]int  // dials so far per "from>host:port", for keys
	alarms   uint64          // alarms so far, for their order
	wake     chan struct{}
	stopped  bool
	done     chan struct{} // closed when loop returns
}

// link is an unordered pair of host names.
type link struct{ a, b string }

func mkLink(a, b string) link {
	if a > b {
		a, b = b, a
	}
	return link{a, b}
}

type linkState struct {
	latency    time.Duration
	hasLatency bool
	cut        bool
}

// Host is a named machine on a [Network]: it owns ports, connections and
// the programs started on it.
type Host struct {
	n        *Network
	name     string
	up       bool
	nextPort int
	progs    []func(ctx context.Context)
	ctx      context.Context
	cancel   context.CancelFunc
	running  *sync.WaitGroup // programs of the current incarnation
}

// slot is one registered zmq4 scheme. Registration is global and cannot
// be undone, so a closed network's scheme goes back to a pool and serves
// the next network.
type slot struct {
	scheme string
	net    atomic.Pointer[Network]
}

var pool struct {
	mu   sync.Mutex
	free []*slot
	n    int
}

func takeSlot() *slot {
	pool.mu.Lock()
	defer pool.mu.Unlock()
	if k := len(pool.free); k > 0 {
		s := pool.free[k-1]
		pool.free = pool.free[:k-1]
		return s
	}
	for {
		pool.n++
		s := &slot{scheme: fmt.Sprintf("simnet%d", pool.n)}
		// Another package may have taken the name; try the next one.
		if err := zmq4.RegisterTransport(s.scheme, transport{s}); err == nil {
			return s
		}
	}
}

func releaseSlot(s *slot) {
	s.net.Store(nil)
	pool.mu.Lock()
	pool.free = append(pool.free, s)
	pool.mu.Unlock()
}

// New returns an empty network with its own scheme. Inside a synctest
// bubble (see [Run], which calls New) it runs on virtual time and is
// deterministic; outside one it runs in real time, which suits examples
// and programs but not faults at exact instants. Close it where it was
// created.
func New() *Network {
	n := &Network{
		start:     time.Now(),
		hosts:     map[string]*Host{},
		latency:   DefaultLatency,
		links:     map[link]*linkState{},
		listeners: map[string]*listener{},
		conns:     map[*connection]struct{}{},
		dials:     map[string]int{},
		wake:      make(chan struct{}, 1),
		done:      make(chan struct{}),
	}
	n.bubble = inBubble()
	n.slot = takeSlot()
	n.slot.net.Store(n)
	go n.loop()
	return n
}

// Scheme is the network's zmq4 transport name, for example "simnet1".
func (n *Network) Scheme() string { return n.slot.scheme }

// Now is the virtual time since the network was created.
func (n *Network) Now() time.Duration { return time.Since(n.start) }

// Host returns the host called name, creating it (up, with no programs)
// on first use. Names must not contain ':', '@' or '/'.
func (n *Network) Host(name string) *Host {
	n.mu.Lock()
	defer n.mu.Unlock()
	if h := n.hosts[name]; h != nil {
		return h
	}
	for _, r := range name {
		if r == ':' || r == '@' || r == '/' || r == ' ' {
			panic(fmt.Sprintf("simnet: bad host name %q", name))
		}
	}
	h := &Host{n: n, name: name, up: true, nextPort: firstEphemeralPort, running: new(sync.WaitGroup)}
	h.ctx, h.cancel = context.WithCancel(context.Background())
	n.hosts[name] = h
	n.order = append(n.order, h)
	return h
}

// Name is the host's name.
func (h *Host) Name() string { return h.name }

// Bind is the endpoint for a socket on h to listen on port, for example
// "simnet1://server:5454". Port 0 picks a free port (read it from the
// socket's Addr).
func (h *Host) Bind(port int) string {
	return fmt.Sprintf("%s://%s:%d", h.n.Scheme(), h.name, port)
}

// Connect is the endpoint for a socket on h to dial target ("host:port"),
// for example "simnet1://client@server:5454": the part before '@' tells
// the network which host dials.
func (h *Host) Connect(target string) string {
	return fmt.Sprintf("%s://%s@%s", h.n.Scheme(), h.name, target)
}

// Up reports whether h is running (not crashed).
func (h *Host) Up() bool {
	h.n.mu.Lock()
	defer h.n.mu.Unlock()
	return h.up
}

// Start runs prog on h now, if h is up, and again after every restart.
// prog's ctx is cancelled when h crashes or the network closes; prog must
// then close its sockets and return, as a process that dies leaves no
// sockets behind. Start waits until the bubble settles, so components
// started one after another come up in that order (the server listens
// before the client dials).
func (h *Host) Start(prog func(ctx context.Context)) {
	h.n.mu.Lock()
	h.progs = append(h.progs, prog)
	up := h.up && !h.n.closed
	ctx, wg := h.ctx, h.running
	h.n.mu.Unlock()
	if up {
		wg.Go(func() { prog(ctx) })
		h.n.Settle()
	}
}

// Settle returns once whatever was due at this virtual instant has
// happened: every byte due has arrived, every dial due has completed, and
// every goroutine of the bubble has done what that set off and is blocked
// again. Outside a bubble (real time, best effort) it only waits until
// nothing is due.
func (n *Network) Settle() {
	ch := make(chan struct{})
	n.mu.Lock()
	if n.stopped {
		n.mu.Unlock()
		n.wait()
		return
	}
	n.settlers = append(n.settlers, ch)
	n.kick()
	n.mu.Unlock()
	<-ch
}

// wait is synctest.Wait in a bubble. Only the scheduler calls it while it
// runs, since synctest allows one caller at a time, and so a bubble holds
// one network.
func (n *Network) wait() {
	if !n.bubble {
		runtime.Gosched()
		return
	}
	defer func() {
		if p := recover(); p != nil {
			panic(fmt.Sprintf("simnet: %v: only one network may run in a synctest bubble", p))
		}
	}()
	synctest.Wait()
}

// inBubble reports whether the caller runs in a synctest bubble:
// synctest.Wait panics outside one.
func inBubble() bool {
	p := func() (p any) {
		defer func() { p = recover() }()
		synctest.Wait()
		return nil
	}()
	switch {
	case p == nil:
		return true
	case strings.Contains(fmt.Sprint(p), "not in a bubble"):
		return false
	default:
		panic(fmt.Sprintf("simnet: %v: only one network may run in a synctest bubble", p))
	}
}

// Sleep lets d of virtual time pass, then settles, so that what the test
// does next happens after everything due at that instant.
func (n *Network) Sleep(d time.Duration) {
	time.Sleep(d)
	n.Settle()
}

// SleepUntil sleeps until the network's virtual time is at (no-op if it
// has passed), then settles.
func (n *Network) SleepUntil(at time.Duration) {
	if d := at - n.Now(); d > 0 {
		time.Sleep(d)
	}
	n.Settle()
}

// SetDefaultLatency sets the one-way delay of every link that has no
// latency of its own.
func (n *Network) SetDefaultLatency(d time.Duration) {
	n.mu.Lock()
	n.latency = d
	n.mu.Unlock()
}

// SetLatency sets the one-way delay of the link between hosts a and b
// (either direction). Bytes already written keep their delay, and bytes
// never overtake earlier ones on a connection, as on TCP.
func (n *Network) SetLatency(a, b string, d time.Duration) {
	n.mu.Lock()
	ls := n.link(a, b)
	ls.latency, ls.hasLatency = d, true
	n.mu.Unlock()
}

// link returns the state of the link between a and b; n.mu is held.
func (n *Network) link(a, b string) *linkState {
	k := mkLink(a, b)
	ls := n.links[k]
	if ls == nil {
		ls = &linkState{}
		n.links[k] = ls
	}
	return ls
}

// latencyOf is the one-way delay between a and b; n.mu is held.
func (n *Network) latencyOf(a, b string) time.Duration {
	if ls := n.links[mkLink(a, b)]; ls != nil && ls.hasLatency {
		return ls.latency
	}
	return n.latency
}

// record appends an event at the current virtual time; n.mu is held.
func (n *Network) record(host, event, peer, reason string) {
	n.events = append(n.events, Event{At: n.Now(), Host: host, Event: event, Peer: peer, Reason: reason})
}

// Cut ends every connection between hosts a and b, as a failed link does
// in lockstep's model: both ends see a reset, bytes in flight are lost,
// and dials between a and b are refused until [Network.Heal]. It settles
// first, so the cut comes after everything else due at this instant.
func (n *Network) Cut(a, b string) {
	n.Settle()
	n.mu.Lock()
	n.link(a, b).cut = true
	n.record(a, EventCut, b, "")
	for _, c := range n.sortedConns() {
		x, y := c.ends[0].host, c.ends[1].host
		if (x == a && y == b) || (x == b && y == a) {
			c.reset("link cut", -1)
		}
	}
	n.mu.Unlock()
	n.Settle()
}

// Heal restores a cut link: the next dial between a and b succeeds.
func (n *Network) Heal(a, b string) {
	n.Settle()
	n.mu.Lock()
	n.link(a, b).cut = false
	n.record(a, EventHeal, b, "")
	n.mu.Unlock()
	n.Settle()
}

// Alarm returns a channel that is closed at virtual time at (since the
// network was created; now, if that has passed) before anything else the
// network does at that instant, and the network then waits until the
// bubble settles. A harness that keeps its own timers on alarms therefore
// acts at the start of their instant, as in lockstep's simulator, where a
// timer or fault set earlier comes before bytes that arrive at the same
// instant; to crash a host then, use [Network.CrashNow]. Alarms of one
// instant close in the order they were asked for. An alarm nobody waits
// for any more costs nothing but its instant.
func (n *Network) Alarm(at time.Duration) <-chan struct{} {
	ch := make(chan struct{})
	n.mu.Lock()
	n.alarms++
	n.schedule(&item{at: n.start.Add(at), seq: n.alarms, alarm: ch})
	n.mu.Unlock()
	return ch
}

// CrashNow is [Network.Crash] without settling first: for a harness woken
// by an [Network.Alarm], so that the crash comes before whatever else is
// due at this instant (bytes that arrive then are lost with the host's
// connections). It settles after, as Crash does.
func (n *Network) CrashNow(name string) { n.crash(name) }

// Crash kills host name: its programs' contexts are cancelled, every
// connection it has is reset (the peer reads what had already arrived,
// then io.EOF; bytes in flight are lost, F22), its listeners stop
// accepting, and dials to it are refused until [Network.Restart]. It
// settles first, so the crash comes after everything else due at this
// instant, and settles again after.
func (n *Network) Crash(name string) {
	n.Settle()
	n.crash(name)
}

func (n *Network) crash(name string) {
	h := n.Host(name)
	n.mu.Lock()
	if !h.up {
		n.mu.Unlock()
		return
	}
	h.up = false
	h.cancel()
	n.record(name, EventCrash, "", "")
	for _, c := range n.sortedConns() {
		for side, e := range c.ends {
			if e.host == name {
				c.reset(name+" crashed", side)
				break
			}
		}
	}
	for _, key := range sortedKeys(n.listeners) {
		if l := n.listeners[key]; l.host == h {
			delete(n.listeners, key)
			l.dropBacklog(name + " crashed")
		}
	}
	n.mu.Unlock()
	n.Settle()
}

// Restart brings a crashed host back: it waits until the programs of the
// crashed incarnation have returned, then starts each program registered
// with [Host.Start] again, one at a time, with a fresh context.
func (n *Network) Restart(name string) {
	n.Settle()
	h := n.Host(name)
	n.mu.Lock()
	if h.up || n.closed {
		n.mu.Unlock()
		return
	}
	old := h.running
	n.mu.Unlock()
	old.Wait()

	n.mu.Lock()
	h.up = true
	h.ctx, h.cancel = context.WithCancel(context.Background())
	h.running = new(sync.WaitGroup)
	progs := append([]func(context.Context){}, h.progs...)
	ctx, wg := h.ctx, h.running
	n.record(name, EventRestart, "", "")
	n.mu.Unlock()
	for _, prog := range progs {
		wg.Go(func() { prog(ctx) })
		n.Settle()
	}
	n.Settle()
}

// Close stops every host, newest first: it cancels the host's programs,
// waits for them to return and settles before the next host, so that
// closing is as deterministic as the rest. Then it resets whatever
// connections remain and marks the network closed; dials and listens
// fail from then on. Listeners of sockets that were never closed keep
// blocking in Accept (zmq4 would spin on an error), so synctest reports
// such a leak as a deadlock. Close is idempotent; [Run] calls it.
func (n *Network) Close() {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return
	}
	hosts := append([]*Host{}, n.order...)
	n.mu.Unlock()
	n.Settle()
	for i := len(hosts) - 1; i >= 0; i-- {
		h := hosts[i]
		n.mu.Lock()
		h.cancel()
		wg := h.running
		n.mu.Unlock()
		wg.Wait()
		n.Settle()
	}
	n.mu.Lock()
	n.closed = true
	for _, c := range n.sortedConns() {
		c.reset("network closed", -2)
	}
	n.mu.Unlock()
	n.Settle()
	n.mu.Lock()
	n.stopped = true
	n.kick()
	n.mu.Unlock()
	<-n.done
	if !n.bubble {
		// In a bubble, Run hands the scheme back once the bubble has ended:
		// only then can no goroutine of this network use it any more.
		releaseSlot(n.slot)
	}
}

// sortedConns lists live connections in creation order; n.mu is held.
func (n *Network) sortedConns() []*connection {
	out := make([]*connection, 0, len(n.conns))
	for c := range n.conns {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].seq < out[j].seq })
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
