package model

import (
	"encoding/binary"
	"errors"
	"time"
)

// This file is an exact encoding of a World, for an explorer that keeps
// a whole level of states: a state kept as a few hundred bytes costs a
// tenth of its copy as nodes, is written and read in one pass, and holds
// no pointers for the collector to follow. Unlike AppendCanonical it
// leaves nothing out: ids, the order of every list, every socket.

// AppendState appends an encoding of w to buf: everything LoadState needs
// to rebuild a world that is w in every respect but its profile, chooser
// and mutation (which LoadState takes from a world of the same kind) and
// its effects not yet collected, which are left out, as Clone leaves
// them out.
func (w *World) AppendState(buf []byte) []byte {
	var e *stateEncoder
	if w.mem != nil {
		e = &w.mem.enc
	} else {
		e = &stateEncoder{}
	}
	e.number(w)
	b := e.header(buf, w)
	for _, k := range e.sockets {
		b = e.socket(b, k)
	}
	for _, p := range e.pipes {
		b = binary.AppendUvarint(b, uint64(p.id))
		b = e.ref(b, e.socketIndex(p.owner))
		b = appendString(b, p.peer)
		b = appendQueue(b, p.out)
		b = appendQueue(b, p.in)
		b = e.ref(b, e.connIndex(p.conn))
		b = e.ref(b, e.connecterIndex(p.connecter))
		b = append(b, bit(p.terminated)|bit(p.detached)<<1|bit(p.woke)<<2|bit(p.eof)<<3)
		b = binary.AppendUvarint(b, uint64(p.outLag))
		b = binary.AppendUvarint(b, uint64(p.inLag))
		b = binary.AppendUvarint(b, uint64(p.outMail))
	}
	for _, c := range e.conns {
		b = binary.AppendUvarint(b, uint64(c.id))
		b = e.ref(b, e.pipeIndex(c.pipes[0]))
		b = e.ref(b, e.pipeIndex(c.pipes[1]))
		b = appendQueue(b, c.wire[0])
		b = appendQueue(b, c.wire[1])
		b = binary.AppendUvarint(b, uint64(c.landed[0]))
		b = binary.AppendUvarint(b, uint64(c.landed[1]))
		b = append(b, bit(c.stalled)|bit(c.ended)<<1)
		b = appendString(b, c.reason)
	}
	for _, k := range e.conners {
		b = e.ref(b, e.socketIndex(k.sock))
		b = appendString(b, k.endpoint)
		b = e.ref(b, e.pipeIndex(k.pipe))
		b = e.ref(b, e.connIndex(k.conn))
		b = binary.AppendUvarint(b, uint64(k.attempt))
		b = binary.AppendUvarint(b, uint64(k.timer))
		b = binary.AppendVarint(b, int64(k.ivl))
		b = append(b, bit(k.stopped))
	}
	b = binary.AppendUvarint(b, uint64(len(w.sockets)))
	for _, k := range w.sockets {
		b = e.ref(b, e.socketIndex(k))
	}
	b = binary.AppendUvarint(b, uint64(len(w.binds)))
	for _, k := range w.binds {
		b = appendString(b, k.endpoint)
		b = e.ref(b, e.socketIndex(k.sock))
	}
	for _, l := range [...][]*connecter{w.attempts, w.timers} {
		b = binary.AppendUvarint(b, uint64(len(l)))
		for _, k := range l {
			b = e.ref(b, e.connecterIndex(k))
		}
	}
	b = binary.AppendUvarint(b, uint64(len(w.live)))
	for _, k := range w.live {
		b = e.ref(b, e.connIndex(k))
	}
	return b
}

// stateEncoder numbers the nodes of a world, in the order it meets them,
// and sizes what LoadState will need. A node in the world's Scratch is
// found by its slot, any other in a short list.
type stateEncoder struct {
	src     *Scratch
	sockets []*socket
	pipes   []*pipe
	conns   []*connection
	conners []*connecter
	// The numbers of the nodes in src's slabs, plus one (0: not yet).
	fSockets, fPipes, fConns, fConners []int32
	// What LoadState's slabs must hold besides the nodes.
	lists, clists, msgs, frames, binds int
}

