package realnet

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/go-zeromq/zmq4"

	"github.com/zeromq-lockstep/lockstep/backend"
	"github.com/zeromq-lockstep/lockstep/model"
	"github.com/zeromq-lockstep/lockstep/trace"
)

// Timing of the zmq4 backend. Scripts are written for virtual time; on
// real sockets over loopback TCP a message takes microseconds, so:
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

// Backend is the "zmq4" backend: real github.com/go-zeromq/zmq4 REQ and REP
// sockets over 127.0.0.1, in real time.
//
// Endpoints: a script's endpoint (tcp://server:5454) is only a name. The
// first bind or connect that uses it gets a free port on 127.0.0.1, and
// every later use of the name means that port, so a connect may come
// before the bind, and a restart binds the same port again.
//
// DEALER sockets are zmq4's DEALER, a raw peer of REP. Facing a REQ the
// scripts' DEALER stands for a ROUTER, which ZMTP requires and zmq4
// enforces: such a connect is unsupported.
//
// What zmq4 lacks is backend.ErrUnsupported, which makes Run report the script as
// not applicable: the options correlate, relaxed,
// immediate, sndhwm, rcvhwm, reconnect-ivl, reconnect-ivl-max (zmq4 has
// none of them, ZMQ4-FINDINGS "Options zmq4 does not have"), poll (no poller,
// F3), disconnect (no such call), cut and heal, and the optional
// interfaces state, choose, enqueue and queue. Events are not observed
// (Observes is false): only result lines are compared.
//
// Receiving: zmq4 has no non-blocking receive and a Recv call cannot be
// cancelled except by closing the socket (ZMQ4-FINDINGS H4, H6); realnet's
// Sockets therefore closes a socket whose Recv overran its bound. This
// backend keeps the socket instead and does what an application that
// bounds zmq4's Recv with a goroutine does: recv starts a zmq4 Recv call
// (or goes on waiting for the one already outstanding) and waits up to
// ZMQ4RecvWait; when nothing came, it prints EAGAIN and the call stays
// outstanding, and the next recv on that socket returns its result. Such
// a call reads the connection of the request it was made after (REQ), or
// takes the next request as soon as it arrives (REP); a send made in
// between cannot redirect it. Closing the socket ends the call.
//
// Connecting: zmq4 dials synchronously and, by default, retries a refused
// dial 10 times 250ms apart; a script's commands run one after another,
// so nothing can bind while a connect waits, and the backend dials once
// (WithDialerMaxRetries(0)): a connect to an endpoint nobody binds fails
// at once with ECONNREFUSED. zmq4's automatic reconnect stays off, as in
// realnet (it deadlocks or loses requests, ZMQ4-FINDINGS H2, H3).
//
// crash is close: zmq4 cannot die differently from a clean close (ZMQ4-FINDINGS
// F19). restart opens a new socket of that name and binds and dials what
// the old one had bound and dialled.
//
// Every zmq4 call is bounded; a panic in zmq4 (ZMQ4-FINDINGS H1) is recovered
// and printed as an error line; a call that does not return within its
// bound closes the socket, prints "hang" and the name is free again.
// Shutdown closes every socket and waits for every goroutine it started.
// Like the Runner that drives it, a Backend is used by one goroutine.
type Backend struct {
	start time.Time
	mu    sync.Mutex
	socks map[string]*zsock
	specs map[string]*zspec
	ports map[string]int    // script endpoint -> port on 127.0.0.1
	names map[string]string // "127.0.0.1:PORT" -> script endpoint, for errors
	wg    sync.WaitGroup    // goroutines of calls, outstanding or abandoned
	// woken is signalled whenever an outstanding Recv call returns.
	woken chan struct{}
}

type zsock struct {
	kind    model.SocketType
	z       zmq4.Socket
	cancel  context.CancelFunc
	pending chan zresult // an outstanding Recv call, nil when none
	// arrived is the outstanding call's result, taken by Wait and not
	// yet returned by Recv.
	arrived *zresult
}

