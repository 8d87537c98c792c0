package realnet

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/go-zeromq/zmq4"

	"github.com/zeromq-lockstep/lockstep/model"
	"github.com/zeromq-lockstep/lockstep/trace"
)

// DefaultBound is how long a blocking zmq4 call may take before it counts
// as a hang. Loopback calls take microseconds; a call that takes two
// seconds is stuck (ZMQ4-FINDINGS H2, H4, H7, H11).
const DefaultBound = 2 * time.Second

// CallError is the failure of one zmq4 call: an error zmq4 returned, a
// panic inside zmq4, or no return within the bound.
type CallError struct {
	Op     string // bind, connect, send, recv, close
	Socket string
	// Model is the model error the zmq4 error maps to (model.ErrPeerGone,
	// model.ErrNoConnection, ...), or nil when none fits.
	Model error
	// Err is zmq4's own error; nil for a panic or a hang.
	Err error
	// Panic is the value zmq4 panicked with, if it did.
	Panic any
	// Hang is the bound a call overran, if it did.
	Hang time.Duration
}

func (e *CallError) Error() string {
	switch {
	case e.Panic != nil:
		return fmt.Sprintf("%s: panic in zmq4: %v", e.Op, e.Panic)
	case e.Hang > 0:
		return fmt.Sprintf("%s: no return within %v", e.Op, e.Hang)
	case e.Model != nil:
		// The bracket is detail that trace.ErrorKind leaves out.
		return fmt.Sprintf("%s: %v [zmq4: %v]", e.Op, e.Model, e.Err)
	default:
		return fmt.Sprintf("%s: %v", e.Op, e.Err)
	}
}

// Unwrap lets errors.Is match both the model error and zmq4's.
func (e *CallError) Unwrap() []error {
	var out []error
	if e.Model != nil {
		out = append(out, e.Model)
	}
	if e.Err != nil {
		out = append(out, e.Err)
	}
	return out
}

// Event is the trace event the failure is recorded as: panic, hang or
// error.
func (e *CallError) Event() model.EventKind {
	switch {
	case e.Panic != nil:
		return model.EventPanic
	case e.Hang > 0:
		return model.EventHang
	}
	return model.EventError
}

// TraceEvent renders the failure as a trace line for actor.
func (e *CallError) TraceEvent(actor string) trace.Event {
	return trace.Event{Actor: actor, Kind: e.Event(), Reason: e.Error()}
}

// MapError maps a zmq4 error to the model error it stands for, or nil.
func MapError(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	switch {
	case errors.Is(err, io.EOF):
		return model.ErrPeerGone // F19 as zmq4 does it
	case strings.Contains(msg, "no connections available"),
		errors.Is(err, syscall.EPIPE), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, zmq4.ErrClosedConn):
		return model.ErrNoConnection // F11, F21 as zmq4 does them
	case strings.Contains(msg, "invalid REP message"):
		return model.ErrInvalidMessage // F5 as zmq4 does it
	case errors.Is(err, syscall.EADDRINUSE):
		return model.ErrAddrInUse
	}
	return nil
}

// Sockets is a small bounded API over real zmq4 REQ and REP sockets, named
// like the model's sockets so that a differential test can drive a
// model.World and a Sockets side by side. Every call runs on its own
// goroutine with a bound; a panic inside zmq4 is recovered and a call that
// overruns its bound is abandoned: both come back as a *CallError and are
// passed to OnIncident. A socket whose call hung is closed in the
// background and forgotten (a REQ Recv left running would steal the next
// reply, ZMQ4-FINDINGS H6); open a fresh one under the same name.
//
//	s := realnet.NewSockets(0)
//	defer s.CloseAll()
//	ep, err := s.Bind("server", "tcp://127.0.0.1:0") // ep has the chosen port
//	...
//	s.NewREQ("client")
//	s.Connect("client", ep)
//	s.Send("client", model.Message{"hello"})
//	req, err := s.Recv("server", time.Second)
//	s.Send("server", app.Reply(req))
//	rep, err := s.Recv("client", time.Second) // {"response":"hello"}
//	s.Crash("server")
//	_, err = s.Recv("client", time.Second) // errors.Is(err, model.ErrPeerGone)
//
// Sockets is safe for concurrent use; calls on one socket should not
// overlap except for a Recv that waits while another goroutine sends.
type Sockets struct {
	// Bound is the default bound of a call; zero means DefaultBound.
	Bound time.Duration
	// OnIncident, when set, is called with every panic and hang.
	OnIncident func(socket string, e *CallError)
	// Options are zmq4 options every socket opened from now on gets, after
	// the ones Sockets always sets (a quiet logger, no automatic
	// reconnect).
	Options []zmq4.Option

	mu    sync.Mutex
	socks map[string]*rsock
	wg    sync.WaitGroup // background closes of abandoned sockets
}

