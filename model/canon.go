package model

import (
	"encoding/binary"
	"slices"
	"unsafe"
)

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
//
// A copy's nodes lie in the scratch's slabs, one per kind, in the order
// the copy met them, and each node's slot field says where. Copying that
// copy again then finds the copy of each node it refers to by its slot,
// in constant time, instead of searching what it has copied so far.
// Nodes the model made after the copy (a new pipe, connection or socket)
// lie outside the slabs and are found by a search.
type Scratch struct {
	w       *World
	sockets []socket
	pipes   []pipe
	conns   []connection
	conners []connecter
	// lists holds every socket's pipe lists (pipes, rotations, arrivals)
	// and conners' their connect lists, each list with room for two more,
	// so that attaching a pipe does not allocate.
	lists  []*pipe
	clists []*connecter
	// msgs holds the copies of every pipe's and wire's queue, one after
	// another, each with room for one more message: that is what the
	// model appends as a message moves on, and the appends stay within
	// the queue's own room rather than reach its neighbour's.
	msgs []Message
	// short counts, per slab (in the order of the kinds above), what the
	// last copy had to allocate elsewhere because the slab was full; the
	// next copy grows the slab.
	short [7]int
	memo  cloner
	// For LoadState: the frames of the messages and the binds of the
	// world it rebuilt (new memory every time: copies share them), the
	// strings it has read, and for AppendState, its numbering.
	frames  []string
	strs    []string
	strings stringCache
	enc     stateEncoder
}

// The slabs' indices in Scratch.short.
const (
	slabSockets = iota
	slabPipes
	slabConns
	slabConners
	slabLists
	slabCLists
	slabMsgs
)

// CloneInto is Clone into the memory of s, and returns the copy, which
// then owns s: the World that s held before must no longer be used, nor
// anything taken from it but messages. s must not be the memory of w
// itself. Every node, list and queue of the copy lies in s's slabs: a
// copy that does not fit grows them and starts again (see Save).
func (w *World) CloneInto(s *Scratch, chooser Chooser) *World {
	if s == w.mem {
		panic("model: CloneInto into the memory of the world being copied")
	}
	if chooser == nil {
		chooser = w.chooser
	}
	for {
		n := w.cloneOnce(s, chooser)
		if s.short == [len(s.short)]int{} {
			return n
		}
	}
}

func (w *World) cloneOnce(s *Scratch, chooser Chooser) *World {
	n := s.w
	if n == nil {
		n = &World{}
		s.w = n
		s.size(w)
	} else {
		s.sockets = regrow(s.sockets, &s.short[slabSockets])
		s.pipes = regrow(s.pipes, &s.short[slabPipes])
		s.conns = regrow(s.conns, &s.short[slabConns])
		s.conners = regrow(s.conners, &s.short[slabConners])
		s.lists = regrow(s.lists, &s.short[slabLists])
		s.clists = regrow(s.clists, &s.short[slabCLists])
		s.msgs = regrow(s.msgs, &s.short[slabMsgs])
	}
	c := &s.memo
	c.start(s, w.mem)
	n.profile, n.chooser, n.nextID, n.mutable, n.mem = w.profile, chooser, w.nextID, w.mutable, s
	clear(n.effects)
	n.effects = n.effects[:0]
	n.sockets = room(n.sockets, len(w.sockets))
	for _, k := range w.sockets {
		n.sockets = append(n.sockets, c.socket(k))
	}
	n.binds = room(n.binds, len(w.binds))
	for _, b := range w.binds {
		n.binds = append(n.binds, binding{b.endpoint, c.socket(b.sock)})
	}
	n.live = room(n.live, len(w.live))
	for _, k := range w.live {
		n.live = append(n.live, c.conn(k))
	}
	n.attempts = room(n.attempts, len(w.attempts))
	for _, k := range w.attempts {
		n.attempts = append(n.attempts, c.connecter(k))
	}
	n.timers = room(n.timers, len(w.timers))
	for _, k := range w.timers {
		n.timers = append(n.timers, c.connecter(k))
	}
	return n
}