type zspec struct {
	kind     model.SocketType
	binds    []string
	connects []string
}

type zresult struct {
	m   zmq4.Msg
	err error
	p   any
}

// NewBackend returns an empty zmq4 backend.
func NewBackend() *Backend {
	return &Backend{
		start: time.Now(),
		socks: map[string]*zsock{},
		specs: map[string]*zspec{},
		ports: map[string]int{},
		names: map[string]string{},
		woken: make(chan struct{}, 1),
	}
}

// Observes reports false: the zmq4 backend sees only the results of calls.
func (b *Backend) Observes() bool { return false }

// Now is the real time since the backend started.
func (b *Backend) Now() time.Duration { return time.Since(b.start) }

// Events returns nil: nothing is observed.
func (b *Backend) Events() []trace.Event { return nil }

func unsupported(what string) error {
	return fmt.Errorf("%w: %s (zmq4 backend)", backend.ErrUnsupported, what)
}

var zquiet = log.New(io.Discard, "", 0)

// Open opens a zmq4 REQ or REP socket.
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
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.socks[name] != nil {
		return fmt.Errorf("%w: %q", model.ErrExists, name)
	}
	ctx, cancel := context.WithCancel(context.Background())
	opts := []zmq4.Option{
		zmq4.WithLogger(zquiet),
		zmq4.WithAutomaticReconnect(false),
		zmq4.WithDialerMaxRetries(0),
		zmq4.WithTimeout(zmq4CallBound / 2), // REP Send honours it (H12)
	}
	var z zmq4.Socket
	switch kind {
	case model.REQ:
		z = zmq4.NewReq(ctx, opts...)
	case model.REP:
		z = zmq4.NewRep(ctx, opts...)
	default:
		z = zmq4.NewDealer(ctx, opts...)
	}
	b.socks[name] = &zsock{kind: kind, z: z, cancel: cancel}
	b.specs[name] = &zspec{kind: kind}
	return nil
}

func (b *Backend) sock(name string) (*zsock, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.socks[name]
	if s == nil {
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
	b.ports[ep] = p
	b.names["127.0.0.1:"+strconv.Itoa(p)] = strings.TrimPrefix(ep, "tcp://")
	return p, nil
}

// call runs f on a goroutine of its own, bounded; on a hang the goroutine
// is left to the socket's close, which ends it.
func (b *Backend) call(bound time.Duration, f func() error) (p any, hung bool, err error) {
	ch := make(chan zresult, 1)
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		defer func() {
			if p := recover(); p != nil {
				ch <- zresult{p: p}
			}
		}()
		ch <- zresult{err: f()}
	}()
	t := time.NewTimer(bound)
	defer t.Stop()
	select {
	case r := <-ch:
		return r.p, false, r.err
	case <-t.C:
		return nil, true, nil
	}
}

// do runs one bounded call on socket name and turns its failure into an
// error a script can print the same way every time.
func (b *Backend) do(name, op string, bound time.Duration, f func(z zmq4.Socket) error) error {
	s, err := b.sock(name)
	if err != nil {
		return err
	}
	p, hung, err := b.call(bound, func() error { return f(s.z) })
	switch {
	case p != nil:
		return fmt.Errorf("%s: panic in zmq4: %v", op, p)
	case hung:
		b.drop(name, s)
		return fmt.Errorf("%s: hang: no return within %v; socket closed", op, bound)
	}
	return b.stable(op, err)
}

var hostPort = regexp.MustCompile(`127\.0\.0\.1:[0-9]+`)

