package model

import "slices"

// This file is what an exhaustive explorer (package check) needs from the
// model: a deep copy of a World, a canonical encoding of its state without
// identifiers, and the pending work a driver would otherwise learn from
// effects. None of it changes the model's behaviour.

// Clone returns a deep copy of w that resolves open choices with chooser
// (w's own chooser when nil). The copy shares no mutable memory with w:
// pipes, connections and connect()s are copied, messages are shared, since
// the model never changes a queued message in place. Pending effects are
// not copied; the copy starts with none.
func (w *World) Clone(chooser Chooser) *World {
	return w.CloneInto(&Scratch{}, chooser)
}

// Scratch is the memory of one World copy, kept for the next copy: an
// explorer that makes millions of short-lived copies reuses the memory of
// those it has finished with instead of allocating and collecting it. The
// zero value is an empty scratch.
type Scratch struct {
	w       *World
	sockets []socket
	pipes   []pipe
	conns   []connection
	conners []connecter
	// short counts, per slab (sockets, pipes, conns, conners, msgs), what
	// the last copy had to allocate one by one because the slab was full;
	// the next copy grows the slab.
	short [5]int
	// msgs holds the copies of every pipe's and wire's queue, one after
	// another, each capped at its length so that the model's appends
	// move a queue out rather than overwrite its neighbour.
	msgs []Message
	memo cloner
}

// CloneInto is Clone into the memory of s, and returns the copy, which
// then owns s: the World that s held before must no longer be used, nor
// anything taken from it but messages.
func (w *World) CloneInto(s *Scratch, chooser Chooser) *World {
	if chooser == nil {
		chooser = w.chooser
	}
	c := &s.memo
	c.s = s
	c.sockets, c.pipes, c.conns, c.conners = c.sockets[:0], c.pipes[:0], c.conns[:0], c.conners[:0]
	n := s.w
	if n == nil {
		n = &World{
			sockets:  make(map[string]*socket, len(w.sockets)),
			binds:    make(map[string]*socket, len(w.binds)),
			conns:    make(map[ConnID]*connection, len(w.conns)),
			attempts: make(map[AttemptID]*connecter, len(w.attempts)),
			timers:   make(map[TimerID]*connecter, len(w.timers)),
		}
		s.w = n
		// Slabs sized for this world and a little growth; a copy that
		// needs more allocates the rest one by one and the next copy
		// grows the slab.
		pipes, conners := 0, 0
		for _, k := range w.sockets {
			pipes += len(k.pipes)
			conners += len(k.connect)
		}
		s.sockets = make([]socket, 0, len(w.sockets)+1)
		s.pipes = make([]pipe, 0, pipes+2)
		s.conns = make([]connection, 0, len(w.conns)+1)
		s.conners = make([]connecter, 0, conners+1)
	} else {
		// The keys of sockets and binds rarely change from one state to
		// the next: overwriting them, and deleting what is left over,
		// costs less than clearing the maps and inserting again.
		clear(n.conns)
		clear(n.attempts)
		clear(n.timers)
		s.sockets = regrow(s.sockets, &s.short[0])
		s.pipes = regrow(s.pipes, &s.short[1])
		s.conns = regrow(s.conns, &s.short[2])
		s.conners = regrow(s.conners, &s.short[3])
		s.msgs = regrow(s.msgs, &s.short[4])
	}
	n.profile, n.chooser, n.nextID, n.mutable = w.profile, chooser, w.nextID, w.mutable
	n.effects = n.effects[:0]
	n.live = room(n.live, len(w.live))
	for name, k := range w.sockets {
		n.sockets[name] = c.socket(k)
	}
	if len(n.sockets) != len(w.sockets) {
		for name := range n.sockets {
			if w.sockets[name] == nil {
				delete(n.sockets, name)
			}
		}
	}
	for ep, k := range w.binds {
		n.binds[ep] = c.socket(k)
	}
	if len(n.binds) != len(w.binds) {
		for ep := range n.binds {
			if w.binds[ep] == nil {
				delete(n.binds, ep)
			}
		}
	}
	// conns and live hold the same connections (DialDone adds to both,
	// reset removes from both), so the map is rebuilt from the list
	// without iterating it; a world where they differ is copied the long
	// way.
	for _, k := range w.live {
		nk := c.conn(k)
		n.live = append(n.live, nk)
		n.conns[nk.id] = nk
	}
	if len(n.conns) != len(w.conns) {
		for id, k := range w.conns {
			n.conns[id] = c.conn(k)
		}
	}
	for id, k := range w.attempts {
		n.attempts[id] = c.connecter(k)
	}
	for id, k := range w.timers {
		n.timers[id] = c.connecter(k)
	}
	return n
}