type rsock struct {
	typ    model.SocketType
	z      zmq4.Socket
	cancel context.CancelFunc
	conns  *conns // its TCP connections, closed with it (conntrack.go)
	// One worker goroutine per socket runs its calls: a hand-over costs
	// less than a new goroutine per call, which kept the harness within
	// 10% of bare zmq4. A worker stuck in a hung call goes with its socket.
	mu     sync.Mutex // one call at a time on the worker
	jobs   chan func()
	done   chan result
	timer  *time.Timer
	closed chan struct{}
}

type result struct {
	v   any
	err error
	p   any
}

func (r *rsock) work() {
	for {
		select {
		case f := <-r.jobs:
			f()
		case <-r.closed:
			return
		}
	}
}

// run runs f on the socket's worker, bounded.
func (r *rsock) run(bound time.Duration, f func() (any, error)) (result, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	job := func() {
		defer func() {
			if p := recover(); p != nil {
				r.done <- result{p: p}
			}
		}()
		v, err := f()
		r.done <- result{v: v, err: err}
	}
	if r.timer == nil {
		r.timer = time.NewTimer(bound)
	} else {
		r.timer.Reset(bound)
	}
	select {
	case r.jobs <- job:
	case <-r.timer.C:
		return result{}, true // the worker is stuck in an earlier call
	}
	select {
	case res := <-r.done:
		r.timer.Stop()
		return res, false
	case <-r.timer.C:
		return result{}, true
	}
}

// NewSockets returns an empty set of sockets whose calls are bounded by
// bound (DefaultBound when zero).
func NewSockets(bound time.Duration) *Sockets {
	return &Sockets{Bound: bound, socks: map[string]*rsock{}}
}

var quiet = log.New(io.Discard, "", 0)

func (s *Sockets) bound() time.Duration {
	if s.Bound <= 0 {
		return DefaultBound
	}
	return s.Bound
}

func (s *Sockets) open(name string, typ model.SocketType) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.socks == nil {
		s.socks = map[string]*rsock{}
	}
	if s.socks[name] != nil {
		return fmt.Errorf("%w: %q", model.ErrExists, name)
	}
	tcp := &conns{}
	ctx, cancel := context.WithCancel(context.WithValue(context.Background(), connsKey{}, tcp))
	// zmq4 logs to stderr by default; its reconnect is off by default and
	// must stay off (ZMQ4-FINDINGS H2, H3, H10).
	opts := append([]zmq4.Option{zmq4.WithLogger(quiet), zmq4.WithAutomaticReconnect(false)}, s.Options...)
	var z zmq4.Socket
	switch typ {
	case model.REQ:
		z = zmq4.NewReq(ctx, opts...)
	case model.REP:
		z = zmq4.NewRep(ctx, opts...)
	default:
		z = zmq4.NewDealer(ctx, opts...)
	}
	r := &rsock{typ: typ, z: z, cancel: cancel, conns: tcp, jobs: make(chan func()), done: make(chan result, 1), closed: make(chan struct{})}
	go r.work()
	s.socks[name] = r
	return nil
}

// NewREQ opens a REQ socket called name.
func (s *Sockets) NewREQ(name string) error { return s.open(name, model.REQ) }

// NewREP opens a REP socket called name.
func (s *Sockets) NewREP(name string) error { return s.open(name, model.REP) }

// Open opens a socket of type typ called name: REQ, REP or DEALER.
func (s *Sockets) Open(name string, typ model.SocketType) error { return s.open(name, typ) }

func (s *Sockets) get(name string) (*rsock, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.socks[name]
	if r == nil {
		return nil, fmt.Errorf("%w: %q", model.ErrNoSocket, name)
	}
	return r, nil
}

