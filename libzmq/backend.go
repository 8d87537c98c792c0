//go:build libzmq && cgo

package libzmq

import (
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	zmq "github.com/pebbe/zmq4"

	"github.com/zeromq-lockstep/lockstep/backend"
	"github.com/zeromq-lockstep/lockstep/model"
	"github.com/zeromq-lockstep/lockstep/trace"
)

// Timing of the libzmq backend, on real time over loopback TCP.
//
//   - advance D sleeps D, at least AdvanceMin (so that messages sent
//     before it have arrived) and, from 50ms up, half as long again (a
//     reconnect takes RECONNECT_IVL plus up to as much jitter and a
//     handshake, F23), at most AdvanceMax.
//   - recv and poll that find nothing wait up to RecvWait for a message
//     before they answer EAGAIN or readable=false: libzmq learns of a
//     message a little later than the model.
//   - Term waits TermBound for zmq_ctx_term; a context that does not
//     terminate is a hang (a finding, not a wait without end).
const (
	AdvanceMin = 3 * time.Millisecond
	AdvanceMax = 1500 * time.Millisecond
	RecvWait   = 300 * time.Millisecond
	TermBound  = 2 * time.Second
	// SendGap is the pause after every send, so that messages that
	// different sockets send one after another reach a common peer in
	// that order, as in the model, where each takes the same latency.
	SendGap = 2 * time.Millisecond
	// SendWait is how long a send that would block polls for POLLOUT
	// before it answers EAGAIN.
	SendWait = 20 * time.Millisecond
	// rebindFor is how long a restart retries EADDRINUSE on its port.
	rebindFor = time.Second
)

// Name is the name the backend is registered under.
const Name = "libzmq"

func init() {
	backend.Register(Name, func() (backend.Backend, error) { return New() })
}

// Backend is the "libzmq" script backend: real libzmq REQ, REP, DEALER
// and ROUTER sockets (github.com/pebbe/zmq4) over 127.0.0.1, in real
// time, one zmq context per Backend.
//
// Endpoints: a script's endpoint (tcp://server:5454) is only a name. Its
// first use picks a free port on 127.0.0.1; a bind listens there, and a
// connect dials a proxy of its own that forwards to that port, which is
// how Cut and Heal break and restore a link. A restart binds the same
// port again, retrying EADDRINUSE for up to a second.
//
// DEALER: the model's raw peer. Facing a REP it is a libzmq DEALER.
// Facing a REQ it stands for a ROUTER (model/world.go), because libzmq
// refuses to pair REQ with DEALER: its identity frame is taken off what
// it receives, and a send goes to the REQs it is linked to in turn
// (ROUTER_MANDATORY, so that a REQ that is not connected is skipped; a
// send with none connected is EAGAIN). Which of the two a DEALER is is
// decided at its first bind or connect: a bind, or a connect to an
// endpoint a REQ bound, makes it a ROUTER. Every socket's routing id is
// its script name and incarnation, so the ROUTER addresses a REQ by name.
//
// Every libzmq call runs on one goroutine locked to its OS thread (a
// libzmq socket is not thread-safe) and is non-blocking (ZMQ_DONTWAIT)
// or bounded (a poll of at most RecvWait). Every socket is closed with
// LINGER 0, set just before the close (see closeSock), so closing it
// never waits, and every socket has a socket monitor whose events (handshake,
// disconnect, retry) become trace events: connect, disconnect and retry.
// crash is close with LINGER 0: a socket cannot die in any other way
// inside one process, and for the peer a killed process and a closed
// socket look the same (F19 was observed both ways).
//
// Observes is false: the times of real events never equal the model's,
// so only result lines are compared; the events are still in every
// command's output and in the trace. The state and choose commands are
// unsupported (libzmq shows neither its pipes nor its choices).
// Like the Runner that drives it, a Backend is used by one goroutine.
type Backend struct {
	start time.Time
	ex    *executor
	ctx   *zmq.Context
	// wait is how long recv and poll wait for a message (RecvWait; the
	// scenario runner, which polls every millisecond, sets 0).
	wait time.Duration

	socks   map[string]*sock
	order   []string       // socket names in open order, for draining monitors
	ports   map[string]int // script endpoint -> bound port on 127.0.0.1
	proxies map[[2]string]*proxy
	monSeq  int
	events  []trace.Event
	queues  map[string]*appQueue
	qorder  []string
	// live: the connections that the monitors say are up, by connecting
	// socket and script endpoint.
	live map[[2]string]bool
	// liveIn counts, by bound socket, the accepted connections that its
	// monitor says are up.
	liveIn map[string]int
	// firstDial: connections whose first dial found the endpoint bound,
	// not yet reported up; the model completes such a dial within one
	// advance (F23: the first attempt is immediate).
	firstDial map[[2]string]bool
	// rids: every routing id each socket name has had, oldest first.
	rids map[string][]string
	// gaveUp: connect()s, by connecting socket and script endpoint, that
	// libzmq ended after a protocol error in a handshake.
	gaveUp map[[2]string]bool

	mu     sync.Mutex // guards cut and binder, read by proxies
	cut    map[[2]string]bool
	binder map[string]string // script endpoint -> name of the socket bound there
}

