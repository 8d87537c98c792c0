package realnet

import (
	"context"
	"errors"
	"fmt"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/go-zeromq/zmq4"

	"github.com/zeromq-lockstep/lockstep/backend"
	"github.com/zeromq-lockstep/lockstep/model"
	"github.com/zeromq-lockstep/lockstep/simnet"
	"github.com/zeromq-lockstep/lockstep/trace"
)

// Timing of the zmq4 backend for scripts. Scripts are written for virtual
// time; on real sockets over loopback TCP a message takes microseconds,
// so:
//
//   - advance D sleeps for D clamped to ZMQ4SettleMin..ZMQ4SettleMax: long
//     enough for messages to settle, never the seconds a script advances
//     for a reconnect (zmq4 does not reconnect on its own anyway, F23).
//   - send pauses ZMQ4SendGap afterwards, so that messages sent one after
//     another by different sockets reach a peer in that order (REP serves
//     in arrival order, and back-to-back sends would race).
//   - recv waits up to ZMQ4RecvWait for a message, then says EAGAIN.
const (
	ZMQ4SettleMin = 5 * time.Millisecond
	ZMQ4SettleMax = 50 * time.Millisecond
	ZMQ4SendGap   = 3 * time.Millisecond
	ZMQ4RecvWait  = 150 * time.Millisecond
	// zmq4CallBound bounds every other zmq4 call (bind, connect, send,
	// close); a call that overruns it is a hang.
	zmq4CallBound = DefaultBound
)

func init() {
	backend.Register("zmq4", func() (backend.Backend, error) { return NewBackend(), nil })
}

// Backend is the "zmq4" backend: real github.com/go-zeromq/zmq4 sockets
// through [Sockets], the one wrapper of zmq4, over 127.0.0.1 or a simnet
// network. [NewBackend] makes it for scripts, [Run] for a scenario.
//
// Endpoints: a script's endpoint (tcp://server:5454) is only a name. On
// TCP the first bind or connect that uses it gets a free port on
// 127.0.0.1 (or the port Config.Ports gives the server that binds it),
// and every later use of the name means that port, so a connect may come
// before the bind, and a restart binds the same port again. On simnet the
// binding socket's host binds the endpoint's port, and the connecting
// socket's host dials it.
//
// DEALER sockets are zmq4's DEALER, a raw peer of REP. Facing a REQ the
// scripts' DEALER stands for a ROUTER, which ZMTP requires and zmq4
// enforces: such a connect is unsupported.
//
// What zmq4 lacks is backend.ErrUnsupported, which makes a script not
// applicable: the options correlate, relaxed, immediate, sndhwm, rcvhwm,
// reconnect-ivl, reconnect-ivl-max (zmq4 has none of them, ZMQ4-FINDINGS
// "Options zmq4 does not have"), poll (no poller, F3), disconnect (no such
// call), cut and heal, and the optional interfaces state and choose.
// Events are the calls' results only (Observes is false): what zmq4 does
// inside is not seen, though a REQ whose receive fails is traced as
// having lost its request, or the reply its server sent (F22).
//
// Receiving: zmq4 has no non-blocking receive and a Recv call cannot be
// cancelled except by closing the socket (ZMQ4-FINDINGS H4, H6). The
// backend does what an application that bounds zmq4's Recv with a
// goroutine does: a receive (or a Wait) starts a zmq4 Recv call, or goes
// on waiting for the one already outstanding; a script's recv waits up
// to ZMQ4RecvWait and prints EAGAIN when nothing came, and the call stays
// outstanding for the next recv. Such a call reads the connection of the
// request it was made after (REQ), or takes the next request as soon as
// it arrives (REP); a send made in between cannot redirect it. Closing
// the socket ends the call. Wait starts one on a REQ only while it awaits
// a reply: an idle REQ's call would steal the next reply (H6).
//
// Connecting: for scripts the backend dials once
// (WithDialerMaxRetries(0)): a script's commands run one after another,
// so nothing can bind while a connect waits, and a connect to an
// endpoint nobody binds fails at once with ECONNREFUSED. A scenario keeps
// zmq4's own retries (10, 250ms apart, F23); on simnet its clients dial
// in the background, as a program whose Dial blocks while its timers run
// on, and send once their dials have returned. zmq4's automatic reconnect
// stays off (it deadlocks or loses requests, ZMQ4-FINDINGS H2, H3).
//
// crash is close: zmq4 cannot die differently from a clean close
// (ZMQ4-FINDINGS F19); on simnet the host crashes first (connections
// reset, bytes in flight lost, F22). restart opens a new socket of that
// name and binds and dials what the old one had.
//
// Every zmq4 call is bounded; a panic in zmq4 (ZMQ4-FINDINGS H1) is
// recovered and traced as a panic; a call that does not return within
// its bound closes the socket, is traced as a hang and the name is free
// again. A scenario's REQ that awaits a reply while nothing can answer it
// (no server holds its request, no reply is on its way) for longer than
// the bound is hung the same way, and gets a fresh socket. Shutdown
// closes every socket and waits for every goroutine the backend started.
// A Backend is used by one goroutine.
type Backend struct {
	cfg      Config
	script   bool // made by NewBackend: the script timings above
	direct   bool // made by NewBackendOn: a test's own calls
	socks    *Sockets
	clk      clock.Clock
	mock     *clock.Mock
	start    time.Time
	recvWait time.Duration
	sendGap  time.Duration

	mu    sync.Mutex        // guards the maps of endpoints, which errors read
	ports map[string]int    // script endpoint -> port on 127.0.0.1
	names map[string]string // "127.0.0.1:PORT" -> script endpoint, for errors
	real  map[string]string // script endpoint -> the endpoint bound

	binder  map[string]string // script endpoint -> the socket that binds it
	sockets map[string]*zsock
	queues  map[string]*[]model.Message
	qorder  []string
	events  []trace.Event

	// What the scenario's messages are doing, for the trace's losses and
	// for a mock clock's "nothing is due" (settled).
	repliesInTransit int
	replied          map[string]string // request -> the reply sent for it, until read
	lost             map[string]bool
	unsettledSince   time.Time

	wg    sync.WaitGroup // goroutines of calls, outstanding or abandoned
	woken chan struct{}  // signalled when a call outstanding returns
	done  chan func()    // results of background dials, for the driver
	stop  chan struct{}
}