func (e *stateEncoder) number(w *World) {
	e.src = w.mem
	e.sockets, e.pipes, e.conns, e.conners = e.sockets[:0], e.pipes[:0], e.conns[:0], e.conners[:0]
	e.lists, e.clists, e.msgs, e.frames, e.binds = 0, 0, 0, 0, 0
	if s := e.src; s != nil {
		e.fSockets = zeroed(e.fSockets, len(s.sockets))
		e.fPipes = zeroed(e.fPipes, len(s.pipes))
		e.fConns = zeroed(e.fConns, len(s.conns))
		e.fConners = zeroed(e.fConners, len(s.conners))
	}
	for _, k := range w.sockets {
		e.socketIndex(k)
	}
	for _, k := range w.binds {
		e.socketIndex(k.sock)
	}
	for _, k := range w.attempts {
		e.connecterIndex(k)
	}
	for _, k := range w.timers {
		e.connecterIndex(k)
	}
	for _, k := range w.live {
		e.connIndex(k)
	}
	// Number what the numbered nodes lead to, until nothing new is met.
	var is, ip, ic, ik int
	for is < len(e.sockets) || ip < len(e.pipes) || ic < len(e.conns) || ik < len(e.conners) {
		for ; is < len(e.sockets); is++ {
			k := e.sockets[is]
			for _, l := range [...][]*pipe{k.pipes, k.lb.pipes, k.fq.pipes, k.arrivals} {
				for _, p := range l {
					e.pipeIndex(p)
				}
				if l != nil {
					e.lists += len(l) + 2
				}
			}
			for _, c := range k.connect {
				e.connecterIndex(c)
			}
			if k.connect != nil {
				e.clists += len(k.connect) + 2
			}
			e.pipeIndex(k.replyPipe)
			e.pipeIndex(k.envPipe)
			e.pipeIndex(k.prefetchPipe)
			e.pipeIndex(k.ackPipe)
			e.binds += len(k.binds)
			e.frames += len(k.request) + len(k.requestMsg) + len(k.envelope) + len(k.held) + len(k.prefetch)
		}
		for ; ip < len(e.pipes); ip++ {
			p := e.pipes[ip]
			e.socketIndex(p.owner)
			e.connIndex(p.conn)
			e.connecterIndex(p.connecter)
			e.queue(p.out)
			e.queue(p.in)
		}
		for ; ic < len(e.conns); ic++ {
			c := e.conns[ic]
			e.pipeIndex(c.pipes[0])
			e.pipeIndex(c.pipes[1])
			e.queue(c.wire[0])
			e.queue(c.wire[1])
		}
		for ; ik < len(e.conners); ik++ {
			k := e.conners[ik]
			e.socketIndex(k.sock)
			e.pipeIndex(k.pipe)
			e.connIndex(k.conn)
		}
	}
}

func (e *stateEncoder) queue(q []Message) {
	e.msgs += len(q) + 1
	for _, m := range q {
		e.frames += len(m)
	}
}

func zeroed(t []int32, n int) []int32 {
	if cap(t) < n {
		return make([]int32, n, n+n/2+4)
	}
	t = t[:n]
	clear(t)
	return t
}

// index returns the number of node p, numbering it if it has none: by
// its slot when it lies in the source's slab, else by a search of the
// nodes numbered so far. -1 is nil.
func index[T any](slab []T, slot int32, fwd []int32, list *[]*T, p *T) int32 {
	if p == nil {
		return -1
	}
	i := int(slot)
	inSlab := i >= 0 && i < len(slab) && &slab[i] == p
	if inSlab && fwd[i] > 0 {
		return fwd[i] - 1
	}
	if !inSlab {
		for j, q := range *list {
			if q == p {
				return int32(j)
			}
		}
	}
	n := int32(len(*list))
	*list = append(*list, p)
	if inSlab {
		fwd[i] = n + 1
	}
	return n
}