type sock struct {
	name  string
	kind  model.SocketType
	opts  model.Options
	real  zmq.Type // REQ, REP, DEALER or ROUTER; 0 while a DEALER is unrealised
	typed bool
	z     *zmq.Socket
	mon   *zmq.Socket
	open  bool

	binds    []string
	connects []string
	rr       int // ROUTER stand-in: next peer in turn
	// rid is the routing id, the name and the incarnation: a restarted
	// REQ must not reuse the id of its predecessor, whose pipe the peer
	// may not have removed yet (a ROUTER or REP refuses a duplicate).
	rid string
}

type appQueue struct{ items []model.Message }

// New opens a backend with a fresh zmq context.
func New() (*Backend, error) {
	b := &Backend{
		start:     time.Now(),
		wait:      RecvWait,
		ex:        newExecutor(),
		socks:     map[string]*sock{},
		ports:     map[string]int{},
		proxies:   map[[2]string]*proxy{},
		queues:    map[string]*appQueue{},
		live:      map[[2]string]bool{},
		liveIn:    map[string]int{},
		firstDial: map[[2]string]bool{},
		rids:      map[string][]string{},
		gaveUp:    map[[2]string]bool{},
		cut:       map[[2]string]bool{},
		binder:    map[string]string{},
	}
	var err error
	b.ex.do(func() { b.ctx, err = zmq.NewContext() })
	if err != nil {
		b.ex.stop()
		return nil, fmt.Errorf("%w: libzmq: zmq_ctx_new: %v", backend.ErrBackend, err)
	}
	return b, nil
}

// executor runs functions on one goroutine locked to its OS thread.
type executor struct{ fn chan func() }

func newExecutor() *executor {
	e := &executor{fn: make(chan func())}
	go func() {
		runtime.LockOSThread()
		for f := range e.fn {
			f()
		}
	}()
	return e
}

func (e *executor) do(f func()) {
	done := make(chan struct{})
	e.fn <- func() { defer close(done); f() }
	<-done
}

func (e *executor) stop() { close(e.fn) }

// Observes implements backend.Observer: false, see Backend.
func (b *Backend) Observes() bool { return false }

// Now is the real time since the backend started.
func (b *Backend) Now() time.Duration { return time.Since(b.start) }

func (b *Backend) record(e trace.Event) {
	e.At = b.Now()
	b.events = append(b.events, e)
}

// Events implements backend.Backend: the monitor events and the calls'
// own events since the last call.
func (b *Backend) Events() []trace.Event {
	b.settle()
	e := b.events
	b.events = nil
	return e
}

// errOf maps a libzmq errno to the model's error of the same meaning.
func errOf(op string, err error) error {
	if err == nil {
		return nil
	}
	switch zmq.AsErrno(err) {
	case zmq.Errno(syscall.EAGAIN):
		return model.ErrAgain
	case zmq.EFSM:
		return model.ErrFSM
	case zmq.Errno(syscall.EADDRINUSE):
		return model.ErrAddrInUse
	case zmq.Errno(syscall.ENOENT):
		return model.ErrNotConnected
	}
	return fmt.Errorf("%s: libzmq: %v", op, err)
}

func (b *Backend) sock(name string) (*sock, error) {
	s := b.socks[name]
	if s == nil || !s.open {
		return nil, fmt.Errorf("%w: %q", model.ErrNoSocket, name)
	}
	return s, nil
}

// port returns the bound port of a script endpoint, picking a free one
// on first use.
func (b *Backend) port(ep string) (int, error) {
	if p, ok := b.ports[ep]; ok {
		return p, nil
	}
	if !strings.HasPrefix(ep, "tcp://") {
		return 0, fmt.Errorf("%w: endpoint %q: the libzmq backend maps tcp:// endpoints only", backend.ErrUnsupported, ep)
	}
	p, err := freePort()
	if err != nil {
		return 0, err
	}
	b.ports[ep] = p
	return p, nil
}

// Endpoint ports come from below Linux's ephemeral range (32768 and up),
// where the proxies' ports (and other programs' outgoing connections)
// are allocated, so that no proxy can take a port an endpoint will bind
// later.
const portLow, portHigh = 20000, 32000

var portNext = struct {
	sync.Mutex
	n int
}{n: portLow + int(time.Now().UnixNano()%int64(portHigh-portLow))}

// freePort returns a port below the ephemeral range that is free now.
func freePort() (int, error) {
	portNext.Lock()
	defer portNext.Unlock()
	for range portHigh - portLow {
		p := portNext.n
		portNext.n++
		if portNext.n >= portHigh {
			portNext.n = portLow
		}
		if l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p)); err == nil {
			l.Close()
			return p, nil
		}
	}
	return 0, fmt.Errorf("%w: no free port in %d..%d on 127.0.0.1", backend.ErrBackend, portLow, portHigh)
}

func bindAddr(p int) string { return "tcp://127.0.0.1:" + strconv.Itoa(p) }

// Open implements backend.Backend. A DEALER's libzmq socket is made at its
// first bind or connect (see Backend).
func (b *Backend) Open(name string, kind model.SocketType, o model.Options) error {
	if s := b.socks[name]; s != nil && s.open {
		return fmt.Errorf("%w: %q", model.ErrExists, name)
	}
	s := &sock{name: name, kind: kind, opts: o, open: true}
	switch kind {
	case model.REQ:
		s.real, s.typed = zmq.REQ, true
	case model.REP:
		s.real, s.typed = zmq.REP, true
	}
	if s.typed {
		if err := b.realise(s); err != nil {
			return err
		}
	}
	if b.socks[name] == nil {
		b.order = append(b.order, name)
	}
	b.socks[name] = s
	return nil
}