type zsock struct {
	name     string
	kind     model.SocketType
	binds    []string
	connects []string
	open     bool
	gen      int          // incremented by every close: older calls' results are void
	pending  chan zresult // an outstanding Recv call, nil when none
	// arrived is the outstanding call's result, taken by Wait and not
	// yet returned by Recv.
	arrived  *zresult
	dialing  int           // background dials not yet returned (simnet)
	lastDial chan struct{} // closed when the last dial started returns
	// A REQ's request on its way, from send to the end of its receive.
	awaiting bool
	request  string
	// A REP's request held, from its receive to its reply.
	holding  bool
	held     string
	heldFrom string
}

type zresult struct {
	m   model.Message
	err error
}

// NewBackend returns an empty zmq4 backend for scripts, on loopback TCP
// in real time.
func NewBackend() *Backend {
	b := newBackend(Config{Bound: zmq4CallBound})
	b.script = true
	b.recvWait, b.sendGap = ZMQ4RecvWait, ZMQ4SendGap
	// REP Send honours WithTimeout (H12); a dial is tried once.
	b.socks.Options = []zmq4.Option{zmq4.WithDialerMaxRetries(0), zmq4.WithTimeout(zmq4CallBound / 2)}
	return b
}

// NewBackendOn returns an empty zmq4 backend for a program that makes its
// own calls, as the differential property does: on network n (loopback
// TCP when nil), every call bounded by bound (DefaultBound when zero),
// dials synchronous, and a REQ that waits in vain left as it is, for
// the caller to judge; time is real, or n's virtual time in its bubble.
func NewBackendOn(n *simnet.Network, bound time.Duration) *Backend {
	b := newBackend(Config{Net: n, Bound: bound})
	b.direct = true
	return b
}

func newBackend(cfg Config) *Backend {
	if cfg.Bound <= 0 {
		cfg.Bound = DefaultBound
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.New()
	}
	b := &Backend{
		cfg:     cfg,
		socks:   NewSockets(cfg.Bound),
		clk:     cfg.Clock,
		ports:   map[string]int{},
		names:   map[string]string{},
		real:    map[string]string{},
		binder:  map[string]string{},
		sockets: map[string]*zsock{},
		queues:  map[string]*[]model.Message{},
		replied: map[string]string{},
		lost:    map[string]bool{},
		woken:   make(chan struct{}, 1),
		done:    make(chan func(), 64),
		stop:    make(chan struct{}),
	}
	b.mock, _ = cfg.Clock.(*clock.Mock)
	b.socks.OnIncident = func(string, *CallError) {} // traced by the caller
	b.start = b.clk.Now()
	return b
}