// regrow empties a slab for the next copy, first making room for the
// nodes the last copy had to allocate one by one.
func regrow[T any](slab []T, short *int) []T {
	if *short > 0 {
		slab = make([]T, 0, cap(slab)+*short+1)
		*short = 0
	}
	return slab[:0]
}

// SetChooser makes w resolve its open choices with chooser from now on
// (FirstChooser when nil).
func (w *World) SetChooser(chooser Chooser) {
	if chooser == nil {
		chooser = FirstChooser{}
	}
	w.chooser = chooser
}

// cloner copies the pointer graph of a World once per node. A world of a
// checkable size has a few dozen nodes, so the memo is a list searched
// from the start, which costs less than a map.
type cloner struct {
	s       *Scratch
	sockets []pair[socket]
	pipes   []pair[pipe]
	conns   []pair[connection]
	conners []pair[connecter]
}

type pair[T any] struct{ old, new *T }

func memo[T any](m []pair[T], old *T) *T {
	for _, p := range m {
		if p.old == old {
			return p.new
		}
	}
	return nil
}

// slot returns the next element of a slab, zeroed except for the slices
// it held, which the caller reuses; past the slab's capacity it allocates.
func slot[T any](slab *[]T, short *int) *T {
	if len(*slab) < cap(*slab) {
		*slab = (*slab)[:len(*slab)+1]
		return &(*slab)[len(*slab)-1]
	}
	*short++
	return new(T)
}

func (c *cloner) socket(s *socket) *socket {
	if s == nil {
		return nil
	}
	if n := memo(c.sockets, s); n != nil {
		return n
	}
	n := slot(&c.s.sockets, &c.s.short[0])
	pipes, binds, connect, arrivals := room(n.pipes, len(s.pipes)), room(n.binds, len(s.binds)), room(n.connect, len(s.connect)), room(n.arrivals, len(s.arrivals))
	lb, fq := room(n.lb.pipes, len(s.lb.pipes)), room(n.fq.pipes, len(s.fq.pipes))
	*n = *s
	c.sockets = append(c.sockets, pair[socket]{s, n})
	n.pipes = pipes
	for _, p := range s.pipes {
		n.pipes = append(n.pipes, c.pipe(p))
	}
	n.lb.pipes, n.fq.pipes = lb, fq
	for _, p := range s.lb.pipes {
		n.lb.pipes = append(n.lb.pipes, c.pipe(p))
	}
	for _, p := range s.fq.pipes {
		n.fq.pipes = append(n.fq.pipes, c.pipe(p))
	}
	n.binds = append(binds, s.binds...)
	n.connect = connect
	for _, k := range s.connect {
		n.connect = append(n.connect, c.connecter(k))
	}
	n.replyPipe = c.pipe(s.replyPipe)
	n.envPipe = c.pipe(s.envPipe)
	n.arrivals = nil
	if s.arrivals != nil {
		n.arrivals = arrivals
		for _, p := range s.arrivals {
			n.arrivals = append(n.arrivals, c.pipe(p))
		}
	}
	return n
}