// realise makes s's libzmq socket and its monitor, with s's options.
func (b *Backend) realise(s *sock) error {
	var err error
	b.ex.do(func() { err = b.newSocket(s) })
	return err
}

func (b *Backend) newSocket(s *sock) error {
	b.monSeq++
	s.rid = fmt.Sprintf("%s.%d", s.name, b.monSeq)
	b.rids[s.name] = append(b.rids[s.name], s.rid)
	z, err := b.ctx.NewSocket(s.real)
	if err != nil {
		return fmt.Errorf("%w: libzmq: zmq_socket: %v", backend.ErrBackend, err)
	}
	o := s.opts
	set := []struct {
		what string
		do   func() error
		when bool
	}{
		{"ROUTING_ID", func() error { return z.SetIdentity(s.rid) }, true},
		{"REQ_CORRELATE", func() error { return z.SetReqCorrelate(1) }, o.ReqCorrelate},
		{"REQ_RELAXED", func() error { return z.SetReqRelaxed(1) }, o.ReqRelaxed},
		{"IMMEDIATE", func() error { return z.SetImmediate(true) }, o.Immediate},
		{"SNDHWM", func() error { return z.SetSndhwm(o.SndHWM) }, o.SndHWM > 0},
		{"RCVHWM", func() error { return z.SetRcvhwm(o.RcvHWM) }, o.RcvHWM > 0},
		{"RECONNECT_IVL", func() error { return z.SetReconnectIvl(o.ReconnectIvl) }, o.ReconnectIvl != 0},
		{"RECONNECT_IVL_MAX", func() error { return z.SetReconnectIvlMax(o.ReconnectIvlMax) }, o.ReconnectIvlMax != 0},
		{"ROUTER_MANDATORY", func() error { return z.SetRouterMandatory(1) }, s.real == zmq.ROUTER},
		// Every socket has a routing id (for the ROUTER stand-in), so a
		// REP would refuse a REQ that reconnects while its old pipe is
		// still there (router.cpp, identify_peer), which a REQ without
		// one never meets: REP hands the id over, as ROUTER does.
		{"ROUTER_HANDOVER", func() error { return z.SetRouterHandover(true) }, s.real == zmq.ROUTER || s.real == zmq.REP},
	}
	for _, opt := range set {
		if !opt.when {
			continue
		}
		if err := opt.do(); err != nil {
			z.Close()
			if zmq.AsErrno(err) == zmq.Errno(syscall.EINVAL) {
				return fmt.Errorf("%w: option %s on %v: %v", backend.ErrUnsupported, opt.what, s.real, err)
			}
			return fmt.Errorf("%w: libzmq: setsockopt %s: %v", backend.ErrBackend, opt.what, err)
		}
	}
	b.monSeq++
	addr := fmt.Sprintf("inproc://lockstep-monitor-%d", b.monSeq)
	ev := zmq.EVENT_HANDSHAKE_SUCCEEDED | zmq.EVENT_DISCONNECTED | zmq.EVENT_CONNECT_RETRIED | zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL
	if err := z.Monitor(addr, ev); err != nil {
		z.Close()
		return fmt.Errorf("%w: libzmq: zmq_socket_monitor: %v", backend.ErrBackend, err)
	}
	mon, err := b.ctx.NewSocket(zmq.PAIR)
	if err == nil {
		if err = mon.SetLinger(0); err == nil {
			err = mon.Connect(addr)
		}
		if err != nil {
			mon.Close()
		}
	}
	if err != nil {
		z.Close()
		return fmt.Errorf("%w: libzmq: monitor socket: %v", backend.ErrBackend, err)
	}
	s.z, s.mon = z, mon
	return nil
}

// decide fixes a DEALER's libzmq type at its first bind or connect.
func (b *Backend) decide(s *sock, bind bool, ep string) error {
	if s.typed {
		return nil
	}
	s.real = zmq.DEALER
	if bind {
		s.real = zmq.ROUTER
	} else if other := b.socks[b.binderOf(ep)]; other != nil && other.kind == model.REQ {
		s.real = zmq.ROUTER
	}
	s.typed = true
	return b.realise(s)
}

func (b *Backend) binderOf(ep string) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.binder[ep]
}

// Bind implements backend.Backend: it listens on the endpoint's port.
func (b *Backend) Bind(name, ep string) error {
	s, err := b.sock(name)
	if err != nil {
		return err
	}
	if err := b.bind(s, ep, false); err != nil {
		return err
	}
	s.binds = append(s.binds, ep)
	return nil
}