// Observes reports false: the zmq4 backend sees only the results of calls.
func (b *Backend) Observes() bool { return false }

// Now is the time since the backend started: real, the mock clock's, or
// simnet's virtual time in its bubble.
func (b *Backend) Now() time.Duration { return b.clk.Now().Sub(b.start) }

func (b *Backend) record(e trace.Event) {
	e.At = b.Now()
	b.events = append(b.events, e)
}

// Events implements backend.Backend: the calls' results and what they
// tell of losses. The buffer is reused.
func (b *Backend) Events() []trace.Event {
	b.completions()
	e := b.events
	clear(b.events[len(b.events):cap(b.events)])
	b.events = b.events[:0]
	return e
}

// traceErr traces a failed call.
func (b *Backend) traceErr(name string, err error) {
	var ce *CallError
	if errors.As(err, &ce) {
		b.record(ce.TraceEvent(name))
		return
	}
	b.record(trace.Event{Actor: name, Kind: model.EventError, Reason: err.Error()})
}

func unsupported(what string) error {
	return fmt.Errorf("%w: %s (zmq4 backend)", backend.ErrUnsupported, what)
}

// Open opens a zmq4 REQ, REP or DEALER socket.
func (b *Backend) Open(name string, kind model.SocketType, o model.Options) error {
	for _, opt := range []struct {
		set  bool
		name string
	}{
		{o.ReqCorrelate, "correlate"}, {o.ReqRelaxed, "relaxed"}, {o.Immediate, "immediate"},
		{o.SndHWM != 0, "sndhwm"}, {o.RcvHWM != 0, "rcvhwm"},
		{o.ReconnectIvl != 0, "reconnect-ivl"}, {o.ReconnectIvlMax != 0, "reconnect-ivl-max"},
	} {
		if opt.set {
			return unsupported("option " + opt.name + ": zmq4 has no such option")
		}
	}
	if s := b.sockets[name]; s != nil && s.open {
		return fmt.Errorf("%w: %q", model.ErrExists, name)
	}
	if err := b.socks.Open(name, kind); err != nil {
		return err
	}
	s := b.sockets[name]
	if s == nil {
		s = &zsock{name: name}
		b.sockets[name] = s
	}
	s.kind, s.open = kind, true
	s.binds, s.connects = nil, nil
	return nil
}

func (b *Backend) sock(name string) (*zsock, error) {
	s := b.sockets[name]
	if s == nil || !s.open {
		return nil, fmt.Errorf("%w: %q", model.ErrNoSocket, name)
	}
	return s, nil
}

// port returns the port of a script endpoint, choosing a free one on
// first use.
func (b *Backend) port(ep string) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if p, ok := b.ports[ep]; ok {
		return p, nil
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("%w: no free port: %v", backend.ErrBackend, err)
	}
	p := l.Addr().(*net.TCPAddr).Port
	l.Close()
	b.setPort(ep, p)
	return p, nil
}

func (b *Backend) setPort(ep string, p int) {
	b.ports[ep] = p
	b.names["127.0.0.1:"+strconv.Itoa(p)] = strings.TrimPrefix(ep, "tcp://")
}

// endpointPort is the port of a scenario's endpoint (tcp://server:5454),
// or 5454 when it names none.
func endpointPort(ep string) int {
	_, hp, _ := strings.Cut(ep, "://")
	if _, p, err := net.SplitHostPort(hp); err == nil {
		if n, err := strconv.Atoi(p); err == nil {
			return n
		}
	}
	return 5454
}

// bindEndpoint is the real endpoint socket name binds for ep.
func (b *Backend) bindEndpoint(name, ep string) (string, error) {
	if n := b.cfg.Net; n != nil {
		return n.Host(name).Bind(endpointPort(ep)), nil
	}
	p, ok := b.cfg.Ports[name]
	if !ok && b.cfg.FirstPort != 0 {
		p, ok = b.cfg.FirstPort+len(b.binder), true
	}
	if ok {
		b.mu.Lock()
		if _, set := b.ports[ep]; !set {
			b.setPort(ep, p)
		}
		b.mu.Unlock()
	}
	p, err := b.port(ep)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("tcp://127.0.0.1:%d", p), nil
}

