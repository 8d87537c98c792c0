package simnet

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"time"
)

// connection is one in-memory TCP session: ends[0] dialed, ends[1] was
// accepted.
type connection struct {
	n    *Network
	seq  uint64
	ends [2]*end
}

// end is one side of a connection and the net.Conn zmq4 holds. Everything
// mutable is guarded by the network's mutex, which is never held while
// waiting: Write hands its bytes to the scheduler and returns, Read waits
// on the end's wake channel, so a goroutine blocked in Read is durably
// blocked.
type end struct {
	c     *connection
	side  int
	host  string
	local Addr
	peer  Addr
	// peerName is what the trace calls the other end: "server:5454" for
	// the dialer (the endpoint it dialed), the dialing host's name for the
	// acceptor.
	peerName string
	key      string // orders this end's arrivals among those of an instant

	in      []byte    // arrived, unread
	pending int       // bytes on their way here
	lastAt  time.Time // arrival of the last bytes, so bytes never overtake
	seq     uint64    // items scheduled for this end
	last    *item     // the latest item for this end, while not yet applied
	eof     bool      // the peer's FIN arrived (or its host crashed)
	err     error     // reset: returned once what had arrived is read
	closed  bool      // closed locally
	gone    bool      // a disconnect is already traced for this end
	wake    chan struct{}

	rdeadline time.Time
}

func (e *end) other() *end { return e.c.ends[1-e.side] }