// stable maps a zmq4 error to a model error when one fits (realnet's
// MapError) and otherwise to text without ports or times, so that a
// script's output is the same on every run.
func (b *Backend) stable(op string, err error) error {
	if err == nil {
		return nil
	}
	if m := MapError(err); m != nil {
		return m
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

// realEndpoint is the loopback endpoint that stands for a script's one.
func (b *Backend) realEndpoint(ep string) (string, error) {
	p, err := b.port(ep)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("tcp://127.0.0.1:%d", p), nil
}

// Bind listens on the endpoint's port on 127.0.0.1.
func (b *Backend) Bind(name, ep string) error {
	real, err := b.realEndpoint(ep)
	if err != nil {
		return err
	}
	if err := b.do(name, "bind", zmq4CallBound, func(z zmq4.Socket) error { return z.Listen(real) }); err != nil {
		return err
	}
	b.mu.Lock()
	b.specs[name].binds = append(b.specs[name].binds, ep)
	b.mu.Unlock()
	return nil
}

// Connect dials the endpoint's port once (see Backend).
func (b *Backend) Connect(name, ep string) error {
	real, err := b.realEndpoint(ep)
	if err != nil {
		return err
	}
	// A dial has no handshake timeout (ZMQ4-FINDINGS H7): bound it.
	var incompatible bool
	err = b.do(name, "connect", zmq4CallBound, func(z zmq4.Socket) error {
		err := z.Dial(real)
		incompatible = err != nil && strings.Contains(err.Error(), "not compatible with")
		return err
	})
	if incompatible {
		// The scripts' DEALER is a raw peer; facing a REQ it stands for a
		// ROUTER, and ZMTP (libzmq too) does not pair REQ with DEALER.
		return unsupported("a DEALER facing a REQ: ZMTP pairs REQ only with REP and ROUTER, and zmq4 enforces it")
	}
	if err != nil {
		return err
	}
	b.mu.Lock()
	b.specs[name].connects = append(b.specs[name].connects, ep)
	b.mu.Unlock()
	return nil
}

// Disconnect is unsupported: zmq4 has no disconnect call.
func (b *Backend) Disconnect(name, ep string) error {
	return unsupported("disconnect: zmq4 has no such call")
}

// Send sends the body; REQ adds the delimiter, REP the stored envelope.
func (b *Backend) Send(name string, m model.Message) error {
	frames := make([][]byte, len(m))
	for i, f := range m {
		frames[i] = []byte(f)
	}
	err := b.do(name, "send", zmq4CallBound, func(z zmq4.Socket) error {
		return z.Send(zmq4.NewMsgFrom(frames...))
	})
	time.Sleep(ZMQ4SendGap)
	return err
}

// Recv waits up to ZMQ4RecvWait for the socket's outstanding zmq4 Recv
// call, starting one if there is none (see Backend).
func (b *Backend) Recv(name string) (model.Message, error) {
	s, err := b.sock(name)
	if err != nil {
		return nil, err
	}
	if r := s.arrived; r != nil {
		s.arrived = nil
		return b.received(*r)
	}
	b.outstanding(s)
	t := time.NewTimer(ZMQ4RecvWait)
	defer t.Stop()
	select {
	case r := <-s.pending:
		s.pending = nil
		return b.received(r)
	case <-t.C:
		return nil, model.ErrAgain
	}
}

// outstanding starts a zmq4 Recv call on s unless one is outstanding.
func (b *Backend) outstanding(s *zsock) {
	if s.pending != nil {
		return
	}
	ch := make(chan zresult, 1)
	s.pending = ch
	z := s.z
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		var r zresult
		defer func() {
			if p := recover(); p != nil {
				r = zresult{p: p}
			}
			ch <- r
			select {
			case b.woken <- struct{}{}:
			default:
			}
		}()
		r.m, r.err = z.Recv()
	}()
}

// Wait implements backend.Backend: it keeps a zmq4 Recv call outstanding
// on each named socket (see Backend) and returns once one has returned,
// or at until in real time.
func (b *Backend) Wait(until time.Duration, readable ...string) (string, error) {
	for {
		for _, name := range readable {
			s, err := b.sock(name)
			if err != nil {
				return "", err
			}
			if s.arrived != nil {
				return name, nil
			}
			b.outstanding(s)
			select {
			case r := <-s.pending:
				s.pending, s.arrived = nil, &r
				return name, nil
			default:
			}
		}
		d := until - b.Now()
		if d <= 0 {
			return "", nil
		}
		t := time.NewTimer(d)
		select {
		case <-b.woken:
		case <-t.C:
		}
		t.Stop()
	}
}

// received is a finished Recv call's result.
func (b *Backend) received(r zresult) (model.Message, error) {
	if r.p != nil {
		return nil, fmt.Errorf("recv: panic in zmq4: %v", r.p)
	}
	if r.err != nil {
		return nil, b.stable("recv", r.err)
	}
	out := make(model.Message, len(r.m.Frames))
	for i, f := range r.m.Frames {
		out[i] = string(f)
	}
	return out, nil
}

// Poll is unsupported: zmq4 has no poller (ZMQ4-FINDINGS F3).
func (b *Backend) Poll(name string) (bool, bool, error) {
	return false, false, unsupported("poll: zmq4 has no poller or readiness")
}

// Advance sleeps for d clamped to ZMQ4SettleMin..ZMQ4SettleMax.
func (b *Backend) Advance(d time.Duration) error {
	time.Sleep(min(max(d, ZMQ4SettleMin), ZMQ4SettleMax))
	return nil
}

// drop forgets socket name and closes it, bounded; an outstanding Recv
// call ends with the close.
func (b *Backend) drop(name string, s *zsock) error {
	b.mu.Lock()
	if b.socks[name] == s {
		delete(b.socks, name)
	}
	b.mu.Unlock()
	p, hung, err := b.call(zmq4CallBound, func() error {
		err := s.z.Close()
		s.cancel()
		return err
	})
	s.cancel()
	switch {
	case p != nil:
		return fmt.Errorf("close: panic in zmq4: %v", p)
	case hung:
		return fmt.Errorf("close: hang: no return within %v", zmq4CallBound)
	case err != nil && !errors.Is(err, net.ErrClosed):
		return b.stable("close", err)
	}
	return nil
}

// Close closes the socket; Crash is the same on zmq4.
func (b *Backend) Close(name string) error {
	s, err := b.sock(name)
	if err != nil {
		return err
	}
	return b.drop(name, s)
}

// Crash closes the socket: zmq4 cannot die differently (ZMQ4-FINDINGS F19).
func (b *Backend) Crash(name string) error { return b.Close(name) }

// Restart opens a closed socket again and binds and dials what it had.
func (b *Backend) Restart(name string) error {
	b.mu.Lock()
	sp, open := b.specs[name], b.socks[name] != nil
	b.mu.Unlock()
	if sp == nil {
		return fmt.Errorf("%w: %q", model.ErrNoSocket, name)
	}
	if open {
		return fmt.Errorf("%w: %q is still open", model.ErrExists, name)
	}
	if err := b.Open(name, sp.kind, model.Options{}); err != nil {
		return err
	}
	for _, ep := range sp.binds {
		if err := b.Bind(name, ep); err != nil {
			return err
		}
	}
	for _, ep := range sp.connects {
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

// Shutdown closes every socket and waits, bounded, for every goroutine
// the backend started.
func (b *Backend) Shutdown() error {
	b.mu.Lock()
	socks := make(map[string]*zsock, len(b.socks))
	for n, s := range b.socks {
		socks[n] = s
	}
	b.mu.Unlock()
	var errs []error
	for n, s := range socks {
		if err := b.drop(n, s); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", n, err))
		}
	}
	done := make(chan struct{})
	go func() { b.wg.Wait(); close(done) }()
	t := time.NewTimer(zmq4CallBound)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		errs = append(errs, fmt.Errorf("%w: zmq4 calls still running %v after shutdown", backend.ErrBackend, zmq4CallBound))
	}
	return errors.Join(errs...)
}