// dialEndpoint is the real endpoint socket name dials for ep.
func (b *Backend) dialEndpoint(name, ep string) (string, error) {
	if n := b.cfg.Net; n != nil {
		real := b.real[ep]
		if real == "" {
			real = n.Host(b.binderName(ep)).Bind(endpointPort(ep))
		}
		_, hp, _ := strings.Cut(real, "://")
		return n.Host(name).Connect(hp), nil
	}
	p, err := b.port(ep)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("tcp://127.0.0.1:%d", p), nil
}

// binderName is the socket that binds ep, or the endpoint's host.
func (b *Backend) binderName(ep string) string {
	if n := b.binder[ep]; n != "" {
		return n
	}
	_, hp, _ := strings.Cut(ep, "://")
	host, _, err := net.SplitHostPort(hp)
	if err != nil {
		return hp
	}
	return host
}

var hostPort = regexp.MustCompile(`127\.0\.0\.1:[0-9]+`)

// stable maps a failed call to a model error when one fits (MapError)
// and otherwise to text without ports or times, so that a script's
// output is the same on every run.
func (b *Backend) stable(op string, err error) error {
	if err == nil {
		return nil
	}
	var ce *CallError
	if errors.As(err, &ce) {
		switch {
		case ce.Panic != nil:
			return fmt.Errorf("%s: panic in zmq4: %v", op, ce.Panic)
		case ce.Hang > 0:
			return fmt.Errorf("%s: hang: no return within %v; socket closed", op, ce.Hang)
		case ce.Model != nil:
			return ce.Model
		}
		err = ce.Err
	}
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("ECONNREFUSED (%s: connection refused)", op)
	case errors.Is(err, context.Canceled), errors.Is(err, net.ErrClosed):
		return fmt.Errorf("%s: socket closed", op)
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%s: timed out after %v (zmq4 WithTimeout)", op, zmq4CallBound/2)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	text := hostPort.ReplaceAllStringFunc(err.Error(), func(hp string) string {
		if n, ok := b.names[hp]; ok {
			return n
		}
		return "127.0.0.1:PORT"
	})
	if !strings.HasPrefix(text, "zmq4: ") {
		text = "zmq4: " + text
	}
	return fmt.Errorf("%s: %s", op, text)
}

// failed traces a failed call and returns what the caller sees: for a
// script, stable text; for a scenario, the call's error.
func (b *Backend) failed(name, op string, err error) error {
	b.traceErr(name, err)
	var ce *CallError
	if errors.As(err, &ce) && ce.Hang > 0 {
		b.forget(name)
	}
	if b.script {
		return b.stable(op, err)
	}
	return err
}

// Bind listens on the endpoint (see Backend).
func (b *Backend) Bind(name, ep string) error {
	s, err := b.sock(name)
	if err != nil {
		return err
	}
	real, err := b.bindEndpoint(name, ep)
	if err != nil {
		return err
	}
	got, err := b.socks.Bind(name, real)
	if err != nil {
		return b.failed(name, "bind", err)
	}
	s.binds = append(s.binds, ep)
	b.binder[ep] = name
	b.real[ep] = got
	return nil
}

// Connect dials the endpoint (see Backend).
func (b *Backend) Connect(name, ep string) error {
	s, err := b.sock(name)
	if err != nil {
		return err
	}
	real, err := b.dialEndpoint(name, ep)
	if err != nil {
		return err
	}
	s.connects = append(s.connects, ep)
	if b.cfg.Net != nil && !b.script && !b.direct {
		b.dialLater(s, ep, real)
		return nil
	}
	if err := b.socks.Connect(name, real); err != nil {
		s.connects = s.connects[:len(s.connects)-1]
		var ce *CallError
		if errors.As(err, &ce) && strings.Contains(fmt.Sprint(ce.Err), "not compatible with") {
			// The scripts' DEALER is a raw peer; facing a REQ it stands
			// for a ROUTER, and ZMTP (libzmq too) does not pair REQ with
			// DEALER.
			return unsupported("a DEALER facing a REQ: ZMTP pairs REQ only with REP and ROUTER, and zmq4 enforces it")
		}
		return b.failed(name, "connect", err)
	}
	b.record(trace.Event{Actor: name, Kind: model.EventConnect, Peer: b.binderName(ep)})
	return nil
}