func (e *stateEncoder) socketIndex(k *socket) int32 {
	var slab []socket
	if e.src != nil {
		slab = e.src.sockets
	}
	if k == nil {
		return -1
	}
	return index(slab, k.slot, e.fSockets, &e.sockets, k)
}

func (e *stateEncoder) pipeIndex(p *pipe) int32 {
	var slab []pipe
	if e.src != nil {
		slab = e.src.pipes
	}
	if p == nil {
		return -1
	}
	return index(slab, p.slot, e.fPipes, &e.pipes, p)
}

func (e *stateEncoder) connIndex(c *connection) int32 {
	var slab []connection
	if e.src != nil {
		slab = e.src.conns
	}
	if c == nil {
		return -1
	}
	return index(slab, c.slot, e.fConns, &e.conns, c)
}

func (e *stateEncoder) connecterIndex(k *connecter) int32 {
	var slab []connecter
	if e.src != nil {
		slab = e.src.conners
	}
	if k == nil {
		return -1
	}
	return index(slab, k.slot, e.fConners, &e.conners, k)
}

// ref writes a node's number; nil is 0.
func (e *stateEncoder) ref(b []byte, i int32) []byte { return binary.AppendUvarint(b, uint64(i+1)) }

func (e *stateEncoder) header(b []byte, w *World) []byte {
	for _, n := range [...]int{w.nextID, len(e.sockets), len(e.pipes), len(e.conns), len(e.conners),
		e.lists, e.clists, e.msgs, e.frames, e.binds} {
		b = binary.AppendUvarint(b, uint64(n))
	}
	return b
}

func (e *stateEncoder) socket(b []byte, k *socket) []byte {
	b = appendString(b, k.name)
	b = append(b, byte(k.typ), bit(k.opts.ReqCorrelate)|bit(k.opts.ReqRelaxed)<<1|bit(k.opts.Immediate)<<2)
	b = binary.AppendVarint(b, int64(k.opts.SndHWM))
	b = binary.AppendVarint(b, int64(k.opts.RcvHWM))
	b = binary.AppendVarint(b, int64(k.opts.ReconnectIvl))
	b = binary.AppendVarint(b, int64(k.opts.ReconnectIvlMax))
	b = append(b, bit(k.receivingReply)|bit(k.idStarted)<<1|bit(k.peerGone)<<2|bit(k.sendingReply)<<3|bit(k.replyFull)<<4|bit(k.ackBack)<<5|bit(k.attached)<<6)
	b = binary.AppendUvarint(b, uint64(k.requestID))
	for _, m := range [...]Message{k.request, k.requestMsg, k.envelope, k.held, k.prefetch} {
		b = appendMessage(b, m)
	}
	b = e.ref(b, e.pipeIndex(k.replyPipe))
	b = e.ref(b, e.pipeIndex(k.envPipe))
	b = e.ref(b, e.pipeIndex(k.prefetchPipe))
	b = e.ref(b, e.pipeIndex(k.ackPipe))
	b = binary.AppendUvarint(b, uint64(k.sendRR))
	b = binary.AppendUvarint(b, uint64(k.recvRR))
	for _, r := range [...]*rotation{&k.lb, &k.fq} {
		b = e.pipeList(b, r.pipes)
		b = binary.AppendUvarint(b, uint64(r.active))
		b = binary.AppendUvarint(b, uint64(r.current))
	}
	b = e.pipeList(b, k.pipes)
	b = e.pipeList(b, k.arrivals)
	b = binary.AppendUvarint(b, uint64(len(k.binds)))
	for _, ep := range k.binds {
		b = appendString(b, ep)
	}
	if k.connect == nil {
		return append(b, 0)
	}
	b = binary.AppendUvarint(b, uint64(len(k.connect)+1))
	for _, c := range k.connect {
		b = e.ref(b, e.connecterIndex(c))
	}
	return b
}

