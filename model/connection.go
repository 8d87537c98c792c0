package model

import (
	"fmt"
	"time"
)

// dial starts one connection attempt of c.
func (w *World) dial(c *connecter) {
	c.attempt = AttemptID(w.id())
	w.attempts = append(w.attempts, c) // ids grow: the list stays in id order
	w.emit(Dial{Attempt: c.attempt, From: c.sock.name, Endpoint: c.endpoint})
}

// stop ends c's reconnect loop; pending attempts and timers become no-ops.
func (w *World) stop(c *connecter) {
	c.stopped = true
	if c.attempt != 0 {
		w.attempts = removeFirst(w.attempts, func(k *connecter) bool { return k.attempt == c.attempt })
	}
	if c.timer != 0 {
		w.timers = removeFirst(w.timers, func(k *connecter) bool { return k.timer == c.timer })
	}
	c.attempt, c.timer = 0, 0
}

// compatible says whether two socket types may talk (ZMTP's handshake
// refuses the rest).
func compatible(a, b SocketType) bool {
	switch a {
	case REQ:
		return b == REP || b == DEALER
	case REP:
		return b == REQ || b == DEALER
	default:
		return true
	}
}

// DialDone completes a dial attempt. reachable is false when the driver's
// network cannot reach the endpoint (a cut link); the attempt then fails as
// if refused. A success attaches a pipe to the binding socket and starts
// moving messages; a failure schedules a retry (F23).
func (w *World) DialDone(a AttemptID, reachable bool) {
	c := takeConnecter(&w.attempts, func(k *connecter) bool { return a != 0 && k.attempt == a })
	if c == nil {
		return // the connect() was stopped meanwhile
	}
	c.attempt = 0
	b := w.bound(c.endpoint)
	var refused string
	switch {
	case !reachable:
		refused = "unreachable"
	case b == nil:
		refused = "connection refused"
	case !compatible(c.sock.typ, b.typ):
		refused = "incompatible socket type " + b.typ.String()
	}
	if refused != "" {
		if c.sock.opts.ReconnectIvl < 0 {
			// F23: RECONNECT_IVL=-1 gives up after the first attempt.
			w.observe(EventDisconnect, c.sock.name, c.endpoint, refused+"; RECONNECT_IVL=-1, no retry")
			return
		}
		w.observe(EventRetry, c.sock.name, c.endpoint, refused)
		w.scheduleReconnect(c)
		return
	}
	if c.pipe == nil {
		// Immediate: the pipe exists only while connected (F13, F21).
		c.pipe = w.attach(c.sock, c.endpoint)
		c.pipe.connecter = c
		if w.profile.NoPipeWithoutConnection {
			w.connectOrder(c)
		}
	}
	conn := &connection{id: ConnID(w.id())}
	conn.pipes[ToBinder] = c.pipe
	conn.pipes[ToConnecter] = w.attach(b, c.sock.name)
	c.pipe.conn = conn
	conn.pipes[ToConnecter].conn = conn
	c.conn = conn
	c.ivl = c.sock.opts.reconnectIvl()
	w.live = append(w.live, conn)
	w.observe(EventConnect, c.sock.name, b.name, "")
	if s := c.sock; teeth && w.mut().ResendOnReconnect && s.typ == REQ && s.receivingReply && s.requestMsg != nil {
		// Mutant: the outstanding request is sent again on the new
		// connection; libzmq never does this (F19).
		c.pipe.out = append(c.pipe.out, s.requestMsg)
	}
	w.pump(conn)
}