// dialLater dials on a goroutine of its own, after the socket's earlier
// dials (F8's order): zmq4 dials synchronously and retries a refused dial
// (10 times, 250ms apart, F23), and a scenario's timers, a crash at 0s
// or a restart, must not wait for that.
func (b *Backend) dialLater(s *zsock, ep, real string) {
	prev, done := s.lastDial, make(chan struct{})
	s.lastDial = done
	s.dialing++
	gen, name := s.gen, s.name
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		defer close(done)
		if prev != nil {
			<-prev
		}
		err := b.socks.Connect(name, real)
		b.post(func() {
			if s.gen != gen {
				return // a dial of a socket closed since
			}
			s.dialing--
			if err != nil {
				b.dialFailed(name, err)
			} else {
				b.record(trace.Event{Actor: name, Kind: model.EventConnect, Peer: b.binderName(ep)})
			}
			b.flush(name)
		})
	}()
}

// dialFailed traces a background dial that zmq4 gave up on. A dial
// refused through all its retries reads "connect: connection refused",
// as the simulator's dialer has it (Profile.ConnectBlocks); zmq4's text
// names the network's scheme and is kept as detail.
func (b *Backend) dialFailed(name string, err error) {
	var ce *CallError
	if errors.As(err, &ce) && ce.Model == nil && ce.Panic == nil && ce.Hang == 0 && errors.Is(err, syscall.ECONNREFUSED) {
		b.record(trace.Event{Actor: name, Kind: model.EventError,
			Reason: fmt.Sprintf("connect: %v [%v]", syscall.ECONNREFUSED, ce.Err)})
		return
	}
	b.traceErr(name, err)
}

// post hands a goroutine's result to the driver, which runs it in
// completions.
func (b *Backend) post(f func()) {
	select {
	case b.done <- f:
		b.wake()
	case <-b.stop:
	}
}

func (b *Backend) wake() {
	select {
	case b.woken <- struct{}{}:
	default:
	}
}

// completions runs the results that goroutines posted.
func (b *Backend) completions() {
	for {
		select {
		case f := <-b.done:
			f()
		default:
			return
		}
	}
}

// Disconnect is unsupported: zmq4 has no disconnect call.
func (b *Backend) Disconnect(name, ep string) error {
	return unsupported("disconnect: zmq4 has no such call")
}

// Send sends the body; REQ adds the delimiter, REP the stored envelope.
func (b *Backend) Send(name string, m model.Message) error {
	s, err := b.sock(name)
	if err != nil {
		return err
	}
	err = b.socks.Send(name, m)
	if b.sendGap > 0 {
		time.Sleep(b.sendGap)
	}
	if err != nil {
		if s.kind == model.REP {
			s.holding = false
		}
		return b.failed(name, "send", err)
	}
	b.sent(s, m, -1)
	return nil
}

// sent traces a message on its way; queue is the application queue's
// length after it, or -1.
func (b *Backend) sent(s *zsock, m model.Message, queue int) {
	text := m.Text()
	switch s.kind {
	case model.REQ:
		s.awaiting, s.request = true, text
		e := trace.Event{Actor: s.name, Kind: model.EventSend, Msg: text, HasMsg: true}
		e.Queue, e.HasQueue = queue, queue >= 0
		b.record(e)
	case model.REP:
		b.record(trace.Event{Actor: s.name, Kind: model.EventReply, Msg: text, HasMsg: true, Peer: s.heldFrom})
		if s.holding {
			b.repliesInTransit++
			b.replied[s.held] = text
		}
		s.holding, s.held, s.heldFrom = false, "", ""
	default:
		b.record(trace.Event{Actor: s.name, Kind: model.EventSend, Msg: text, HasMsg: true})
	}
}

// outstanding starts a zmq4 Recv call on s unless one is outstanding.
func (b *Backend) outstanding(s *zsock) {
	if s.pending != nil || s.arrived != nil {
		return
	}
	ch := make(chan zresult, 1)
	s.pending = ch
	name := s.name
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		m, err := b.socks.recvUnbounded(name)
		ch <- zresult{m, err}
		b.wake()
	}()
}

// take moves an outstanding call's result, if it has come, to arrived.
func (b *Backend) take(s *zsock) bool {
	if s.arrived != nil {
		return true
	}
	if s.pending == nil {
		return false
	}
	select {
	case r := <-s.pending:
		s.pending, s.arrived = nil, &r
		return true
	default:
		return false
	}
}