// Has reports whether a socket called name is open.
func (s *Sockets) Has(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.socks[name] != nil
}

// call runs f on its own goroutine, bounded, with panics recovered.
func call[T any](bound time.Duration, f func() (T, error)) (v T, panicked any, hung bool, err error) {
	type result struct {
		v   T
		err error
		p   any
	}
	ch := make(chan result, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				ch <- result{p: p}
			}
		}()
		v, err := f()
		ch <- result{v: v, err: err}
	}()
	t := time.NewTimer(bound)
	defer t.Stop()
	select {
	case r := <-ch:
		return r.v, r.p, false, r.err
	case <-t.C:
		return v, nil, true, nil
	}
}

// do runs one bounded call on socket name and turns its failure into a
// *CallError; a hang abandons the socket.
func do[T any](s *Sockets, name, op string, bound time.Duration, f func(z zmq4.Socket) (T, error)) (T, error) {
	var zero T
	r, err := s.get(name)
	if err != nil {
		return zero, err
	}
	res, hung := r.run(bound, func() (any, error) { return f(r.z) })
	v, _ := res.v.(T)
	err, p := res.err, res.p
	switch {
	case p != nil:
		ce := &CallError{Op: op, Socket: name, Panic: p}
		s.incident(name, ce)
		return zero, ce
	case hung:
		ce := &CallError{Op: op, Socket: name, Hang: bound}
		s.incident(name, ce)
		s.Abandon(name)
		return zero, ce
	case err != nil:
		return zero, &CallError{Op: op, Socket: name, Model: MapError(err), Err: err}
	}
	return v, nil
}

func (s *Sockets) incident(name string, e *CallError) {
	if s.OnIncident != nil {
		s.OnIncident(name, e)
	}
}

// Bind binds socket name to endpoint, which must be tcp://127.0.0.1:PORT
// (PORT 0 picks a free port), inproc://NAME or a simnet endpoint
// ([simnet.Host.Bind], with a port), and returns the endpoint as bound,
// with its port.
func (s *Sockets) Bind(name, endpoint string) (string, error) {
	if err := checkEndpoint(endpoint); err != nil {
		return "", &CallError{Op: "bind", Socket: name, Err: err}
	}
	return do(s, name, "bind", s.bound(), func(z zmq4.Socket) (string, error) {
		if err := z.Listen(tracked(endpoint)); err != nil {
			return "", err
		}
		if a, ok := z.Addr().(*net.TCPAddr); ok {
			return fmt.Sprintf("tcp://%s", a.String()), nil
		}
		return endpoint, nil
	})
}

// checkEndpoint allows loopback TCP only (and inproc and simnet's
// in-memory network): realnet never listens on a public interface.
func checkEndpoint(ep string) error {
	if strings.HasPrefix(ep, "inproc://") || isSimnet(ep) {
		return nil
	}
	rest, ok := strings.CutPrefix(ep, "tcp://")
	if !ok {
		return fmt.Errorf("endpoint %q: want tcp://127.0.0.1:PORT", ep)
	}
	host, port, err := net.SplitHostPort(rest)
	if err != nil || host != "127.0.0.1" {
		return fmt.Errorf("endpoint %q: want tcp://127.0.0.1:PORT", ep)
	}
	var n int
	if _, err := fmt.Sscanf(port, "%d", &n); err != nil || n < 0 || n > 65535 || fmt.Sprint(n) != port {
		return fmt.Errorf("endpoint %q: bad port %q", ep, port)
	}
	return nil
}

// Connect dials endpoint from socket name. zmq4 dials synchronously and
// retries a refused dial 10 times, 250ms apart, so its bound is at least
// five seconds.
func (s *Sockets) Connect(name, endpoint string) error {
	if err := checkEndpoint(endpoint); err != nil {
		return &CallError{Op: "connect", Socket: name, Err: err}
	}
	_, err := do(s, name, "connect", max(s.bound(), 5*time.Second), func(z zmq4.Socket) (struct{}, error) {
		return struct{}{}, z.Dial(tracked(endpoint))
	})
	return err
}