func (c *cloner) pipe(p *pipe) *pipe {
	if p == nil {
		return nil
	}
	if n := memo(c.pipes, p); n != nil {
		return n
	}
	n := slot(&c.s.pipes, &c.s.short[1])
	*n = *p
	c.pipes = append(c.pipes, pair[pipe]{p, n})
	n.out = c.s.queue(p.out)
	n.in = c.s.queue(p.in)
	n.owner = c.socket(p.owner)
	n.conn = c.conn(p.conn)
	n.connecter = c.connecter(p.connecter)
	return n
}

// queue copies a pipe's or a wire's queue src into the scratch's message
// slab while it has room, else into new memory; a nil src stays nil. It
// never reuses the memory of the queue the slot held before, which may lie
// in the slab, where other queues of this copy now are.
func (s *Scratch) queue(src []Message) []Message {
	if src == nil {
		return nil
	}
	if n := len(s.msgs); n+len(src) <= cap(s.msgs) {
		s.msgs = append(s.msgs, src...)
		return s.msgs[n:len(s.msgs):len(s.msgs)]
	}
	s.short[4] += len(src)
	return append(make([]Message, 0, len(src)+2), src...)
}

// room empties s for reuse, or, when it cannot hold n, returns a new
// slice with room to spare: a slot of a slab holds a different socket or
// pipe from one copy to the next, and growing by exactly what is needed
// each time would allocate on most copies.
func room[T any](s []T, n int) []T {
	if cap(s) >= n {
		return s[:0]
	}
	return make([]T, 0, n+2)
}

func (c *cloner) conn(k *connection) *connection {
	if k == nil {
		return nil
	}
	if n := memo(c.conns, k); n != nil {
		return n
	}
	n := slot(&c.s.conns, &c.s.short[2])
	n.id = k.id
	c.conns = append(c.conns, pair[connection]{k, n})
	for d := range k.wire {
		n.wire[d] = c.s.queue(k.wire[d])
	}
	for d, p := range k.pipes {
		n.pipes[d] = c.pipe(p)
	}
	return n
}

func (c *cloner) connecter(k *connecter) *connecter {
	if k == nil {
		return nil
	}
	if n := memo(c.conners, k); n != nil {
		return n
	}
	n := slot(&c.s.conners, &c.s.short[3])
	*n = *k
	c.conners = append(c.conners, pair[connecter]{k, n})
	n.sock = c.socket(k.sock)
	n.pipe = c.pipe(k.pipe)
	n.conn = c.conn(k.conn)
	return n
}

// Flight is one connection direction with messages in flight: World.Arrive
// (Conn, Dir) would deliver the oldest of them (FIFO per direction, as on
// TCP).
type Flight struct {
	Conn     ConnID
	Dir      Dir
	From, To string // socket names
	N        int    // messages in flight
}

// InFlight lists every connection direction that has messages in flight,
// in the order the connections were made.
func (w *World) InFlight() []Flight { return w.AppendInFlight(nil) }

// AppendInFlight is InFlight appended to dst, so that an explorer that
// asks for every state reuses one buffer.
func (w *World) AppendInFlight(dst []Flight) []Flight {
	for _, k := range w.live {
		for d := ToBinder; d <= ToConnecter; d++ {
			if n := len(k.wire[d]); n > 0 {
				dst = append(dst, Flight{Conn: k.id, Dir: d, From: k.src(d).owner.name, To: k.dst(d).owner.name, N: n})
			}
		}
	}
	return dst
}

// PendingDial is a dial attempt that World.DialDone has not completed.
type PendingDial struct {
	Attempt  AttemptID
	From     string // the connecting socket
	Endpoint string
}

// PendingDials lists the dial attempts in progress, oldest first.
func (w *World) PendingDials() []PendingDial {
	return w.AppendPendingDials(make([]PendingDial, 0, len(w.attempts)))
}