// Recv returns the socket's outstanding zmq4 Recv call's result, starting
// a call if there is none; a script's recv waits up to ZMQ4RecvWait for
// it (see Backend).
func (b *Backend) Recv(name string) (model.Message, error) {
	s, err := b.sock(name)
	if err != nil {
		return nil, err
	}
	b.outstanding(s)
	if !b.take(s) && b.recvWait > 0 {
		t := time.NewTimer(b.recvWait)
		select {
		case r := <-s.pending:
			s.pending, s.arrived = nil, &r
		case <-t.C:
		}
		t.Stop()
	}
	r := s.arrived
	if r == nil {
		return nil, model.ErrAgain
	}
	s.arrived = nil
	if r.err != nil {
		if s.kind == model.REQ && errors.Is(r.err, model.ErrPeerGone) {
			b.record(trace.Event{Actor: s.name, Kind: model.EventDisconnect, Reason: "EOF"})
		}
		err := b.failed(name, "recv", r.err)
		b.recvFailed(s)
		return nil, err
	}
	b.received(s, r.m)
	return r.m, nil
}

// received traces a message read.
func (b *Backend) received(s *zsock, m model.Message) {
	text := m.Text()
	switch s.kind {
	case model.REP:
		s.holding, s.held, s.heldFrom = true, text, ""
		// REP hides who sent a request; name the client when only one
		// awaits this payload.
		var from *zsock
		ambiguous := false
		for _, c := range b.sockets {
			if c.open && c.awaiting && c.request == text {
				ambiguous = from != nil
				from = c
			}
		}
		if from != nil && !ambiguous {
			s.heldFrom = from.name
		}
		b.record(trace.Event{Actor: s.name, Kind: model.EventDeliver, Msg: text, HasMsg: true, Peer: s.heldFrom})
	case model.REQ:
		if s.awaiting {
			b.repliesInTransit = max(b.repliesInTransit-1, 0)
			delete(b.replied, s.request)
		}
		s.awaiting, s.request = false, ""
		e := trace.Event{Actor: s.name, Kind: model.EventReceive, Msg: text, HasMsg: true}
		if q := b.queues[s.name]; q != nil {
			e.Queue, e.HasQueue = len(*q), true
		}
		b.record(e)
		defer b.flush(s.name)
	default:
		b.record(trace.Event{Actor: s.name, Kind: model.EventReceive, Msg: text, HasMsg: true})
	}
}

// recvFailed traces what a REQ's failed receive lost: the reply its
// server had sent, if one had, else its request (F19, F22).
func (b *Backend) recvFailed(s *zsock) {
	if s.kind != model.REQ {
		return
	}
	if s.awaiting {
		if rep, ok := b.replied[s.request]; ok {
			delete(b.replied, s.request)
			b.repliesInTransit = max(b.repliesInTransit-1, 0)
			if !b.lost[rep] {
				b.lost[rep] = true
				b.record(trace.Event{Actor: s.name, Kind: model.EventDrop, Msg: rep, HasMsg: true, Reason: "reply lost with its connection"})
			}
		} else if !b.lost[s.request] {
			b.lost[s.request] = true
			b.record(trace.Event{Actor: s.name, Kind: model.EventDrop, Msg: s.request, HasMsg: true, Reason: "request lost with its connection"})
		}
	}
	s.awaiting, s.request = false, ""
	b.flush(s.name)
}

// Wait implements backend.Backend. It keeps a zmq4 Recv call outstanding
// on each named socket that can be answered (a REP, a REQ awaiting a
// reply) and returns once one has returned. On a mock clock, time moves
// to until only once nothing is due from the sockets (settled); on simnet
// the wait ends at a network alarm, before what the network delivers at
// until.
func (b *Backend) Wait(until time.Duration, readable ...string) (string, error) {
	var alarm <-chan struct{}
	for {
		b.completions()
		for _, name := range readable {
			s := b.sockets[name]
			idle := s != nil && s.kind == model.REQ && !s.awaiting && s.pending == nil && s.arrived == nil
			if s == nil || !s.open || idle && !b.direct {
				continue
			}
			b.outstanding(s)
			if b.take(s) {
				return name, nil
			}
		}
		b.checkSettled()
		if b.mock != nil {
			// The mock clock moves only while the sockets are quiet:
			// nothing due (settled) and no result for a short grace.
			d := until - b.Now()
			if d <= 0 {
				return "", nil
			}
			if !b.settled() {
				b.quiet(b.cfg.Bound / 8)
				continue
			}
			if b.quiet(200 * time.Microsecond) {
				b.mock.Add(d)
				return "", nil
			}
			continue
		}
		d := until - b.Now()
		if d <= 0 {
			return "", nil
		}
		if b.cfg.Net != nil && !b.script {
			if alarm == nil {
				alarm = b.cfg.Net.Alarm(until)
			}
			select {
			case <-b.woken:
			case <-alarm:
				b.completions()
				return "", nil
			}
			continue
		}
		t := time.NewTimer(min(d, b.cfg.Bound/4))
		select {
		case <-b.woken:
		case <-t.C:
		}
		t.Stop()
	}
}