// pipeList writes a list's length plus one (0: nil) and its pipes.
func (e *stateEncoder) pipeList(b []byte, l []*pipe) []byte {
	if l == nil {
		return append(b, 0)
	}
	b = binary.AppendUvarint(b, uint64(len(l)+1))
	for _, p := range l {
		b = e.ref(b, e.pipeIndex(p))
	}
	return b
}

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// appendMessage writes a message's length plus one (0: nil) and its frames.
func appendMessage(b []byte, m Message) []byte {
	if m == nil {
		return append(b, 0)
	}
	b = binary.AppendUvarint(b, uint64(len(m)+1))
	for _, f := range m {
		b = appendString(b, f)
	}
	return b
}

func appendQueue(b []byte, q []Message) []byte {
	b = binary.AppendUvarint(b, uint64(len(q)))
	for _, m := range q {
		b = appendMessage(b, m)
	}
	return b
}

// errState is what LoadState returns for bytes that AppendState did not
// write.
var errState = errors.New("model: not a state AppendState encoded")

// LoadState rebuilds into s the world whose encoding AppendState appended
// at the start of buf, and returns it and the rest of buf. The world has
// like's profile, chooser and mutation; it then owns s, as a copy made by
// CloneInto does (the world s held before must no longer be used), and
// lies wholly in its slabs, so that it can be saved (World.Save). Strings
// are shared with the worlds s rebuilt before when they are equal.
func (s *Scratch) LoadState(buf []byte, like *World) (*World, []byte, error) {
	d := stateDecoder{buf: buf, s: s}
	var h [10]int
	for i := range h {
		h[i] = d.int()
	}
	if d.err != nil || h[1] < 0 || h[2] < 0 || h[3] < 0 || h[4] < 0 || h[1]+h[2]+h[3]+h[4] > len(buf) {
		return nil, nil, errState
	}
	n := s.w
	if n == nil {
		n = &World{}
		s.w = n
	}
	s.sockets = exactly(s.sockets, h[1])
	s.pipes = exactly(s.pipes, h[2])
	s.conns = exactly(s.conns, h[3])
	s.conners = exactly(s.conners, h[4])
	s.lists = exactly(s.lists, h[5])[:0]
	s.clists = exactly(s.clists, h[6])[:0]
	s.msgs = exactly(s.msgs, h[7])[:0]
	// Copies of this world share its messages and binds: their memory
	// is new.
	strs := make([]string, 0, h[8]+h[9])
	s.frames, s.strs = strs[:0:h[8]], strs[h[8]:h[8]:h[8]+h[9]]
	s.short = [len(s.short)]int{}
	n.profile, n.chooser, n.mutable, n.mem = like.profile, like.chooser, like.mutable, s
	n.nextID = h[0]
	clear(n.effects)
	n.effects = n.effects[:0]
	for i := range s.sockets {
		d.socket(&s.sockets[i], int32(i))
	}
	for i := range s.pipes {
		p := &s.pipes[i]
		*p = pipe{slot: int32(i), id: d.int()}
		p.owner = d.sock()
		p.peer = d.str()
		p.out = d.queue()
		p.in = d.queue()
		p.conn = d.conn()
		p.connecter = d.conner()
		f := d.byte()
		p.terminated, p.detached, p.woke, p.eof = f&1 != 0, f&2 != 0, f&4 != 0, f&8 != 0
		p.outLag, p.inLag, p.outMail = d.int(), d.int(), d.int()
	}
	for i := range s.conns {
		c := &s.conns[i]
		*c = connection{slot: int32(i), id: ConnID(d.int())}
		c.pipes[0], c.pipes[1] = d.pipe(), d.pipe()
		c.wire[0], c.wire[1] = d.queue(), d.queue()
		c.landed[0], c.landed[1] = d.int(), d.int()
		f := d.byte()
		c.stalled, c.ended = f&1 != 0, f&2 != 0
		c.reason = d.str()
	}
	for i := range s.conners {
		k := &s.conners[i]
		*k = connecter{slot: int32(i)}
		k.sock = d.sock()
		k.endpoint = d.str()
		k.pipe = d.pipe()
		k.conn = d.conn()
		k.attempt = AttemptID(d.int())
		k.timer = TimerID(d.int())
		k.ivl = time.Duration(d.sint())
		k.stopped = d.byte() != 0
	}
	n.sockets = room(n.sockets, 0)
	for range d.int() {
		n.sockets = append(n.sockets, d.sock())
	}
	n.binds = room(n.binds, 0)
	for range d.int() {
		ep := d.str()
		n.binds = append(n.binds, binding{ep, d.sock()})
	}
	n.attempts = room(n.attempts, 0)
	for range d.int() {
		n.attempts = append(n.attempts, d.conner())
	}
	n.timers = room(n.timers, 0)
	for range d.int() {
		n.timers = append(n.timers, d.conner())
	}
	n.live = room(n.live, 0)
	for range d.int() {
		n.live = append(n.live, d.conn())
	}
	if d.err != nil {
		return nil, nil, d.err
	}
	return n, d.rest(), nil
}