func (b *Backend) bind(s *sock, ep string, retry bool) error {
	p, err := b.port(ep)
	if err != nil {
		return err
	}
	if err := b.decide(s, true, ep); err != nil {
		return err
	}
	deadline := time.Now().Add(rebindFor)
	for fresh := 0; ; {
		b.ex.do(func() { err = s.z.Bind(bindAddr(p)) })
		if zmq.AsErrno(err) == zmq.Errno(syscall.EADDRINUSE) && !retry && fresh < 3 && !b.proxied(ep) {
			// The free port picked for this endpoint was taken by
			// another process meanwhile; nothing points at it yet, so
			// pick another.
			fresh++
			if p, err = freePort(); err != nil {
				return err
			}
			b.ports[ep] = p
			continue
		}
		if err == nil || !retry || zmq.AsErrno(err) != zmq.Errno(syscall.EADDRINUSE) || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err != nil {
		return errOf("bind", err)
	}
	b.mu.Lock()
	b.binder[ep] = s.name
	b.mu.Unlock()
	return b.openProxies()
}

// proxied says whether a proxy forwards to ep's port.
func (b *Backend) proxied(ep string) bool {
	for key := range b.proxies {
		if key[1] == ep {
			return true
		}
	}
	return false
}

// openProxies makes each proxy listen exactly while its endpoint is bound
// and its link is not cut (see proxy).
func (b *Backend) openProxies() error {
	for key, p := range b.proxies {
		b.mu.Lock()
		bound := b.binder[key[1]]
		open := bound != "" && !b.cut[link(key[0], bound)]
		b.mu.Unlock()
		if err := p.setOpen(open); err != nil {
			return fmt.Errorf("%w: proxy for %s: %v", backend.ErrBackend, key[1], err)
		}
	}
	return nil
}

// Connect implements backend.Backend: it connects through the link's
// proxy (see Backend); like libzmq's, the connect succeeds whether or not
// anything is bound there yet (F12).
func (b *Backend) Connect(name, ep string) error {
	s, err := b.sock(name)
	if err != nil {
		return err
	}
	if err := b.connect(s, ep); err != nil {
		return err
	}
	s.connects = append(s.connects, ep)
	return nil
}

func (b *Backend) proxyFor(from, ep string) (*proxy, error) {
	key := [2]string{from, ep}
	if p := b.proxies[key]; p != nil {
		return p, nil
	}
	port, err := b.port(ep)
	if err != nil {
		return nil, err
	}
	p, err := newProxy("127.0.0.1:"+strconv.Itoa(port), func() bool {
		b.mu.Lock()
		defer b.mu.Unlock()
		return b.cut[link(from, b.binder[ep])]
	})
	if err != nil {
		return nil, fmt.Errorf("%w: proxy: %v", backend.ErrBackend, err)
	}
	b.proxies[key] = p
	return p, b.openProxies()
}

func (b *Backend) connect(s *sock, ep string) error {
	p, err := b.proxyFor(s.name, ep)
	if err != nil {
		return err
	}
	if err := b.decide(s, false, ep); err != nil {
		return err
	}
	b.ex.do(func() { err = s.z.Connect(bindAddr(p.port())) })
	if err != nil {
		return errOf("connect", err)
	}
	delete(b.gaveUp, [2]string{s.name, ep})
	b.waitUp(s.name, ep)
	return nil
}

// ConnectWait bounds how long a connect waits for its handshake.
const ConnectWait = 2 * time.Second

// waitUp waits, up to ConnectWait, for the connection from name to ep to
// complete its handshake, when something is bound there and the link is
// not cut. The model attaches a connection's pipe to the bound side in
// connect order (F8, F14); libzmq attaches it when the handshake
// completes, so connections made one right after another would attach
// in any order. A socket with IMMEDIATE=1 does not wait: until the
// handshake it has no pipe, and a send then blocks (F13), as the model's
// does before its dial completes.
func (b *Backend) waitUp(name, ep string) {
	b.mu.Lock()
	bound := b.binder[ep]
	cut := b.cut[link(name, bound)]
	b.mu.Unlock()
	s := b.socks[name]
	if bound == "" || cut || !b.compatible(s, b.socks[bound]) {
		return
	}
	b.firstDial[[2]string{name, ep}] = true
	if s.opts.Immediate {
		return
	}
	deadline := time.Now().Add(ConnectWait)
	for !b.live[[2]string{name, ep}] && time.Now().Before(deadline) {
		time.Sleep(200 * time.Microsecond)
		b.drainMonitors()
	}
	if os.Getenv("LZ_DEBUG") != "" && !b.live[[2]string{name, ep}] {
		fmt.Fprintf(os.Stderr, "waitUp timeout %s %s\n", name, ep)
	}
}

// Disconnect implements backend.Backend with zmq_disconnect.
func (b *Backend) Disconnect(name, ep string) error {
	s, err := b.sock(name)
	if err != nil {
		return err
	}
	p := b.proxies[[2]string{name, ep}]
	if p == nil || s.z == nil {
		return fmt.Errorf("%w: %s", model.ErrNotConnected, ep)
	}
	b.ex.do(func() {
		// The session that zmq_disconnect ends takes the socket's LINGER
		// then, and with the default (-1) it keeps a request queued on a
		// connection that is down for ever, so zmq_ctx_term blocks even
		// after the socket is closed with LINGER 0 (probed; ZMQ_LINGER's
		// documentation names zmq_disconnect). The model destroys what
		// the pipe holds (F22): LINGER 0 for the disconnect, the default
		// again after it.
		if err = s.z.SetLinger(0); err == nil {
			err = s.z.Disconnect(bindAddr(p.port()))
		}
		if err == nil {
			err = s.z.SetLinger(-1)
		}
	})
	if err != nil {
		return errOf("disconnect", err)
	}
	for i, c := range s.connects {
		if c == ep {
			s.connects = append(s.connects[:i:i], s.connects[i+1:]...)
			break
		}
	}
	return nil
}

// routerPeers are the REQs a ROUTER stand-in is linked to, in the order
// the links were made.
func (b *Backend) routerPeers(s *sock) []string {
	var out []string
	seen := map[string]bool{}
	add := func(n string) {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	for _, n := range b.order {
		o := b.socks[n]
		if o == nil || o.kind != model.REQ {
			continue
		}
		for _, c := range o.connects {
			for _, bd := range s.binds {
				if c == bd {
					add(n)
				}
			}
		}
		for _, bd := range o.binds {
			for _, c := range s.connects {
				if c == bd {
					add(n)
				}
			}
		}
	}
	return out
}

// sendFrames sends m as one message without blocking.
func sendFrames(z *zmq.Socket, head []string, m model.Message) error {
	frames := append(append([]string(nil), head...), m...)
	if len(frames) == 0 {
		frames = []string{""}
	}
	for i, f := range frames {
		flag := zmq.DONTWAIT
		if i < len(frames)-1 {
			flag |= zmq.SNDMORE
		}
		if _, err := z.SendBytes([]byte(f), flag); err != nil {
			return err
		}
	}
	return nil
}

// Send implements backend.Backend: one whole message, ZMQ_DONTWAIT.
func (b *Backend) Send(name string, m model.Message) error {
	s, err := b.sock(name)
	if err != nil {
		return err
	}
	if s.z == nil {
		return b.traceErr(s, "send", model.ErrAgain) // a DEALER with no pipe blocks (F11)
	}
	var peer string
	b.drainMonitors()
	connected := b.liveIn[name] > 0
	for key := range b.live {
		connected = connected || key[0] == name
	}
	b.ex.do(func() {
		if s.real != zmq.ROUTER {
			err = sendFrames(s.z, nil, m)
			if zmq.AsErrno(err) == zmq.Errno(syscall.EAGAIN) && connected {
				// The I/O thread may not yet have taken the last message
				// off a full pipe to a live connection; the model's
				// connected pipe drains at once (F18). Only with a live
				// connection: without one, EAGAIN is the answer (F11,
				// F13), and waiting would let a handshake complete.
				p := zmq.NewPoller()
				p.Add(s.z, zmq.POLLOUT)
				if _, perr := p.Poll(SendWait); perr == nil {
					err = sendFrames(s.z, nil, m)
				}
			}
			return
		}
		// A ROUTER knows a new peer only once it has read the peer's
		// routing id, which it does when it processes its commands: a
		// send processes them at most once a millisecond, ZMQ_EVENTS
		// always. The model's DEALER has its pipe at once.
		if _, e := s.z.GetEvents(); e != nil {
			err = e
			return
		}
		err = zmq.Errno(syscall.EAGAIN)
		peers := b.routerPeers(s)
		for i := range peers {
			k := (s.rr + i) % len(peers)
			// Newest incarnation first. A ROUTER that connected keeps the
			// routing id it first read on that connect()'s pipe, whatever
			// the peer says after a reconnect (router.cpp: "assumes that
			// the peer always uses the same routing id").
			rids := b.rids[peers[k]]
			for j := len(rids) - 1; j >= 0; j-- {
				e := sendFrames(s.z, []string{rids[j]}, m)
				if e == nil {
					s.rr, err, peer = k+1, nil, peers[k]
					return
				}
				if no := zmq.AsErrno(e); no != zmq.EHOSTUNREACH && no != zmq.Errno(syscall.EAGAIN) {
					err = e
					return
				}
			}
		}
	})
	time.Sleep(SendGap)
	if err != nil {
		return b.traceErr(s, "send", errOf("send", err))
	}
	switch s.kind {
	case model.REP:
		b.record(trace.Event{Actor: name, Kind: model.EventReply, Msg: m.Text(), HasMsg: true})
	default:
		b.record(trace.Event{Actor: name, Kind: model.EventSend, Msg: m.Text(), HasMsg: true, Peer: peer})
	}
	return nil
}

func (b *Backend) traceErr(s *sock, op string, err error) error {
	b.record(trace.Event{Actor: s.name, Kind: model.EventError, Reason: op + ": " + err.Error()})
	return err
}

// Recv implements backend.Backend: ZMQ_DONTWAIT, and when nothing is
// there, a poll of up to RecvWait and a second try.
func (b *Backend) Recv(name string) (model.Message, error) {
	s, err := b.sock(name)
	if err != nil {
		return nil, err
	}
	if s.z == nil {
		return nil, b.traceErr(s, "recv", model.ErrAgain)
	}
	var frames [][]byte
	b.ex.do(func() {
		frames, err = s.z.RecvMessageBytes(zmq.DONTWAIT)
		if zmq.AsErrno(err) != zmq.Errno(syscall.EAGAIN) || b.wait == 0 {
			return
		}
		p := zmq.NewPoller()
		p.Add(s.z, zmq.POLLIN)
		if _, perr := p.Poll(b.wait); perr != nil {
			err = perr
			return
		}
		frames, err = s.z.RecvMessageBytes(zmq.DONTWAIT)
	})
	if err != nil {
		return nil, b.traceErr(s, "recv", errOf("recv", err))
	}
	if s.real == zmq.ROUTER && len(frames) > 0 {
		frames = frames[1:] // the REQ's routing id
	}
	m := make(model.Message, len(frames))
	for i, f := range frames {
		m[i] = string(f)
	}
	ev := model.EventReceive
	if s.kind == model.REP {
		ev = model.EventDeliver
	}
	b.record(trace.Event{Actor: name, Kind: ev, Msg: m.Text(), HasMsg: true})
	return m, nil
}

// Poll implements backend.Backend with ZMQ_EVENTS; when the socket is not
// readable it polls up to RecvWait for a message first.
func (b *Backend) Poll(name string) (readable, writable bool, err error) {
	s, err := b.sock(name)
	if err != nil {
		return false, false, err
	}
	if s.z == nil {
		return false, false, nil
	}
	var st zmq.State
	b.ex.do(func() {
		st, err = s.z.GetEvents()
		if err != nil || st&zmq.POLLIN != 0 || b.wait == 0 {
			return
		}
		p := zmq.NewPoller()
		p.Add(s.z, zmq.POLLIN)
		if _, err = p.Poll(b.wait); err != nil {
			return
		}
		st, err = s.z.GetEvents()
	})
	if err != nil {
		return false, false, errOf("poll", err)
	}
	return st&zmq.POLLIN != 0, st&zmq.POLLOUT != 0, nil
}

// Advance implements backend.Backend on real time (see AdvanceMin): it
// sleeps, taking monitor events and letting application queues hand
// their heads to their sockets every millisecond.
func (b *Backend) Advance(d time.Duration) error {
	if d >= 50*time.Millisecond {
		d += d / 2
	}
	d = min(max(d, AdvanceMin), AdvanceMax)
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		b.settle()
		time.Sleep(min(time.Millisecond, time.Until(end)))
	}
	b.settle()
	b.waitReconnects(d)
	return nil
}

// waitReconnects waits, up to ConnectWait, for every connection that the
// model would have established within d: a first dial that found its
// endpoint bound (the model's dial takes 2ms), and a reconnect of a
// socket that retries
// (RECONNECT_IVL not -1, no RECONNECT_IVL_MAX backoff) at most every
// d/2, whose endpoint is bound and whose link is not cut. libzmq's
// reconnect timer is RECONNECT_IVL plus up to as much jitter (F23), and
// its handshake comes after that; the model's reconnect is done by then.
func (b *Backend) waitReconnects(d time.Duration) {
	deadline := time.Now().Add(ConnectWait)
	for {
		missing := false
		for key := range b.firstDial {
			if o := b.socks[key[0]]; o == nil || !o.open || b.live[key] {
				delete(b.firstDial, key)
				continue
			}
			missing = true
		}
		for key := range b.proxies {
			s := b.socks[key[0]]
			if s == nil || !s.open || !slices.Contains(s.connects, key[1]) || b.live[key] || b.gaveUp[key] {
				continue
			}
			ivl := s.opts.ReconnectIvl
			if ivl == 0 {
				ivl = model.DefaultReconnectIvl
			}
			if ivl < 0 || s.opts.ReconnectIvlMax != 0 || 2*ivl > d {
				continue
			}
			b.mu.Lock()
			bound, cut := b.binder[key[1]], b.cut[link(key[0], b.binder[key[1]])]
			b.mu.Unlock()
			if bound != "" && !cut && b.compatible(s, b.socks[bound]) {
				missing = true
			}
		}
		if !missing || time.Now().After(deadline) {
			return
		}
		time.Sleep(time.Millisecond)
		b.settle()
	}
}

// compatible reports whether libzmq completes a handshake between the
// two sockets (ZMTP's socket-type pairs for REQ, REP, DEALER, ROUTER).
func (b *Backend) compatible(s, o *sock) bool {
	if o == nil || !o.open || !s.typed || !o.typed {
		return false
	}
	ok := map[zmq.Type][]zmq.Type{
		zmq.REQ:    {zmq.REP, zmq.ROUTER},
		zmq.REP:    {zmq.REQ, zmq.DEALER},
		zmq.DEALER: {zmq.REP, zmq.DEALER, zmq.ROUTER},
		zmq.ROUTER: {zmq.REQ, zmq.DEALER, zmq.ROUTER},
	}
	return slices.Contains(ok[s.real], o.real)
}

// settle takes the monitors' events and flushes the application queues.
func (b *Backend) settle() {
	b.drainMonitors()
	b.flushQueues()
}

func (b *Backend) drainMonitors() {
	for _, n := range b.order {
		if s := b.socks[n]; s != nil && s.open && s.mon != nil {
			b.drain(s)
		}
	}
}

// drain turns s's pending monitor events into trace events: connect (a
// ZMTP handshake succeeded), disconnect and retry (F23), with the peer's
// script name when s connected to it.
func (b *Backend) drain(s *sock) {
	type mev struct {
		ev    zmq.Event
		addr  string
		value int
	}
	var got []mev
	b.ex.do(func() {
		for {
			ev, addr, v, err := s.mon.RecvEvent(zmq.DONTWAIT)
			if err != nil {
				return
			}
			got = append(got, mev{ev, addr, v})
		}
	})
	for _, e := range got {
		peer, ep := b.peerOf(s, e.addr)
		switch e.ev {
		case zmq.EVENT_HANDSHAKE_SUCCEEDED:
			if ep != "" {
				b.live[[2]string{s.name, ep}] = true
				delete(b.firstDial, [2]string{s.name, ep})
			} else {
				b.liveIn[s.name]++
			}
			b.record(trace.Event{Actor: s.name, Kind: model.EventConnect, Peer: peer})
		case zmq.EVENT_DISCONNECTED:
			if ep != "" {
				delete(b.live, [2]string{s.name, ep})
			} else if b.liveIn[s.name] > 0 {
				b.liveIn[s.name]--
			}
			b.record(trace.Event{Actor: s.name, Kind: model.EventDisconnect, Peer: peer})
		case zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL:
			// A connect() whose session found a protocol error in the
			// handshake ends for good (session_base.cpp, engine_error):
			// here a REP whose stalled handshake took a message for a
			// command (F21). waitReconnects no longer waits for it.
			if ep != "" {
				b.gaveUp[[2]string{s.name, ep}] = true
			}
		case zmq.EVENT_CONNECT_RETRIED:
			b.record(trace.Event{Actor: s.name, Kind: model.EventRetry, Peer: ep,
				Reason: fmt.Sprintf("reconnect in %dms", e.value)})
		}
	}
}

// peerOf names the other end of a monitor event's address: for a
// connection s made, the endpoint and the socket bound there.
func (b *Backend) peerOf(s *sock, addr string) (peer, ep string) {
	for key, p := range b.proxies {
		if key[0] == s.name && addr == bindAddr(p.port()) {
			return b.binderOf(key[1]), key[1]
		}
	}
	return "", ""
}

// closeSock closes s's socket and monitor (LINGER 0: nothing waits).
func (b *Backend) closeSock(s *sock) error {
	if s.mon != nil {
		b.drain(s)
	}
	var err error
	b.ex.do(func() {
		if s.z != nil {
			// LINGER 0 only now: it is all zmq_ctx_term needs, and until
			// the close the socket keeps libzmq's default, as users'
			// sockets do (a socket's sessions take its LINGER when they
			// end their pipes, session_base.cpp, process_term).
			if err = s.z.SetLinger(0); err == nil {
				err = s.z.Close()
			}
		}
		if s.mon != nil {
			s.mon.Close()
		}
	})
	s.z, s.mon, s.open = nil, nil, false
	delete(b.liveIn, s.name)
	for key := range b.gaveUp {
		if key[0] == s.name {
			delete(b.gaveUp, key)
		}
	}
	for key := range b.firstDial {
		if key[0] == s.name || b.binderOf(key[1]) == s.name {
			delete(b.firstDial, key)
		}
	}
	b.mu.Lock()
	for ep, n := range b.binder {
		if n == s.name {
			delete(b.binder, ep)
		}
	}
	b.mu.Unlock()
	if err != nil {
		return fmt.Errorf("%w: libzmq: zmq_close: %v", backend.ErrBackend, err)
	}
	return b.openProxies()
}

// Crash implements backend.Backend: close with LINGER 0 (see Backend).
func (b *Backend) Crash(name string) error {
	s, err := b.sock(name)
	if err != nil {
		return err
	}
	b.record(trace.Event{Actor: name, Kind: model.EventCrash})
	return b.closeAndWait(s)
}

// DownWait bounds how long a crash, close or cut waits for the peers'
// monitors to report the connections it ended.
const DownWait = 2 * time.Second

// closeAndWait closes s and waits, up to DownWait, until every socket
// that was connected to it has seen its connection end. libzmq learns of
// a dead peer from the TCP connection, a little after the model does;
// without the wait, a request sent in between goes out on the dead
// connection and is lost (F22) where the model keeps it in the pipe
// (F21).
func (b *Backend) closeAndWait(s *sock) error {
	eps := append([]string(nil), s.binds...)
	name := s.name
	// The bound sockets s is connected to, and how many connections each
	// should have left once s's are gone.
	b.drainMonitors()
	target := map[string]int{}
	for key := range b.live {
		if key[0] == name {
			if bd := b.binderOf(key[1]); bd != "" {
				if _, ok := target[bd]; !ok {
					target[bd] = b.liveIn[bd]
				}
				target[bd]--
			}
		}
	}
	err := b.closeSock(s)
	b.waitDown(func(key [2]string) bool {
		return key[0] == name || slices.Contains(eps, key[1])
	})
	deadline := time.Now().Add(DownWait)
	for bd, n := range target {
		for b.liveIn[bd] > n && time.Now().Before(deadline) {
			if o := b.socks[bd]; o == nil || !o.open {
				break
			}
			time.Sleep(time.Millisecond)
			b.drainMonitors()
		}
	}
	return err
}

// waitDown waits, up to DownWait, until no live connection matches.
func (b *Backend) waitDown(match func(key [2]string) bool) {
	deadline := time.Now().Add(DownWait)
	for {
		b.drainMonitors()
		up := false
		for key := range b.live {
			if key[0] == "" || !match(key) {
				continue
			}
			if o := b.socks[key[0]]; o == nil || !o.open {
				delete(b.live, key)
				continue
			}
			up = true
		}
		if !up || time.Now().After(deadline) {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// Close implements backend.Backend.
func (b *Backend) Close(name string) error {
	s, err := b.sock(name)
	if err != nil {
		return err
	}
	return b.closeAndWait(s)
}

// Restart implements backend.Backend: a new socket of the same type and
// options binds the same ports (retrying EADDRINUSE) and connects the
// same endpoints.
func (b *Backend) Restart(name string) error {
	old := b.socks[name]
	if old == nil {
		return fmt.Errorf("%w: %q", model.ErrNoSocket, name)
	}
	if old.open {
		return fmt.Errorf("%w: %q is still open", model.ErrExists, name)
	}
	s := &sock{name: name, kind: old.kind, opts: old.opts, real: old.real, typed: old.typed, open: true,
		binds: old.binds, connects: old.connects}
	if s.typed {
		if err := b.realise(s); err != nil {
			return err
		}
	}
	b.socks[name] = s
	b.record(trace.Event{Actor: name, Kind: model.EventRestart, Peer: strings.Join(append(append([]string(nil), s.binds...), s.connects...), " ")})
	for _, ep := range s.binds {
		if err := b.bind(s, ep, true); err != nil {
			return err
		}
	}
	for _, ep := range s.connects {
		if err := b.connect(s, ep); err != nil {
			return err
		}
	}
	return nil
}

func link(a, c string) [2]string {
	if a > c {
		a, c = c, a
	}
	return [2]string{a, c}
}

// linkProxies are the proxies that carry connections between a and c.
func (b *Backend) linkProxies(a, c string) []*proxy {
	var out []*proxy
	for key, p := range b.proxies {
		if link(key[0], b.binderOf(key[1])) == link(a, c) {
			out = append(out, p)
		}
	}
	return out
}

// Cut implements backend.Backend: the proxies between a and c drop their
// connections and refuse new ones until Heal.
func (b *Backend) Cut(a, c string) error {
	b.mu.Lock()
	b.cut[link(a, c)] = true
	b.mu.Unlock()
	b.record(trace.Event{Actor: a, Kind: model.EventCut, Peer: c})
	for key := range b.firstDial {
		if link(key[0], b.binderOf(key[1])) == link(a, c) {
			delete(b.firstDial, key)
		}
	}
	if err := b.openProxies(); err != nil {
		return err
	}
	for _, p := range b.linkProxies(a, c) {
		p.drop()
	}
	b.waitDown(func(key [2]string) bool { return link(key[0], b.binderOf(key[1])) == link(a, c) })
	return nil
}

// Heal implements backend.Backend: the next reconnect gets through.
func (b *Backend) Heal(a, c string) error {
	b.mu.Lock()
	delete(b.cut, link(a, c))
	b.mu.Unlock()
	b.record(trace.Event{Actor: a, Kind: model.EventHeal, Peer: c})
	return b.openProxies()
}

// Enqueue implements backend.Queuer: the Node binding's queue in front of
// a socket (F24), whose head is handed to the socket whenever ZMQ_EVENTS
// says it can send.
func (b *Backend) Enqueue(name string, m model.Message) (int, error) {
	if _, err := b.sock(name); err != nil {
		return 0, err
	}
	q := b.queues[name]
	if q == nil {
		q = &appQueue{}
		b.queues[name] = q
		b.qorder = append(b.qorder, name)
	}
	q.items = append(q.items, append(model.Message(nil), m...))
	mark, at := len(b.events), b.Now()
	sent := b.flushOne(name, q)
	// As the Node client prints it, and the simulator traces it: the
	// queue's length after the first hand-over, before the send's line.
	e := trace.Event{At: at, Actor: name, Kind: model.EventEnqueue, Msg: m.Text(), HasMsg: true, Queue: len(q.items), HasQueue: true}
	b.events = slices.Insert(b.events, mark, e)
	if sent {
		b.flushQueues()
	}
	return len(q.items), nil
}

// Queue implements backend.Queuer.
func (b *Backend) Queue(name string) ([]model.Message, error) {
	if q := b.queues[name]; q != nil {
		return append([]model.Message(nil), q.items...), nil
	}
	return nil, nil
}

func (b *Backend) flushQueues() {
	for _, n := range b.qorder {
		for b.flushOne(n, b.queues[n]) {
		}
	}
}

// flushOne hands q's head to the socket if it is writable.
func (b *Backend) flushOne(name string, q *appQueue) bool {
	s := b.socks[name]
	if len(q.items) == 0 || s == nil || !s.open || s.z == nil {
		return false
	}
	var err error
	b.ex.do(func() {
		var st zmq.State
		if st, err = s.z.GetEvents(); err == nil {
			if st&zmq.POLLOUT == 0 {
				err = zmq.Errno(syscall.EAGAIN)
				return
			}
			err = sendFrames(s.z, nil, q.items[0])
		}
	})
	if err != nil {
		return false
	}
	m := q.items[0]
	q.items = q.items[1:]
	b.record(trace.Event{Actor: name, Kind: model.EventSend, Msg: m.Text(), HasMsg: true, Queue: len(q.items), HasQueue: true})
	return true
}

// ErrTermHang is reported by Shutdown when zmq_ctx_term does not return
// within TermBound although every socket was closed with LINGER 0: a
// finding about libzmq, not a wait without end.
var ErrTermHang = errors.New("libzmq: zmq_ctx_term did not return")

// Shutdown implements backend.Backend: it closes every socket and proxy
// and terminates the context behind a watchdog (TermBound).
func (b *Backend) Shutdown() error {
	if b.ctx == nil {
		return nil
	}
	var errs []error
	for _, n := range b.order {
		if s := b.socks[n]; s != nil && s.open {
			if err := b.closeSock(s); err != nil {
				errs = append(errs, err)
			}
		}
	}
	for _, p := range b.proxies {
		p.close()
	}
	ctx := b.ctx
	b.ctx = nil
	done := make(chan error, 1)
	go func() { done <- ctx.Term() }()
	t := time.NewTimer(TermBound)
	defer t.Stop()
	select {
	case err := <-done:
		if err != nil {
			errs = append(errs, fmt.Errorf("%w: libzmq: zmq_ctx_term: %v", backend.ErrBackend, err))
		}
	case <-t.C:
		errs = append(errs, fmt.Errorf("%w: %w within %v with every socket closed (LINGER 0)", backend.ErrBackend, ErrTermHang, TermBound))
	}
	b.ex.stop()
	return errors.Join(errs...)
}

// Version is the version of the libzmq the package is linked with,
// "MAJOR.MINOR.PATCH".
func Version() string {
	major, minor, patch := zmq.Version()
	return fmt.Sprintf("%d.%d.%d", major, minor, patch)
}