// quiet waits up to d for a goroutine's result and reports whether none
// came.
func (b *Backend) quiet(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-b.woken:
		b.wake() // for the loop that looks at the results
		return false
	case <-t.C:
		return true
	}
}

// settled says that no socket result is due: no reply is on its way, no
// dial is under way, and a REQ that awaits a reply waits on a REP that
// holds a request (its own, or one ahead of it, whose reply the REP's
// application has yet to send); with no REP holding one, its request is
// on its way or lost, and either comes to something soon.
func (b *Backend) settled() bool {
	if b.repliesInTransit > 0 || len(b.done) > 0 {
		return false
	}
	holding, awaiting := false, false
	for _, s := range b.sockets {
		if s.dialing > 0 {
			return false
		}
		holding = holding || s.open && s.holding
		awaiting = awaiting || s.open && s.awaiting
	}
	return holding || !awaiting
}

// checkSettled notes since when results have been due (in real time, or
// simnet's virtual time), and declares the awaiting REQs hung once that
// exceeds the bound: each is traced as a hang and gets a fresh socket.
func (b *Backend) checkSettled() {
	if b.script || b.direct || b.settled() {
		b.unsettledSince = time.Time{}
		return
	}
	if b.unsettledSince.IsZero() {
		b.unsettledSince = time.Now()
		return
	}
	if time.Since(b.unsettledSince) < b.cfg.Bound {
		return
	}
	b.unsettledSince = time.Time{}
	b.repliesInTransit = 0
	for _, s := range b.sockets {
		if s.open && s.kind == model.REQ && s.awaiting {
			b.record((&CallError{Op: "recv", Socket: s.name, Hang: b.cfg.Bound}).TraceEvent(s.name))
			b.replace(s)
		}
	}
}

// replace abandons a hung socket and opens a fresh one that dials what
// the old one had.
func (b *Backend) replace(s *zsock) {
	connects := s.connects
	b.forget(s.name)
	if err := b.Open(s.name, s.kind, model.Options{}); err != nil {
		b.traceErr(s.name, err)
		return
	}
	for _, ep := range connects {
		if err := b.Connect(s.name, ep); err != nil {
			return
		}
	}
}

// forget abandons socket name: zmq4 closes it in the background, its
// outstanding calls are void.
func (b *Backend) forget(name string) {
	b.socks.Abandon(name)
	if s := b.sockets[name]; s != nil {
		b.closed(s)
	}
}

// closed resets what the backend knew of a socket that is gone.
func (b *Backend) closed(s *zsock) {
	s.open = false
	s.gen++
	s.pending, s.arrived = nil, nil
	s.dialing, s.lastDial = 0, nil
	s.awaiting, s.request = false, ""
	s.holding, s.held, s.heldFrom = false, "", ""
}

// Poll is unsupported: zmq4 has no poller (ZMQ4-FINDINGS F3).
func (b *Backend) Poll(name string) (bool, bool, error) {
	return false, false, unsupported("poll: zmq4 has no poller or readiness")
}

// Advance lets d pass: for a script, a sleep of d clamped to
// ZMQ4SettleMin..ZMQ4SettleMax; in a scenario, Wait on no socket.
func (b *Backend) Advance(d time.Duration) error {
	if b.script {
		time.Sleep(min(max(d, ZMQ4SettleMin), ZMQ4SettleMax))
		return nil
	}
	_, err := b.Wait(b.Now() + d)
	return err
}

// Close closes the socket.
func (b *Backend) Close(name string) error {
	s, err := b.sock(name)
	if err != nil {
		return err
	}
	err = b.socks.Close(name)
	b.closed(s)
	if err != nil {
		b.traceErr(name, err)
		if b.script {
			return b.stable("close", err)
		}
		return err
	}
	return nil
}

