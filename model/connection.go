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
	if receivesRoutingID(c.sock, b) && len(c.pipe.in)+c.pipe.inLag >= c.sock.opts.rcvHWM() {
		// F21: only a pipe that survived a reconnect (IMMEDIATE=0) can be
		// full here. Its socket's monitor never reports the handshake.
		conn.stalled = true
		w.observe(EventConnect, c.sock.name, b.name, "handshake stalled: the full pipe refused the peer's routing id")
	} else {
		w.observe(EventConnect, c.sock.name, b.name, "")
	}
	if s := c.sock; teeth && w.mut().ResendOnReconnect && s.typ == REQ && s.receivingReply && s.requestMsg != nil {
		// Mutant: the outstanding request is sent again on the new
		// connection; libzmq never does this (F19).
		c.pipe.out = append(c.pipe.out, s.requestMsg)
	}
	w.pump(conn)
}

// receivesRoutingID says whether the connecting socket s pushes its peer
// b's routing id into its pipe at the end of each handshake: a REP, or a
// DEALER facing a REQ, which stands for a ROUTER (both are router_t, with
// options.recv_routing_id; stream_engine_base.cpp, mechanism_ready).
func receivesRoutingID(s, b *socket) bool {
	return s.typ == REP || s.typ == DEALER && b.typ == REQ
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
	if s.sendRR > i && !w.nextConnKept(s) {
		s.sendRR++
	}
	if s.recvRR > i {
		s.recvRR++
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
	if conn.ended {
		// A side still taking what had reached it ends now, and loses it.
		for d := ToBinder; d <= ToConnecter; d++ {
			if p := conn.pipes[d]; p.conn == conn {
				w.endSide(conn, d, reason, by)
			}
		}
		return
	}
	n := len(w.live)
	if w.live = removeFirst(w.live, func(c *connection) bool { return c == conn }); len(w.live) == n {
		return // ended already
	}
	conn.ended, conn.reason = true, reason
	for d := ToBinder; d <= ToConnecter; d++ {
		// What had reached the receiving engine is still read from its
		// socket: an engine that stopped reading for want of room sees the
		// end of the connection only after it has pushed all of it
		// (stream_engine_base.cpp, in_event; TCP keeps what arrived before
		// the close). Unless that engine is the one that is going: its
		// socket closed, or its session found the protocol error.
		keep := conn.landed[d]
		if dst := conn.dst(d); !w.isOpen(dst.owner) || dst == by {
			keep = 0
		}
		for _, m := range conn.wire[d][keep:] {
			w.observeMsg(EventDrop, conn.src(d).owner.name, conn.dst(d).owner.name, bodyText(m), "in flight when connection ended: "+reason)
		}
		clear(conn.wire[d][keep:])
		conn.wire[d], conn.landed[d] = conn.wire[d][:keep], keep
	}
	for d := ToBinder; d <= ToConnecter; d++ {
		if conn.landed[1-d] == 0 {
			w.endSide(conn, d, reason, by)
		}
	}
}

// endSide ends the side of an ended connection whose pipe is pipes[d]:
// what still waits at its engine is lost, its socket sees the disconnect,
// and its pipe survives for a reconnect (F21) or is destroyed (F22).
func (w *World) endSide(conn *connection, d Dir, reason string, by *pipe) {
	p := conn.pipes[d]
	in := 1 - d // the direction that enters p
	for _, m := range conn.wire[in] {
		w.observeMsg(EventDrop, conn.src(in).owner.name, p.owner.name, bodyText(m), "in flight when connection ended: "+reason)
	}
	conn.wire[in], conn.landed[in] = nil, 0
	p.conn = nil
	s := p.owner
	if w.isOpen(s) {
		w.observe(EventDisconnect, s.name, conn.dst(d).owner.name, reason)
	}
	c := p.connecter
	if c != nil && c.conn == conn {
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
		return
	}
	w.terminate(p, reason)
	if c != nil && !c.stopped {
		w.scheduleReconnect(c)
	}
}

const reasonProtocolError = "protocol error"

// pump lets a connection's engines move every message of their pipes onto
// the wire. TCP holds what the receiver's pipe has no room for: the
// receiving engine stops reading, and the sender's engine stops taking
// only once the kernel's buffers are full, which the model does not count
// (they hold bytes: on Linux loopback more than 100 small messages, far
// more than any script sends; LIBZMQ-FINDINGS.md, F18). So a connected
// pipe never fills, and a send blocks only on a pipe without a connection.
// The engine's reads reach the socket's count every LWM messages
// (pipe.cpp), and only then does the pipe count as having room again.
func (w *World) pump(conn *connection) {
	if conn.ended {
		// The engine of a side still taking what had reached it writes no
		// more: what its pipe holds stays there (F21, F22).
		return
	}
	for d := ToBinder; d <= ToConnecter; d++ {
		src, dst := conn.src(d), conn.dst(d)
		told := false
		for len(src.out) > 0 {
			var m Message
			m, src.out = popFront(src.out)
			conn.wire[d] = append(conn.wire[d], m)
			w.emit(Transmit{Conn: conn.id, Dir: d, From: src.owner.name, To: dst.owner.name, Msg: m})
			if src.outLag++; src.outLag == lwm(src.owner.opts.sndHWM()) {
				src.outLag, told = 0, true
				if src.owner.typ == REP {
					src.outMail += lwm(src.owner.opts.sndHWM())
				}
			}
		}
		if told {
			w.roomMade(src)
		}
	}
}

// Arrive is the oldest message in flight on conn in direction d reaching
// the receiving engine, which pushes it into the receiving pipe if that
// has room; otherwise it waits there with those behind it (F18). Arrivals
// on a connection that has ended are no-ops: its messages were already
// reported lost.
func (w *World) Arrive(id ConnID, d Dir) {
	conn := w.conn(id)
	if conn == nil || conn.landed[d] >= len(conn.wire[d]) {
		return
	}
	conn.landed[d]++
	if conn.landed[d] == 1 {
		w.deliver(conn, d, false)
	}
}

// deliver is the receiving engine pushing the messages that have reached
// it into the receiving pipe, oldest first, until one finds the pipe at
// its RCVHWM (as the pipe's writer counts, see pipe.inLag); retry says the
// oldest was refused before and is being pushed again because the socket's
// reads made room (stream_engine_base.cpp, restart_input).
func (w *World) deliver(conn *connection, d Dir, retry bool) {
	for conn.landed[d] > 0 {
		m, dst := conn.wire[d][0], conn.dst(d)
		if conn.stalled && d == ToConnecter {
			// F21: the stalled engine takes the message for a handshake
			// command, which the NULL mechanism refuses once it is ready
			// (null_mechanism.cpp: ZMTP_UNEXPECTED_COMMAND).
			w.refuse(conn, d, bodyText(m), "taken for a handshake command")
			return
		}
		full := len(dst.in)+dst.inLag >= dst.owner.opts.rcvHWM()
		if dst.owner.typ == REQ && !w.profile.ReplyUnchecked {
			// F6: REQ's session accepts only [id,] "", body...; anything
			// else is a protocol error that ends the connection for good.
			// It checks the first frame before it pushes it, so a bad one
			// ends the connection even when the pipe is full.
			switch {
			case !replyStart(m) || !full && !wellFormedReply(m):
				w.refuse(conn, d, m.Text(), "malformed reply")
				return
			case full:
				return
			case retry && len(m[0]) == 4:
				// req_session_t moves to its request-id state before the
				// push of the id frame that the full pipe refused, and
				// takes the same frame again for a wrong one: a reply with
				// a request id that waited for room ends the connection
				// (req.cpp, push_msg; LIBZMQ-FINDINGS.md).
				w.refuse(conn, d, bodyText(m), "request id refused by a full pipe, then taken for a wrong frame")
				return
			}
		} else if full {
			return
		}
		retry = false
		_, conn.wire[d] = popFront(conn.wire[d])
		conn.landed[d]--
		dst.in = append(dst.in, m)
		w.arrived(dst)
		if conn.ended && conn.landed[d] == 0 {
			// The engine has pushed what reached it and reads the end of
			// the connection.
			w.endSide(conn, 1-d, conn.reason, nil)
			return
		}
	}
}

// refuse is a protocol error on the oldest message that reached the
// receiving engine of conn in direction d: the receiver's session ends the
// connection for good (F6); the message is dropped, with text and reason
// for the trace.
func (w *World) refuse(conn *connection, d Dir, text, reason string) {
	_, conn.wire[d] = popFront(conn.wire[d])
	conn.landed[d]--
	dst := conn.dst(d)
	w.observeMsg(EventDrop, dst.owner.name, conn.src(d).owner.name, text, reason)
	w.resetBy(conn, reasonProtocolError, dst)
}

// replyStart says whether REQ's session accepts the first frame of m (a
// delimiter or a 4-byte request id, with more frames after it) before it
// pushes it; what follows it is checked after (req.cpp, push_msg).
func replyStart(m Message) bool {
	return len(m) >= 2 && (m[0] == Delimiter || len(m[0]) == 4)
}

// roomIn is the socket's read of a message from p telling the engine, every
// LWM reads, that the pipe has room: the engine pushes what waits for it
// (F18). The engine does so on libzmq's I/O thread: while World.holdRefills
// is set (REQ's drain of stale replies reads in one call, F9), whether it
// pushes before the drain ends is an open choice (ChoiceDrainRefill), and
// a refill that comes after waits for the call to end.
func (w *World) roomIn(p *pipe) {
	if p.inLag++; p.inLag < lwm(p.owner.opts.rcvHWM()) {
		return
	}
	p.inLag = 0
	conn := p.conn
	if conn == nil {
		return
	}
	d := ToBinder
	if conn.pipes[ToBinder] == p {
		d = ToConnecter
	}
	if w.holdRefills && conn.landed[d] > 0 && w.choose(ChoiceDrainRefill, 2) == 0 {
		w.refills = append(w.refills, refill{conn, d})
		return
	}
	w.refill(conn, d)
}

// refill is the engine of conn told of room in the pipe direction d
// enters. An engine whose handshake stalled is not waiting for room
// (F21): libzmq 4.3.4 then fails an assertion and aborts the process
// (stream_engine_base.cpp: restart_input asserts _input_stopped). The
// model reports that as an error and ends the connection as the engine
// would without the assertion (its handshake code refuses the message it
// is handed).
func (w *World) refill(conn *connection, d Dir) {
	if conn.dst(d).conn != conn {
		return // that side of the connection ended meanwhile
	}
	if conn.stalled && d == ToConnecter {
		p := conn.dst(d)
		w.observe(EventError, p.owner.name, conn.src(d).owner.name, AbortStalledRead)
		w.resetBy(conn, reasonProtocolError, p)
		return
	}
	w.deliver(conn, d, true)
}

// refill is one refill that waits for the end of a call (roomIn).
type refill struct {
	conn *connection
	d    Dir
}

// releaseRefills ends holdRefills and runs the refills it held.
func (w *World) releaseRefills() {
	w.holdRefills = false
	for i, r := range w.refills {
		w.refills[i] = refill{}
		w.refill(r.conn, r.d)
	}
	w.refills = w.refills[:0]
}

// AbortStalledRead is the reason of the error event the model reports
// where libzmq 4.3.4 aborts: a socket read made room in a pipe whose
// connection's handshake had stalled on it (F21, LIBZMQ-FINDINGS.md).
const AbortStalledRead = "libzmq aborts here: Assertion failed: _input_stopped (stream_engine_base.cpp:417)"

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