// connectOrder moves c's new pipe before the pipes of later connect()s:
// zmq4 dials synchronously, so its rotation is the order of the Dial calls
// whichever connection completes first (F8).
func (w *World) connectOrder(c *connecter) {
	s := c.sock
	rank := func(p *pipe) int {
		for i, k := range s.connect {
			if p.connecter == k {
				return i
			}
		}
		return len(s.connect)
	}
	last := len(s.pipes) - 1
	i := last
	for i > 0 && rank(s.pipes[i-1]) > rank(c.pipe) {
		i--
	}
	if i == last {
		return
	}
	copy(s.pipes[i+1:], s.pipes[i:last])
	s.pipes[i] = c.pipe
	if s.sendRR > i {
		s.sendRR++
	}
	if s.recvRR > i {
		s.recvRR++
	}
	if n := len(s.pipes); n > 0 {
		s.sendRR %= n
		s.recvRR %= n
	}
}

// scheduleReconnect waits RECONNECT_IVL + rand() % RECONNECT_IVL, doubling
// the base up to RECONNECT_IVL_MAX when that is set (F23).
func (w *World) scheduleReconnect(c *connecter) {
	o := c.sock.opts
	if o.ReconnectIvl < 0 {
		return // F23: RECONNECT_IVL=-1 never retries
	}
	base := o.reconnectIvl()
	ms := int(base / time.Millisecond)
	jitter := time.Duration(w.choose(ChoiceReconnectJitter, ms)) * time.Millisecond
	after := c.ivl + jitter
	if o.ReconnectIvlMax > base {
		c.ivl = min(c.ivl*2, o.ReconnectIvlMax)
	}
	c.timer = TimerID(w.id())
	w.timers = append(w.timers, c) // ids grow: the list stays in id order
	w.emit(StartTimer{Timer: c.timer, Owner: c.sock.name, After: after})
}

// takeConnecter removes from list the first connect() that match accepts
// and returns it, or nil.
func takeConnecter(list *[]*connecter, match func(*connecter) bool) *connecter {
	for _, k := range *list {
		if match(k) {
			*list = removeFirst(*list, func(c *connecter) bool { return c == k })
			return k
		}
	}
	return nil
}

// TimerFired runs a reconnect timer: the connect() dials again.
func (w *World) TimerFired(t TimerID) {
	c := takeConnecter(&w.timers, func(k *connecter) bool { return t != 0 && k.timer == t })
	if c == nil {
		return
	}
	c.timer = 0
	w.dial(c)
}

// reset ends a connection: what is on the wire is lost; a connecting pipe
// survives while Immediate is off and the connect() goes on (F21), every
// other pipe is destroyed with its unsent messages (F22).
func (w *World) reset(conn *connection, reason string) { w.resetBy(conn, reason, nil) }

// resetBy is reset for a connection that the session of pipe by ended
// with a protocol error (F6); by is nil for any other end.
func (w *World) resetBy(conn *connection, reason string, by *pipe) {
	n := len(w.live)
	if w.live = removeFirst(w.live, func(c *connection) bool { return c == conn }); len(w.live) == n {
		return // ended already
	}
	for d := ToBinder; d <= ToConnecter; d++ {
		for _, m := range conn.wire[d] {
			w.observeMsg(EventDrop, conn.src(d).owner.name, conn.dst(d).owner.name, bodyText(m), "in flight when connection ended: "+reason)
		}
		conn.wire[d] = nil
	}
	for d := ToBinder; d <= ToConnecter; d++ {
		p := conn.pipes[d]
		p.conn = nil
		s := p.owner
		if w.isOpen(s) {
			w.observe(EventDisconnect, s.name, conn.dst(d).owner.name, reason)
		}
		c := p.connecter
		if c != nil {
			c.conn = nil
		}
		if c != nil && !c.stopped && w.profile.NoReconnect {
			// Departs from F23: the connection is never re-established.
			w.stop(c)
		}
		if c != nil && !c.stopped && p == by {
			// F6: libzmq does not re-establish a connection that its
			// session ended for a protocol error (session_base.cpp,
			// engine_error). The peer only sees the connection close, and
			// reconnects if it is the connecting side (F23).
			w.stop(c)
		}
		if c != nil && !c.stopped && !s.opts.Immediate && !w.profile.NoPipeWithoutConnection { // F21
			w.scheduleReconnect(c) // the pipe survives with its contents
			continue
		}
		w.terminate(p, reason)
		if c != nil && !c.stopped {
			w.scheduleReconnect(c)
		}
	}
}