// Crash closes the socket: zmq4 cannot die differently (ZMQ4-FINDINGS
// F19). On simnet its host crashes first, at the start of the instant.
func (b *Backend) Crash(name string) error {
	if _, err := b.sock(name); err != nil {
		return err
	}
	b.record(trace.Event{Actor: name, Kind: model.EventCrash})
	if s := b.sockets[name]; s.holding {
		b.lost[s.held] = true // lost with the process, and traced so by app.Run (F19)
	}
	switch n := b.cfg.Net; {
	case n == nil || b.script:
	case b.direct:
		n.Crash(name) // after what is due now, as a caller between calls expects
	default:
		n.CrashNow(name) // at a network alarm: before what arrives now
	}
	return b.Close(name)
}

// Restart opens a closed socket again and binds and dials what it had.
func (b *Backend) Restart(name string) error {
	s := b.sockets[name]
	if s == nil {
		return fmt.Errorf("%w: %q", model.ErrNoSocket, name)
	}
	if s.open {
		return fmt.Errorf("%w: %q is still open", model.ErrExists, name)
	}
	if n := b.cfg.Net; n != nil && !b.script {
		n.Restart(name)
	}
	binds, connects := s.binds, s.connects
	if err := b.Open(name, s.kind, model.Options{}); err != nil {
		return err
	}
	for _, ep := range binds {
		if err := b.Bind(name, ep); err != nil {
			if !b.script {
				b.forget(name)
			}
			return err
		}
	}
	b.record(trace.Event{Actor: name, Kind: model.EventRestart, Peer: strings.Join(append(append([]string(nil), binds...), connects...), " ")})
	for _, ep := range connects {
		if err := b.Connect(name, ep); err != nil {
			return err
		}
	}
	return nil
}

// Cut is unsupported: the backend cannot break a loopback connection.
func (b *Backend) Cut(a, c string) error { return unsupported("cut") }

// Heal is unsupported, as Cut.
func (b *Backend) Heal(a, c string) error { return unsupported("heal") }

// Enqueue implements backend.Queuer: the Node binding's queue in front of
// a REQ (F24). zmq4 has no poller, so the binding keeps lockstep itself:
// the head goes to the socket when no reply is awaited and its dials
// have returned.
func (b *Backend) Enqueue(name string, m model.Message) (int, error) {
	if _, err := b.sock(name); err != nil {
		return 0, err
	}
	q := b.queues[name]
	if q == nil {
		q = new([]model.Message)
		b.queues[name] = q
		b.qorder = append(b.qorder, name)
	}
	*q = append(*q, slices.Clone(m))
	mark, at := len(b.events), b.Now()
	b.flush(name)
	// As the Node client prints it: the queue's length after the first
	// hand-over, before the send's trace line.
	e := trace.Event{At: at, Actor: name, Kind: model.EventEnqueue, Msg: m.Text(), HasMsg: true, Queue: len(*q), HasQueue: true}
	b.events = slices.Insert(b.events, mark, e)
	return len(*q), nil
}

// flush hands the head of name's queue to its socket if it can take it;
// a failed send leaves the message queued.
func (b *Backend) flush(name string) {
	q, s := b.queues[name], b.sockets[name]
	if q == nil || len(*q) == 0 || s == nil || !s.open || s.awaiting || s.dialing > 0 {
		return
	}
	head := (*q)[0]
	if err := b.socks.Send(name, head); err != nil {
		b.failed(name, "send", err)
		return
	}
	*q = (*q)[1:]
	b.sent(s, head, len(*q))
}

// Queue implements backend.Queuer.
func (b *Backend) Queue(name string) ([]model.Message, error) {
	if q := b.queues[name]; q != nil {
		return append([]model.Message(nil), *q...), nil
	}
	return nil, nil
}

// QueueLen implements backend.Queuer.
func (b *Backend) QueueLen(name string) (int, error) {
	if q := b.queues[name]; q != nil {
		return len(*q), nil
	}
	return 0, nil
}

// Shutdown closes every socket and waits, bounded, for every goroutine
// the backend started.
func (b *Backend) Shutdown() error {
	select {
	case <-b.stop:
		return nil
	default:
	}
	close(b.stop)
	b.socks.CloseAll()
	for _, s := range b.sockets {
		b.closed(s)
	}
	done := make(chan struct{})
	go func() { b.wg.Wait(); close(done) }()
	t := time.NewTimer(zmq4CallBound)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		return fmt.Errorf("%w: zmq4 calls still running %v after shutdown", backend.ErrBackend, zmq4CallBound)
	}
	return nil
}

var (
	_ backend.Backend  = (*Backend)(nil)
	_ backend.Queuer   = (*Backend)(nil)
	_ backend.Observer = (*Backend)(nil)
)