// exactly returns a slab of n entries, reusing s's memory if it is big
// enough.
func exactly[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n, n+n/4+1)
	}
	return s[:n]
}

// stateDecoder reads buf from i on.
type stateDecoder struct {
	buf []byte
	i   int
	s   *Scratch
	err error
}

func (d *stateDecoder) fail() {
	if d.err == nil {
		d.err = errState
	}
	d.i = len(d.buf)
}

// int reads a uvarint of at most 42 bits.
func (d *stateDecoder) int() int {
	// Written to be inlined: it is most of what LoadState does.
	var v uint64
	for i, s := d.i, uint(0); i < len(d.buf) && s <= 35; i, s = i+1, s+7 {
		c := d.buf[i]
		v |= uint64(c&0x7f) << s
		if c < 0x80 {
			d.i = i + 1
			return int(v)
		}
	}
	d.err, d.i = errState, len(d.buf)
	return 0
}

func (d *stateDecoder) sint() int64 {
	v, k := binary.Varint(d.buf[d.i:])
	if k <= 0 {
		d.fail()
		return 0
	}
	d.i += k
	return v
}

func (d *stateDecoder) byte() byte {
	if d.i >= len(d.buf) {
		d.fail()
		return 0
	}
	d.i++
	return d.buf[d.i-1]
}

// rest is what follows what was read.
func (d *stateDecoder) rest() []byte { return d.buf[d.i:] }

// str reads a string, shared with an equal one read before when there is
// one: the strings of an exploration are a few names and messages.
func (d *stateDecoder) str() string {
	n := d.int()
	if n > len(d.buf)-d.i {
		d.fail()
		return ""
	}
	d.i += n
	return d.s.strings.get(d.buf[d.i-n : d.i])
}

// stringCache is a small table of strings by a hash of their bytes, so
// that reading a string already read costs a hash and a comparison.
type stringCache struct {
	entries [256]string
}

func (c *stringCache) slot(b []byte) *string {
	h := uint64(len(b))
	if len(b) >= 8 {
		h ^= binary.LittleEndian.Uint64(b) ^ binary.LittleEndian.Uint64(b[len(b)-8:])*0x9e3779b97f4a7c15
	} else {
		for i, c := range b {
			h ^= uint64(c) << (8 * (i + 1))
		}
	}
	h *= 0xff51afd7ed558ccd
	return &c.entries[h>>56]
}

func (c *stringCache) get(b []byte) string {
	e := c.slot(b)
	if *e == string(b) {
		return *e
	}
	t := string(b)
	*e = t
	return t
}

// Intern makes LoadState read each of strs as that very string (the same
// memory) where it can, so that a caller that knows its names by their
// strings' identity (a fast path when it compares them) keeps knowing
// them; any string it reads otherwise is a string of its own.
func (s *Scratch) Intern(strs ...string) {
	for _, t := range strs {
		*s.strings.slot([]byte(t)) = t
	}
}

// ref reads a node's number: -1 is nil, and a number beyond count fails.
func (d *stateDecoder) ref(count int) int {
	i := d.int() - 1
	if i >= count {
		d.fail()
		return -1
	}
	return i
}

func (d *stateDecoder) sock() *socket {
	if i := d.ref(len(d.s.sockets)); i >= 0 {
		return &d.s.sockets[i]
	}
	return nil
}