func (e *end) signal() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// Read returns bytes that have arrived, waiting for the scheduler to
// deliver more.
func (e *end) Read(p []byte) (int, error) {
	n := e.c.n
	for {
		n.mu.Lock()
		if e.closed {
			n.mu.Unlock()
			return 0, e.opErr("read", net.ErrClosed)
		}
		if len(e.in) > 0 {
			k := copy(p, e.in)
			e.in = e.in[k:]
			n.mu.Unlock()
			return k, nil
		}
		if e.err != nil {
			err := e.err
			n.mu.Unlock()
			return 0, err
		}
		if e.eof {
			n.mu.Unlock()
			return 0, io.EOF
		}
		now := time.Now()
		if !e.rdeadline.IsZero() && !e.rdeadline.After(now) {
			n.mu.Unlock()
			return 0, e.opErr("read", os.ErrDeadlineExceeded)
		}
		wake, deadline := e.wake, e.rdeadline
		n.mu.Unlock()
		if deadline.IsZero() {
			<-wake
			continue
		}
		t := time.NewTimer(deadline.Sub(now))
		select {
		case <-wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// Write never blocks (zmq4 writes while holding its own mutexes): it
// schedules a copy of p to arrive after the link's latency.
func (e *end) Write(p []byte) (int, error) {
	n := e.c.n
	n.mu.Lock()
	defer n.mu.Unlock()
	switch {
	case e.closed:
		return 0, e.opErr("write", net.ErrClosed)
	case e.err != nil:
		return 0, e.opErr("write", syscall.ECONNRESET)
	}
	o := e.other()
	if o.closed || o.err != nil || e.eof {
		// The peer is gone; its kernel answers with a reset.
		return 0, e.opErr("write", syscall.EPIPE)
	}
	if len(p) == 0 {
		return 0, nil
	}
	n.send(o, append([]byte(nil), p...), false)
	return len(p), nil
}

// send schedules data (and, with fin, the end of the stream) to arrive at
// o after the link's latency, never before earlier bytes; n.mu is held.
func (n *Network) send(o *end, data []byte, fin bool) {
	at := time.Now().Add(n.latencyOf(o.other().host, o.host))
	if at.Before(o.lastAt) {
		at = o.lastAt
	}
	o.lastAt = at
	o.pending += len(data)
	if it := o.last; it != nil && it.at.Equal(at) && !it.fin {
		// zmq4 writes a frame's header and body separately; bytes due at
		// the same instant travel as one item, one scheduler step.
		it.data = append(it.data, data...)
		it.fin = fin
		return
	}
	o.seq++
	o.last = &item{at: at, key: o.key, seq: o.seq, end: o, data: data, fin: fin}
	n.schedule(o.last)
}

// Close closes this end: the peer reads what is in flight, then io.EOF;
// what had reached this end unread is lost.
func (e *end) Close() error {
	n := e.c.n
	n.mu.Lock()
	defer n.mu.Unlock()
	if e.closed {
		return e.opErr("close", net.ErrClosed)
	}
	e.closed = true
	if lost := len(e.in) + e.pending; lost > 0 {
		n.record(e.host, EventDrop, e.peerName, fmt.Sprintf("%d bytes unread: closed", lost))
	}
	e.in = nil
	if !e.gone {
		e.gone = true
		n.record(e.host, EventDisconnect, e.peerName, "closed")
	}
	o := e.other()
	if !o.closed && o.err == nil && !o.eof {
		n.send(o, nil, true)
	}
	e.signal()
	if o.closed || o.err != nil {
		delete(n.conns, e.c)
	}
	return nil
}

// reset ends the connection abruptly; n.mu is held. dead is the index of
// the end whose host crashed (it loses everything, and its peer gets EOF
// after what had arrived), -1 for a cut (both ends get a reset after what
// had arrived) or -2 for the network closing (silent).
func (c *connection) reset(reason string, dead int) {
	n := c.n
	for side, e := range c.ends {
		if e.closed {
			continue
		}
		lost := e.pending
		if side == dead {
			lost += len(e.in)
			e.in = nil
		}
		if lost > 0 && dead != -2 {
			n.record(e.host, EventDrop, e.peerName, fmt.Sprintf("%d bytes in flight: %s", lost, reason))
		}
		switch {
		case side == dead || dead < 0:
			if e.err == nil {
				e.err = e.opErr("read", syscall.ECONNRESET)
			}
		default:
			e.eof = true
		}
		if !e.gone && dead != -2 {
			n.record(e.host, EventDisconnect, e.peerName, reason)
		}
		e.gone = true
		e.signal()
	}
	delete(n.conns, c)
}

func (e *end) opErr(op string, err error) error {
	return &net.OpError{Op: op, Net: e.local.scheme, Source: e.local, Addr: e.peer, Err: err}
}

func (e *end) LocalAddr() net.Addr  { return e.local }
func (e *end) RemoteAddr() net.Addr { return e.peer }

func (e *end) SetDeadline(t time.Time) error {
	return e.SetReadDeadline(t)
}

func (e *end) SetReadDeadline(t time.Time) error {
	n := e.c.n
	n.mu.Lock()
	e.rdeadline = t
	e.signal()
	n.mu.Unlock()
	return nil
}

// SetWriteDeadline is accepted and ignored: writes never block.
func (e *end) SetWriteDeadline(time.Time) error { return nil }

// Addr is a simnet address, "host:port" on a scheme.
type Addr struct {
	scheme   string
	hostPort string
}

// Network is the scheme, for example "simnet1".
func (a Addr) Network() string { return a.scheme }

// String is "host:port".
func (a Addr) String() string { return a.hostPort }

// listener is what zmq4's Listen gets. Accept blocks until a dial arrives,
// the listener is closed or the socket's context ends; it never fails
// otherwise, because zmq4's accept loop retries at once and would spin.
type listener struct {
	n       *Network
	host    *Host
	addr    Addr
	ctx     context.Context
	backlog []*end
	closed  bool
	wake    chan struct{}
}

func (l *listener) Accept() (net.Conn, error) {
	for {
		l.n.mu.Lock()
		if l.closed || l.ctx.Err() != nil {
			l.n.mu.Unlock()
			return nil, &net.OpError{Op: "accept", Net: l.addr.scheme, Addr: l.addr, Err: net.ErrClosed}
		}
		if len(l.backlog) > 0 {
			e := l.backlog[0]
			l.backlog = l.backlog[1:]
			l.n.mu.Unlock()
			return e, nil
		}
		l.n.mu.Unlock()
		select {
		case <-l.wake:
		case <-l.ctx.Done():
		}
	}
}

func (l *listener) Close() error {
	l.n.mu.Lock()
	defer l.n.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	if l.n.listeners[l.addr.hostPort] == l {
		delete(l.n.listeners, l.addr.hostPort)
	}
	l.dropBacklog("listener closed")
	select {
	case l.wake <- struct{}{}:
	default:
	}
	return nil
}

// dropBacklog resets connections that were never accepted; n.mu is held.
func (l *listener) dropBacklog(reason string) {
	for _, e := range l.backlog {
		e.c.reset(reason, e.side)
	}
	l.backlog = nil
}

func (l *listener) Addr() net.Addr { return l.addr }

var errNetClosed = errors.New("simnet: network closed")