// Send sends one message: for REQ and REP, the application body.
func (s *Sockets) Send(name string, m model.Message) error {
	_, err := do(s, name, "send", s.bound(), func(z zmq4.Socket) (struct{}, error) {
		return struct{}{}, z.Send(toMsg(m))
	})
	return err
}

// Recv receives one message within bound (the default bound when zero).
// A REQ Recv that overruns is a hang: the socket is abandoned (H6).
func (s *Sockets) Recv(name string, bound time.Duration) (model.Message, error) {
	if bound <= 0 {
		bound = s.bound()
	}
	return do(s, name, "recv", bound, func(z zmq4.Socket) (model.Message, error) {
		m, err := z.Recv()
		if err != nil {
			return nil, err
		}
		return fromMsg(m), nil
	})
}

// recvUnbounded is Recv without a bound, for a runner that bounds the wait
// by what it expects. A panic still comes back as a *CallError.
func (s *Sockets) recvUnbounded(name string) (m model.Message, err error) {
	r, err := s.get(name)
	if err != nil {
		return nil, err
	}
	defer func() {
		if p := recover(); p != nil {
			ce := &CallError{Op: "recv", Socket: name, Panic: p}
			s.incident(name, ce)
			m, err = nil, ce
		}
	}()
	zm, err := r.z.Recv()
	if err != nil {
		return nil, &CallError{Op: "recv", Socket: name, Model: MapError(err), Err: err}
	}
	return fromMsg(zm), nil
}

// Close closes socket name; the name is free again afterwards.
func (s *Sockets) Close(name string) error {
	r, err := s.get(name)
	if err != nil {
		return err
	}
	s.mu.Lock()
	delete(s.socks, name)
	s.mu.Unlock()
	_, p, hung, err := call(s.bound(), func() (struct{}, error) {
		err := r.z.Close()
		r.cancel()
		r.conns.closeAll()
		return struct{}{}, err
	})
	close(r.closed)
	switch {
	case p != nil:
		ce := &CallError{Op: "close", Socket: name, Panic: p}
		s.incident(name, ce)
		return ce
	case hung:
		ce := &CallError{Op: "close", Socket: name, Hang: s.bound()}
		s.incident(name, ce)
		return ce
	case err != nil && !errors.Is(err, net.ErrClosed):
		// A close racing a peer's close reports the closed conn; harmless.
		return &CallError{Op: "close", Socket: name, Err: err}
	}
	return nil
}

// Crash is Close for a process that dies: zmq4 has no way to die
// differently from a clean close (ZMQ4-FINDINGS F19: SIGKILL and Close behave
// the same for the peer).
func (s *Sockets) Crash(name string) error { return s.Close(name) }

// Abandon forgets socket name and closes it in the background, for a
// socket whose call hung; the close may itself hang (H2) and is then left.
func (s *Sockets) Abandon(name string) {
	s.mu.Lock()
	r := s.socks[name]
	delete(s.socks, name)
	s.mu.Unlock()
	if r == nil {
		return
	}
	r.cancel()
	close(r.closed)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer func() { _ = recover() }()
		defer r.conns.closeAll()
		_ = r.z.Close()
	}()
}

// CloseAll closes every open socket, bounded, and waits up to the bound for
// the background closes of abandoned ones.
func (s *Sockets) CloseAll() {
	s.mu.Lock()
	var names []string
	for n := range s.socks {
		names = append(names, n)
	}
	s.mu.Unlock()
	for _, n := range names {
		_ = s.Close(n)
	}
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(s.bound()):
	}
}

func toMsg(m model.Message) zmq4.Msg {
	frames := make([][]byte, len(m))
	for i, f := range m {
		frames[i] = []byte(f)
	}
	return zmq4.NewMsgFrom(frames...)
}

func fromMsg(m zmq4.Msg) model.Message {
	out := make(model.Message, len(m.Frames))
	for i, f := range m.Frames {
		out[i] = string(f)
	}
	return out
}

// isSimnet reports whether ep is an endpoint of a [simnet.Network]
// ("simnet1://server:5454"), whose scheme is simnet and a number.
func isSimnet(ep string) bool {
	scheme, _, ok := strings.Cut(ep, "://")
	digits, found := strings.CutPrefix(scheme, "simnet")
	if !ok || !found || digits == "" {
		return false
	}
	for _, r := range digits {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