func (d *stateDecoder) pipe() *pipe {
	if i := d.ref(len(d.s.pipes)); i >= 0 {
		return &d.s.pipes[i]
	}
	return nil
}

func (d *stateDecoder) conn() *connection {
	if i := d.ref(len(d.s.conns)); i >= 0 {
		return &d.s.conns[i]
	}
	return nil
}

func (d *stateDecoder) conner() *connecter {
	if i := d.ref(len(d.s.conners)); i >= 0 {
		return &d.s.conners[i]
	}
	return nil
}

// message reads a message into the frames slab, full, so that an append
// to it moves it.
func (d *stateDecoder) message() Message {
	n := d.int() - 1
	if n < 0 {
		return nil
	}
	s := d.s
	at := len(s.frames)
	if at+n > cap(s.frames) {
		d.fail()
		return nil
	}
	for range n {
		s.frames = append(s.frames, d.str())
	}
	return Message(s.frames[at : at+n : at+n])
}

// queue reads a pipe's or a wire's queue into the message slab, with
// room for one more, as CloneInto leaves it.
func (d *stateDecoder) queue() []Message {
	n := d.int()
	s := d.s
	at := len(s.msgs)
	if at+n+1 > cap(s.msgs) {
		d.fail()
		return nil
	}
	s.msgs = s.msgs[:at+n+1]
	q := s.msgs[at : at : at+n+1]
	for range n {
		q = append(q, d.message())
	}
	return q
}

// pipeList reads a list written by stateEncoder.pipeList into the list
// slab, with room for two more.
func (d *stateDecoder) pipeList() []*pipe {
	n := d.int() - 1
	if n < 0 {
		return nil
	}
	s := d.s
	at := len(s.lists)
	if at+n+2 > cap(s.lists) {
		d.fail()
		return nil
	}
	s.lists = s.lists[:at+n+2]
	l := s.lists[at : at : at+n+2]
	for range n {
		l = append(l, d.pipe())
	}
	return l
}

func (d *stateDecoder) socket(k *socket, slot int32) {
	*k = socket{slot: slot, name: d.str(), typ: SocketType(d.byte())}
	f := d.byte()
	k.opts = Options{ReqCorrelate: f&1 != 0, ReqRelaxed: f&2 != 0, Immediate: f&4 != 0,
		SndHWM: int(d.sint()), RcvHWM: int(d.sint()),
		ReconnectIvl: time.Duration(d.sint()), ReconnectIvlMax: time.Duration(d.sint())}
	f = d.byte()
	k.receivingReply, k.idStarted, k.peerGone, k.sendingReply = f&1 != 0, f&2 != 0, f&4 != 0, f&8 != 0
	k.replyFull, k.ackBack, k.attached = f&16 != 0, f&32 != 0, f&64 != 0
	k.requestID = uint32(d.int())
	k.request, k.requestMsg, k.envelope, k.held, k.prefetch = d.message(), d.message(), d.message(), d.message(), d.message()
	k.replyPipe, k.envPipe, k.prefetchPipe, k.ackPipe = d.pipe(), d.pipe(), d.pipe(), d.pipe()
	k.sendRR, k.recvRR = d.int(), d.int()
	for _, r := range [...]*rotation{&k.lb, &k.fq} {
		r.pipes = d.pipeList()
		r.active, r.current = d.int(), d.int()
	}
	k.pipes = d.pipeList()
	k.arrivals = d.pipeList()
	s := d.s
	if nb := d.int(); nb > 0 {
		at := len(s.strs)
		if at+nb > cap(s.strs) {
			d.fail()
			return
		}
		for range nb {
			s.strs = append(s.strs, d.str())
		}
		k.binds = s.strs[at : at+nb : at+nb]
	}
	if nc := d.int() - 1; nc >= 0 {
		at := len(s.clists)
		if at+nc+2 > cap(s.clists) {
			d.fail()
			return
		}
		s.clists = s.clists[:at+nc+2]
		k.connect = s.clists[at : at : at+nc+2]
		for range nc {
			k.connect = append(k.connect, d.conner())
		}
	}
}