// AppendPendingDials is PendingDials appended to dst.
func (w *World) AppendPendingDials(dst []PendingDial) []PendingDial {
	n := len(dst)
	for id, k := range w.attempts {
		dst = append(dst, PendingDial{Attempt: id, From: k.sock.name, Endpoint: k.endpoint})
	}
	sortSmall(dst[n:], func(a, b PendingDial) bool { return a.Attempt < b.Attempt })
	return dst
}

// sortSmall is an insertion sort: the lists it sorts hold a handful of
// entries, where it beats slices.SortFunc.
func sortSmall[T any](s []T, less func(a, b T) bool) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && less(s[j], s[j-1]); j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// PendingTimer is a reconnect timer that World.TimerFired has not run (F23).
type PendingTimer struct {
	Timer    TimerID
	Owner    string
	Endpoint string
}

// PendingTimers lists the reconnect timers that are running, oldest first.
func (w *World) PendingTimers() []PendingTimer {
	return w.AppendPendingTimers(make([]PendingTimer, 0, len(w.timers)))
}

// AppendPendingTimers is PendingTimers appended to dst.
func (w *World) AppendPendingTimers(dst []PendingTimer) []PendingTimer {
	n := len(dst)
	for id, k := range w.timers {
		dst = append(dst, PendingTimer{Timer: id, Owner: k.sock.name, Endpoint: k.endpoint})
	}
	sortSmall(dst[n:], func(a, b PendingTimer) bool { return a.Timer < b.Timer })
	return dst
}

// Clone returns a copy of the queue that shares no memory with q.
func (q *AppQueue) Clone() AppQueue { return q.CloneInto(nil) }

// CloneInto is Clone reusing the memory of old, a queue no longer in use
// (nil: new memory).
func (q *AppQueue) CloneInto(old *AppQueue) AppQueue {
	var buf []byte
	if old != nil {
		buf = old.buf[:0]
	}
	if q.n > 0 {
		buf = append(buf, q.buf[q.head:]...)
	}
	return AppQueue{buf: buf, n: q.n, dropAbove: q.dropAbove}
}

// Rank maps the socket names and endpoints of a world to small integers
// for AppendCanonical; names it does not know map to -1 and are written
// out in full.
type Rank func(name string) int

// AppendCanonical appends to buf an encoding of the named socket's state
// that holds no identifiers: peers and endpoints appear as rank gives
// them, pipes by their place in the socket's rotation, connections by the
// pipes they join, dial attempts and timers by the connect() they belong
// to. Two worlds whose sockets encode equally under ranks that differ only
// by a renaming of interchangeable sockets behave alike under that
// renaming, which is what symmetry reduction relies on. A socket that is
// not open encodes as one byte.
//
// The encoding leaves out what cannot change what the world does next:
// connection, attempt and timer ids and the id counter (the model only
// compares them for identity), the order of live connections (between two
// sockets there is at most one connection per connect(), and each reset
// is independent of the others), and the reconnect interval's jitter,
// which only sets StartTimer.After (F23).
func (w *World) AppendCanonical(buf []byte, name string, rank Rank) []byte {
	s := w.sockets[name]
	if s == nil {
		return append(buf, 0)
	}
	e := encoder{buf: buf, rank: rank, s: s}
	e.byte(1 + byte(s.typ))
	e.bool(s.receivingReply)
	e.bool(s.idStarted)
	if s.idStarted {
		e.int(int(s.requestID))
	}
	e.msg(s.request)
	e.bool(s.peerGone)
	e.bool(s.sendingReply)
	e.msg(s.envelope)
	e.msg(s.held)
	e.int(s.sendRR)
	e.int(s.recvRR)
	e.rotation(w, &s.lb)
	e.rotation(w, &s.fq)
	e.int(len(s.binds))
	for _, ep := range s.binds {
		e.name(ep)
	}
	e.int(len(s.pipes))
	for _, p := range s.pipes {
		e.pipe(w, p)
	}
	e.ref(w, s.replyPipe)
	e.ref(w, s.envPipe)
	e.int(len(s.arrivals))
	for _, p := range s.arrivals {
		e.ref(w, p)
	}
	e.int(len(s.connect))
	for _, k := range s.connect {
		e.name(k.endpoint)
		e.ref(w, k.pipe)
		e.bool(k.conn != nil)
		e.bool(k.attempt != 0)
		e.bool(k.timer != 0)
		e.bool(k.stopped)
		e.int(int(k.ivl))
	}
	return e.buf
}