const reasonProtocolError = "protocol error"

// pump lets a connection's engines move messages from their pipes onto the
// wire while the receiving pipe has room: in-flight messages count against
// the receiver's RCVHWM, which is how backpressure reaches the sender.
func (w *World) pump(conn *connection) {
	for d := ToBinder; d <= ToConnecter; d++ {
		src, dst := conn.src(d), conn.dst(d)
		moved := false
		for len(src.out) > 0 && len(dst.in)+len(conn.wire[d]) < dst.owner.opts.rcvHWM() {
			var m Message
			m, src.out = popFront(src.out)
			conn.wire[d] = append(conn.wire[d], m)
			w.emit(Transmit{Conn: conn.id, Dir: d, From: src.owner.name, To: dst.owner.name, Msg: m})
			moved = true
		}
		if moved {
			w.roomMade(src)
		}
	}
}

// Arrive delivers the oldest message in flight on conn in direction d to
// the receiving pipe. Arrivals on a connection that has ended are no-ops:
// its messages were already reported lost.
func (w *World) Arrive(id ConnID, d Dir) {
	conn := w.conn(id)
	if conn == nil || len(conn.wire[d]) == 0 {
		return
	}
	var m Message
	m, conn.wire[d] = popFront(conn.wire[d])
	dst := conn.dst(d)
	if dst.owner.typ == REQ && !wellFormedReply(m) && !w.profile.ReplyUnchecked {
		// F6: REQ's session accepts only [id,] "", body...; anything else
		// is a protocol error that ends the connection for good.
		w.observeMsg(EventDrop, dst.owner.name, conn.src(d).owner.name, m.Text(), "malformed reply")
		w.resetBy(conn, reasonProtocolError, dst)
		return
	}
	dst.in = append(dst.in, m)
	w.arrived(dst)
}

// wellFormedReply is libzmq's req_session_t check: a delimiter, optionally
// after a 4-byte request id, followed by at least one body frame.
func wellFormedReply(m Message) bool {
	if len(m) >= 2 && m[0] == Delimiter {
		return true
	}
	return len(m) >= 3 && len(m[0]) == 4 && m[1] == Delimiter
}

// Cut ends every connection between sockets a and b, as a failed link does.
// Reconnects continue; a driver keeps them failing by answering DialDone
// with reachable=false until the link heals.
func (w *World) Cut(a, b string) int {
	n := 0
	for _, conn := range w.sortedConns() {
		x, y := conn.pipes[0].owner.name, conn.pipes[1].owner.name
		if (x == a && y == b) || (x == b && y == a) {
			w.reset(conn, "link cut")
			n++
		}
	}
	return n
}

// sortedConns returns a copy of the live connections, oldest first, so that
// callers may end connections while they iterate.
func (w *World) sortedConns() []*connection {
	return append([]*connection(nil), w.live...)
}

// Endpoint returns the name of the socket bound to endpoint, if any.
func (w *World) Endpoint(endpoint string) (string, bool) {
	s := w.bound(endpoint)
	if s == nil {
		return "", false
	}
	return s.name, true
}

// ConnectionsOf lists the live connections of a socket, for drivers and
// tests.
func (w *World) ConnectionsOf(name string) []ConnID {
	var out []ConnID
	for _, c := range w.sortedConns() {
		if c.pipes[0].owner.name == name || c.pipes[1].owner.name == name {
			out = append(out, c.id)
		}
	}
	return out
}

func (c *connection) String() string {
	return fmt.Sprintf("conn %d %s<->%s", c.id, c.pipes[0].owner.name, c.pipes[1].owner.name)
}