// Bytes is the memory s holds, counted from capacities: its slabs, its
// world and the world's lists, and the tables its copies use. An
// explorer that keeps many copies adds these up instead of measuring the
// heap, which would take a collection.
func (s *Scratch) Bytes() int {
	b := int(unsafe.Sizeof(*s)) +
		cap(s.sockets)*int(unsafe.Sizeof(socket{})) +
		cap(s.pipes)*int(unsafe.Sizeof(pipe{})) +
		cap(s.conns)*int(unsafe.Sizeof(connection{})) +
		cap(s.conners)*int(unsafe.Sizeof(connecter{})) +
		(cap(s.lists)+cap(s.clists))*ptrSize +
		cap(s.msgs)*int(unsafe.Sizeof(Message{}))
	c := &s.memo
	b += (cap(c.fSockets) + cap(c.fPipes) + cap(c.fConns) + cap(c.fConners)) * ptrSize
	b += (cap(c.sockets) + cap(c.pipes) + cap(c.conns) + cap(c.conners)) * 2 * ptrSize
	if w := s.w; w != nil {
		b += int(unsafe.Sizeof(*w)) + (cap(w.sockets)+cap(w.live)+cap(w.attempts)+cap(w.timers))*ptrSize +
			cap(w.binds)*int(unsafe.Sizeof(binding{})) + cap(w.effects)*int(unsafe.Sizeof(Effect(nil)))
	}
	return b
}

const ptrSize = int(unsafe.Sizeof(uintptr(0)))

// size makes a new scratch's slabs big enough for w and some growth: a
// connect() has at most one connection and one pipe of its own, and a
// binding socket's pipes come from them. A copy that needs more grows
// the slabs and starts again.
func (s *Scratch) size(w *World) {
	pipes, conners, msgs, lists := 0, 0, 0, 0
	for _, k := range w.sockets {
		pipes += len(k.pipes)
		conners += len(k.connect)
		lists += len(k.pipes) + len(k.lb.pipes) + len(k.fq.pipes) + len(k.arrivals) + 8
		for _, p := range k.pipes {
			msgs += len(p.in) + len(p.out) + 2
		}
	}
	for _, k := range w.live {
		msgs += len(k.wire[0]) + len(k.wire[1]) + 2
	}
	pipes = max(pipes, 2*conners) + 2
	s.sockets = make([]socket, 0, len(w.sockets)+1)
	s.pipes = make([]pipe, 0, pipes)
	s.conns = make([]connection, 0, max(len(w.live), conners)+2)
	s.conners = make([]connecter, 0, conners+2)
	s.lists = make([]*pipe, 0, lists+2*pipes)
	s.clists = make([]*connecter, 0, conners+2*len(w.sockets)+2)
	s.msgs = make([]Message, 0, msgs+pipes+8)
}