type encoder struct {
	buf  []byte
	rank Rank
	s    *socket
}

func (e *encoder) byte(b byte) { e.buf = append(e.buf, b) }

func (e *encoder) bool(b bool) {
	if b {
		e.buf = append(e.buf, 1)
	} else {
		e.buf = append(e.buf, 0)
	}
}

// int is a zig-zag varint.
func (e *encoder) int(n int) {
	u := uint64(n<<1) ^ uint64(n>>63)
	for u >= 0x80 {
		e.buf = append(e.buf, byte(u)|0x80)
		u >>= 7
	}
	e.buf = append(e.buf, byte(u))
}

func (e *encoder) str(s string) {
	e.int(len(s))
	e.buf = append(e.buf, s...)
}

func (e *encoder) name(n string) {
	if r := e.rank(n); r >= 0 {
		e.int(r)
		return
	}
	e.int(-1)
	e.str(n)
}

func (e *encoder) msg(m Message) {
	if m == nil {
		e.int(-1)
		return
	}
	e.int(len(m))
	for _, f := range m {
		e.str(f)
	}
}

func (e *encoder) msgs(ms []Message) {
	e.int(len(ms))
	for _, m := range ms {
		e.msg(m)
	}
}

// pipe encodes a pipe's contents and, for the connecting end of a
// connection, the connection's wire in both directions and the binding
// pipe's place in its socket's rotation. A binding end encodes only that it
// is connected: its connection is encoded with the connecting socket.
func (e *encoder) pipe(w *World, p *pipe) {
	e.name(p.peer)
	e.bool(p.terminated)
	e.msgs(p.out)
	e.msgs(p.in)
	switch {
	case p.conn == nil:
		e.byte(0)
	case p.conn.pipes[ToBinder] == p:
		e.byte(1)
		other := p.conn.pipes[ToConnecter]
		e.int(slices.Index(other.owner.pipes, other))
		e.msgs(p.conn.wire[ToBinder])
		e.msgs(p.conn.wire[ToConnecter])
	default:
		e.byte(2)
		e.int(slices.Index(p.conn.pipes[ToBinder].owner.pipes, p.conn.pipes[ToBinder]))
	}
	if p.connecter != nil {
		e.int(slices.Index(p.owner.connect, p.connecter))
	} else {
		e.int(-1)
	}
}

// rotation encodes libzmq's order of a socket's pipes (F8, F14).
func (e *encoder) rotation(w *World, r *rotation) {
	e.int(len(r.pipes))
	for _, p := range r.pipes {
		e.ref(w, p)
	}
	e.int(r.active)
	e.int(r.current)
}

// ref encodes a reference to one of the socket's pipes: its place in the
// rotation, or, for a pipe that has left it (a REQ still waiting on the
// pipe of a dead connection, F10; a REP owing a reply to a gone client,
// F16), the pipe itself.
func (e *encoder) ref(w *World, p *pipe) {
	if p == nil {
		e.int(-1)
		return
	}
	if i := slices.Index(e.s.pipes, p); i >= 0 {
		e.int(i)
		return
	}
	e.int(-2)
	e.name(p.peer)
	e.bool(p.terminated)
	e.bool(p.conn != nil)
	e.msgs(p.in)
	e.msgs(p.out)
}