// regrow empties a slab for the next copy, first making room for what
// the last copy had to take elsewhere. The old contents stay until they
// are overwritten: they refer only to memory of this scratch's earlier
// copies, so they keep nothing else alive.
func regrow[T any](slab []T, short *int) []T {
	if *short > 0 {
		slab = make([]T, 0, cap(slab)+*short+cap(slab)/2+1)
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

// cloner copies the pointer graph of a World once per node. A node that
// lies in the source's Scratch is found by its slot in the forwarding
// tables (the copy of slab entry i); any other is found in a short list
// searched from the start.
type cloner struct {
	s *Scratch // the copy's memory
	// The source's slabs (none when it is not a copy).
	srcSockets []socket
	srcPipes   []pipe
	srcConns   []connection
	srcConners []connecter
	// The forwarding tables, one entry per entry of the source's slabs.
	fSockets []*socket
	fPipes   []*pipe
	fConns   []*connection
	fConners []*connecter
	// The nodes copied that lay outside the source's slabs.
	sockets []pair[socket]
	pipes   []pair[pipe]
	conns   []pair[connection]
	conners []pair[connecter]
}

type pair[T any] struct{ old, new *T }

// start prepares a copy from a world whose nodes lie in src (nil: none).
func (c *cloner) start(s, src *Scratch) {
	c.s = s
	c.sockets, c.pipes, c.conns, c.conners = c.sockets[:0], c.pipes[:0], c.conns[:0], c.conners[:0]
	c.srcSockets, c.srcPipes, c.srcConns, c.srcConners = nil, nil, nil, nil
	if src == nil {
		c.fSockets, c.fPipes, c.fConns, c.fConners = c.fSockets[:0], c.fPipes[:0], c.fConns[:0], c.fConners[:0]
		return
	}
	c.srcSockets, c.srcPipes, c.srcConns, c.srcConners = src.sockets, src.pipes, src.conns, src.conners
	c.fSockets = forward(c.fSockets, len(src.sockets))
	c.fPipes = forward(c.fPipes, len(src.pipes))
	c.fConns = forward(c.fConns, len(src.conns))
	c.fConners = forward(c.fConners, len(src.conners))
}

// forward returns a forwarding table of n empty entries.
func forward[T any](t []*T, n int) []*T {
	if cap(t) < n {
		return make([]*T, n, n+n/2+4)
	}
	t = t[:n]
	clear(t)
	return t
}

// find returns the copy of old made so far, or nil, and where to record
// the copy (a forwarding entry, or nil to use the list).
func find[T any](slab []T, slot int32, fwd []*T, list []pair[T], old *T) (*T, **T) {
	if i := int(slot); i >= 0 && i < len(slab) && &slab[i] == old {
		return fwd[i], &fwd[i]
	}
	for _, p := range list {
		if p.old == old {
			return p.new, nil
		}
	}
	return nil, nil
}

// take returns the next entry of a slab, zeroed except for the slices it
// held, with its slot set; past the slab's capacity it allocates.
func take[T any](slab *[]T, short *int) (*T, int32) {
	if len(*slab) < cap(*slab) {
		*slab = (*slab)[:len(*slab)+1]
		return &(*slab)[len(*slab)-1], int32(len(*slab) - 1)
	}
	*short++
	return new(T), -1
}

// copyOf returns the copy of old made so far and true, or else a new
// entry of slab holding *old, with its slot set, recorded as old's copy,
// and false: the caller then copies what old refers to.
func copyOf[T any](src []T, slot func(*T) *int32, fwd []*T, list *[]pair[T], slab *[]T, short *int, old *T) (*T, bool) {
	n, rec := find(src, *slot(old), fwd, *list, old)
	if n != nil {
		return n, true
	}
	n, at := take(slab, short)
	*n = *old
	*slot(n) = at
	if rec != nil {
		*rec = n
	} else {
		*list = append(*list, pair[T]{old, n})
	}
	return n, false
}

func socketSlotOf(k *socket) *int32       { return &k.slot }
func pipeSlotOf(p *pipe) *int32           { return &p.slot }
func connSlotOf(k *connection) *int32     { return &k.slot }
func connecterSlotOf(k *connecter) *int32 { return &k.slot }

// carve returns an empty list with room for n+2 entries from a list
// slab, or from new memory when the slab is full.
func carve[T any](slab *[]T, short *int, n int) []T {
	need := n + 2
	if k := len(*slab); k+need <= cap(*slab) {
		*slab = (*slab)[:k+need]
		return (*slab)[k : k : k+need]
	}
	*short += need
	return make([]T, 0, need)
}

// pipeList copies one of a socket's pipe lists into the list slab; a nil
// list stays nil.
func (c *cloner) pipeList(src []*pipe) []*pipe {
	if src == nil {
		return nil
	}
	l := carve(&c.s.lists, &c.s.short[slabLists], len(src))
	for _, p := range src {
		l = append(l, c.pipe(p))
	}
	return l
}

func (c *cloner) socket(s *socket) *socket {
	if s == nil {
		return nil
	}
	n, done := copyOf(c.srcSockets, socketSlotOf, c.fSockets, &c.sockets, &c.s.sockets, &c.s.short[slabSockets], s)
	if done {
		return n
	}
	n.pipes = c.pipeList(s.pipes)
	n.lb.pipes = c.pipeList(s.lb.pipes)
	n.fq.pipes = c.pipeList(s.fq.pipes)
	n.arrivals = c.pipeList(s.arrivals)
	if s.connect != nil {
		n.connect = carve(&c.s.clists, &c.s.short[slabCLists], len(s.connect))
		for _, k := range s.connect {
			n.connect = append(n.connect, c.connecter(k))
		}
	}
	// The model only ever appends to binds, and an append to a full
	// slice moves it: the copy can share the original's array.
	n.binds = s.binds[:len(s.binds):len(s.binds)]
	n.replyPipe = c.pipe(s.replyPipe)
	n.envPipe = c.pipe(s.envPipe)
	n.prefetchPipe = c.pipe(s.prefetchPipe)
	n.ackPipe = c.pipe(s.ackPipe)
	return n
}

func (c *cloner) pipe(p *pipe) *pipe {
	if p == nil {
		return nil
	}
	n, done := copyOf(c.srcPipes, pipeSlotOf, c.fPipes, &c.pipes, &c.s.pipes, &c.s.short[slabPipes], p)
	if done {
		return n
	}
	n.out = c.s.queue(p.out)
	n.in = c.s.queue(p.in)
	n.owner = c.socket(p.owner)
	n.conn = c.conn(p.conn)
	n.connecter = c.connecter(p.connecter)
	return n
}

// queue copies a pipe's or a wire's queue src into the scratch's message
// slab, with room for one more, while the slab has room, else into new
// memory. Each queue has its own part of the slab, which no other queue
// of this copy reaches; an append beyond its room moves it out.
func (s *Scratch) queue(src []Message) []Message {
	need := len(src) + 1
	if n := len(s.msgs); n+need <= cap(s.msgs) {
		s.msgs = s.msgs[:n+need]
		return append(s.msgs[n:n:n+need], src...)
	}
	s.short[slabMsgs] += need
	return append(make([]Message, 0, need), src...)
}

// room empties s for reuse, or, when it cannot hold n, returns a new
// slice with room to spare.
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
	n, done := copyOf(c.srcConns, connSlotOf, c.fConns, &c.conns, &c.s.conns, &c.s.short[slabConns], k)
	if done {
		return n
	}
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
	n, done := copyOf(c.srcConners, connecterSlotOf, c.fConners, &c.conners, &c.s.conners, &c.s.short[slabConners], k)
	if done {
		return n
	}
	n.sock = c.socket(k.sock)
	n.pipe = c.pipe(k.pipe)
	n.conn = c.conn(k.conn)
	return n
}

// Flight is one connection direction with messages in flight: World.Arrive
// (Conn, Dir) would bring the oldest of them to the receiving engine (FIFO
// per direction, as on TCP). Messages that have reached it and wait for
// room in the receiver's pipe are not in flight.
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
			if n := len(k.wire[d]) - k.landed[d]; n > 0 {
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
	for _, k := range w.attempts { // in id order
		dst = append(dst, PendingDial{Attempt: k.attempt, From: k.sock.name, Endpoint: k.endpoint})
	}
	return dst
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
	for _, k := range w.timers { // in id order
		dst = append(dst, PendingTimer{Timer: k.timer, Owner: k.sock.name, Endpoint: k.endpoint})
	}
	return dst
}

// Bytes is the memory the queue holds, counted from capacities.
func (q *AppQueue) Bytes() int { return int(unsafe.Sizeof(*q)) + cap(q.buf) }

// AppendState appends an encoding of q to buf, for LoadState.
func (q *AppQueue) AppendState(buf []byte) []byte {
	buf = binary.AppendUvarint(buf, uint64(q.n))
	buf = binary.AppendUvarint(buf, uint64(q.dropAbove))
	return appendString(buf, string(q.buf[q.head:]))
}

// LoadState rebuilds q, in its own memory, from the encoding AppendState
// appended at the start of buf, and returns the rest of buf.
func (q *AppQueue) LoadState(buf []byte) ([]byte, error) {
	d := stateDecoder{buf: buf}
	n, drop := d.int(), d.int()
	size := d.int()
	rest := d.rest()
	if d.err != nil || size > len(rest) {
		return nil, errState
	}
	q.buf = append(q.buf[:0], rest[:size]...)
	q.head, q.n, q.dropAbove = 0, n, drop
	return rest[size:], nil
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
	s := w.socket(name)
	if s == nil {
		return append(buf, 0)
	}
	e := encoder{buf: buf, rank: rank, s: s}
	e.socket(w, s)
	return e.buf
}

// Slot is a name that AppendCanonicalSlots left for its caller to write.
type Slot struct {
	Off int32 // where in the buffer its byte is
	ID  int32 // what the id function said of the name
}

// SlotUnknown is the byte AppendCanonicalSlots writes before a name that
// its id function does not know, which follows in full. The caller's
// bytes for known names must differ from it.
const SlotUnknown = 0xff

// AppendCanonicalSlots is AppendCanonical with the names left out: every
// name that id knows (a result of 0 or more) is written as one byte, 0,
// whose offset in buf and id are appended to slots, and any other as
// SlotUnknown and the name. The encoding with the slots left at 0
// compares sockets without their names; writing each slot's byte then
// gives an encoding under any ranking of the names, as AppendCanonical
// does, with one encoding of the socket instead of one per ranking.
// Package check's symmetry reduction needs both. A socket that is not
// open encodes as one byte, as in AppendCanonical.
func (w *World) AppendCanonicalSlots(buf []byte, name string, id Rank, slots []Slot) ([]byte, []Slot) {
	s := w.socketNamed(name)
	if s == nil {
		return append(buf, 0), slots
	}
	e := encoder{buf: buf, rank: id, s: s, slotted: true, slots: slots}
	e.socket(w, s)
	return e.buf, e.slots
}

// socketNamed is w.socket(name), at once when name is the very string the
// socket was opened with, as the explorer's names are: it runs for every
// socket of every state explored.
func (w *World) socketNamed(name string) *socket {
	for _, s := range w.sockets {
		if len(s.name) == len(name) && (unsafe.StringData(s.name) == unsafe.StringData(name) || s.name == name) {
			return s
		}
	}
	return nil
}

// socket encodes s (see AppendCanonical). The encoder passes the buffer
// along rather than keep it in the encoder: it stays in registers, which
// makes the encoding, the explorer's hottest loop, about twice as fast.
func (e *encoder) socket(w *World, s *socket) {
	b := slices.Grow(e.buf, 96)
	b = append(b, 1+byte(s.typ), bit(s.receivingReply), bit(s.idStarted))
	if s.idStarted {
		b = appendInt(b, int(s.requestID))
	}
	b = appendMsg(b, s.request)
	b = append(b, bit(s.peerGone), bit(s.sendingReply))
	b = appendMsg(b, s.envelope)
	b = appendMsg(b, s.held)
	b = append(b, bit(s.replyFull), bit(s.attached))
	b = appendInt(b, s.sendRR)
	b = appendInt(b, s.recvRR)
	b = e.rotation(b, &s.lb)
	b = e.rotation(b, &s.fq)
	b = appendInt(b, len(s.binds))
	for _, ep := range s.binds {
		b = e.name(b, ep)
	}
	b = appendInt(b, len(s.pipes))
	for _, p := range s.pipes {
		b = e.pipe(b, p)
	}
	b = e.ref(b, s.replyPipe)
	b = e.ref(b, s.envPipe)
	b = appendMsg(b, s.prefetch)
	b = e.ref(b, s.prefetchPipe)
	b = e.ref(b, s.ackPipe)
	b = append(b, bit(s.ackBack))
	b = appendInt(b, len(s.arrivals))
	for _, p := range s.arrivals {
		b = e.ref(b, p)
	}
	b = appendInt(b, len(s.connect))
	for _, k := range s.connect {
		b = e.name(b, k.endpoint)
		b = e.ref(b, k.pipe)
		b = append(b, bit(k.conn != nil), bit(k.attempt != 0), bit(k.timer != 0), bit(k.stopped))
		b = appendInt(b, int(k.ivl))
	}
	e.buf = b
}

type encoder struct {
	buf  []byte
	rank Rank
	s    *socket
	// slotted: names are left as slots (AppendCanonicalSlots).
	slotted bool
	slots   []Slot
}

func bit(b bool) byte {
	if b {
		return 1
	}
	return 0
}

// appendInt appends a zig-zag varint.
func appendInt(b []byte, n int) []byte {
	u := uint64(n<<1) ^ uint64(n>>63)
	for u >= 0x80 {
		b = append(b, byte(u)|0x80)
		u >>= 7
	}
	return append(b, byte(u))
}

func appendStr(b []byte, s string) []byte {
	return append(appendInt(b, len(s)), s...)
}

func (e *encoder) name(b []byte, n string) []byte {
	if e.slotted {
		if id := e.rank(n); id >= 0 {
			e.slots = append(e.slots, Slot{Off: int32(len(b)), ID: int32(id)})
			return append(b, 0)
		}
		return appendStr(append(b, SlotUnknown), n)
	}
	if r := e.rank(n); r >= 0 {
		return appendInt(b, r)
	}
	return appendStr(appendInt(b, -1), n)
}

func appendMsg(b []byte, m Message) []byte {
	if m == nil {
		return appendInt(b, -1)
	}
	b = appendInt(b, len(m))
	for _, f := range m {
		b = appendStr(b, f)
	}
	return b
}

func appendMsgs(b []byte, ms []Message) []byte {
	b = appendInt(b, len(ms))
	for _, m := range ms {
		b = appendMsg(b, m)
	}
	return b
}

// pipe encodes a pipe's contents and, for the connecting end of a
// connection, the connection's wire in both directions and the binding
// pipe's place in its socket's rotation. A binding end encodes only that it
// is connected: its connection is encoded with the connecting socket.
func (e *encoder) pipe(b []byte, p *pipe) []byte {
	b = e.name(b, p.peer)
	b = append(b, bit(p.terminated))
	b = appendMsgs(b, p.out)
	b = appendMsgs(b, p.in)
	b = appendInt(b, p.outLag)
	b = appendInt(b, p.inLag)
	b = appendInt(b, p.outMail)
	b = append(b, bit(p.woke), bit(p.eof))
	switch {
	case p.conn == nil:
		b = append(b, 0)
	case p.conn.pipes[ToBinder] == p:
		other := p.conn.pipes[ToConnecter]
		b = appendInt(append(b, 1), slices.Index(other.owner.pipes, other))
		b = appendMsgs(b, p.conn.wire[ToBinder])
		b = appendMsgs(b, p.conn.wire[ToConnecter])
		b = appendInt(b, p.conn.landed[ToBinder])
		b = appendInt(b, p.conn.landed[ToConnecter])
		b = append(b, bit(p.conn.stalled), bit(p.conn.ended))
		if p.conn.ended {
			b = appendStr(b, p.conn.reason)
		}
	default:
		b = appendInt(append(b, 2), slices.Index(p.conn.pipes[ToBinder].owner.pipes, p.conn.pipes[ToBinder]))
		if p.conn.ended {
			// The connecting side has ended: this side's backlog is
			// encoded here.
			b = append(b, 3)
			b = appendMsgs(b, p.conn.wire[ToBinder])
			b = appendStr(b, p.conn.reason)
		}
	}
	if p.connecter != nil {
		return appendInt(b, slices.Index(p.owner.connect, p.connecter))
	}
	return appendInt(b, -1)
}

// rotation encodes libzmq's order of a socket's pipes (F8, F14).
func (e *encoder) rotation(b []byte, r *rotation) []byte {
	b = appendInt(b, len(r.pipes))
	for _, p := range r.pipes {
		b = e.ref(b, p)
	}
	b = appendInt(b, r.active)
	return appendInt(b, r.current)
}

// ref encodes a reference to one of the socket's pipes: its place in the
// rotation, or, for a pipe that has left it (a REQ still waiting on the
// pipe of a dead connection, F10; a REP owing a reply to a gone client,
// F16), the pipe itself.
func (e *encoder) ref(b []byte, p *pipe) []byte {
	if p == nil {
		return appendInt(b, -1)
	}
	if i := slices.Index(e.s.pipes, p); i >= 0 {
		return appendInt(b, i)
	}
	b = e.name(appendInt(b, -2), p.peer)
	b = append(b, bit(p.terminated), bit(p.conn != nil))
	b = appendMsgs(b, p.in)
	return appendMsgs(b, p.out)
}
