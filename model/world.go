package model

import (
	"fmt"
	"time"
)

// SocketType is the ZeroMQ socket type of a model socket.
type SocketType int

const (
	// REQ is the requesting socket of RFC 28.
	REQ SocketType = iota
	// REP is the replying socket of RFC 28.
	REP
	// DEALER is a raw peer: it sends and receives whole messages unchanged,
	// round-robin and fair-queued. The model uses it to show the wire
	// format (F4), to feed REP requests without a delimiter (F5) and to
	// answer REQ with malformed replies (F6). Facing a REQ it stands for a
	// ROUTER, which ZMTP requires there (libzmq refuses REQ with DEALER),
	// without the ROUTER's identity frame.
	DEALER
)

func (t SocketType) String() string {
	switch t {
	case REQ:
		return "REQ"
	case REP:
		return "REP"
	default:
		return "DEALER"
	}
}

// World is every socket, pipe and connection of one scenario: the state of
// a whole ZeroMQ network, without time. It is not safe for concurrent use;
// drivers own it from one goroutine.
type World struct {
	// mutable holds deliberate defects in a build with -tags teeth; it is
	// empty otherwise, and first so that being empty costs no padding.
	//lint:ignore U1000 used by the teeth build
	mutable

	profile Profile
	chooser Chooser

	// The containers are short lists, not maps: a world holds a handful
	// of each, where a scan costs less than a hash, and a list is what
	// CloneInto copies fastest (package check copies millions of worlds).
	sockets  []*socket     // open sockets, in the order they were opened
	binds    []binding     // bound endpoints, in the order they were bound
	live     []*connection // live connections in the order they were made
	attempts []*connecter  // connect()s with a dial attempt pending, oldest attempt first
	timers   []*connecter  // connect()s with a reconnect timer running, oldest timer first

	// mem is the Scratch whose slabs hold this world's nodes when the
	// world is a copy made by CloneInto (nil otherwise); copying the copy
	// finds a node's slot from it in constant time.
	mem *Scratch

	nextID  int
	effects []Effect

	// holdRefills and refills: engine refills that wait for the end of
	// the call that made room for them (roomIn). Both are empty between
	// calls.
	holdRefills bool
	refills     []refill
}

// NewWorld returns an empty world that follows profile and resolves open
// choices with chooser (FirstChooser when nil).
func NewWorld(profile Profile, chooser Chooser) *World {
	if chooser == nil {
		chooser = FirstChooser{}
	}
	return &World{profile: profile, chooser: chooser}
}

// binding is one bound endpoint and the socket bound to it.
type binding struct {
	endpoint string
	sock     *socket
}

// socket returns the open socket called name, or nil.
func (w *World) socket(name string) *socket {
	for _, s := range w.sockets {
		if s.name == name {
			return s
		}
	}
	return nil
}

// isOpen says whether s is open: a closed socket's name may name another.
func (w *World) isOpen(s *socket) bool {
	for _, k := range w.sockets {
		if k == s {
			return true
		}
	}
	return false
}

// bound returns the socket bound to endpoint, or nil.
func (w *World) bound(endpoint string) *socket {
	for _, b := range w.binds {
		if b.endpoint == endpoint {
			return b.sock
		}
	}
	return nil
}

// conn returns the live connection id, or nil.
func (w *World) conn(id ConnID) *connection {
	for _, c := range w.live {
		if c.id == id {
			return c
		}
	}
	return nil
}

// removeFirst removes the first element of s that match accepts, in
// place and keeping the order of the others.
func removeFirst[T any](s []T, match func(T) bool) []T {
	for i, v := range s {
		if match(v) {
			copy(s[i:], s[i+1:])
			clear(s[len(s)-1:])
			return s[:len(s)-1]
		}
	}
	return s
}

// Profile returns the profile the world follows.
func (w *World) Profile() Profile { return w.profile }

// Ready returns the effects produced since the last call, in order, and
// forgets them.
func (w *World) Ready() []Effect {
	e := w.effects
	w.effects = nil
	return e
}

// AppendReady appends the effects produced since the last call to dst, in
// order, forgets them, and returns the extended slice. Unlike Ready it keeps
// the world's buffer for the next effects, so a driver that passes its own
// buffer back each time collects effects without allocating.
func (w *World) AppendReady(dst []Effect) []Effect {
	dst = append(dst, w.effects...)
	clear(w.effects)
	w.effects = w.effects[:0]
	return dst
}

func (w *World) emit(e Effect) { w.effects = append(w.effects, e) }

// popFront removes the oldest message of a pipe or wire queue. A queue
// that empties keeps its backing array, so that a queue of at most one
// message, the usual case, never allocates again.
func popFront(q []Message) (Message, []Message) {
	m := q[0]
	q[0] = nil
	if len(q) == 1 {
		return m, q[:0]
	}
	return m, q[1:]
}

// observe reports an event that carries no message.
func (w *World) observe(kind EventKind, actor, peer, reason string) {
	w.emit(Observation{Kind: kind, Actor: actor, Peer: peer, Reason: reason})
}

// observeMsg reports an event about the message msg.
func (w *World) observeMsg(kind EventKind, actor, peer, msg, reason string) {
	w.emit(Observation{Kind: kind, Actor: actor, Peer: peer, Msg: msg, HasMsg: true, Reason: reason})
}

func (w *World) id() int { w.nextID++; return w.nextID }

// socket is one open socket.
type socket struct {
	slot int32 // its place in its world's Scratch, if it lies there (see Scratch)
	name string
	typ  SocketType
	opts Options

	pipes []*pipe // in attach order
	// lb and fq are libzmq's rotations for sends (REQ, DEALER; F8) and
	// receives (F14); under Profile.AttachOrderRotation, sendRR and recvRR
	// index s.pipes instead.
	lb, fq  rotation
	sendRR  int // index of the next pipe to send on
	recvRR  int // index where the fair-queue rotation resumes
	binds   []string
	connect []*connecter

	// REQ: a request is outstanding (libzmq's _receiving_reply), the pipe
	// its reply must come from (nil: any pipe, F10) and the last request id.
	receivingReply bool
	replyPipe      *pipe
	requestID      uint32
	idStarted      bool
	request        Message // body of the outstanding request, for traces
	requestMsg     Message // the whole request as sent (Mutation.ResendOnReconnect)
	// peerGone: under Profile.RecvEOFOnPeerLoss, the pipe of the
	// outstanding request ended, so the next receive fails (F19).
	peerGone bool

	// REP: a request has been read and a reply is owed (F2), its envelope
	// and the pipe it came from (F5, F15).
	sendingReply bool
	envelope     Message
	envPipe      *pipe
	held         Message // body of the request the application holds
	// replyFull: envPipe was at its SNDHWM, as REP counted, when the
	// request was read, which is when libzmq's REP writes the reply's
	// envelope and decides that the reply is dropped (rep.cpp, xrecv;
	// router.cpp, xsend; F17).
	replyFull bool
	// prefetch is the request a REP's poll read ahead from prefetchPipe:
	// ZMQ_EVENTS on a router_t reads the next message to say whether
	// there is one (router.cpp, xhas_in), and the next receive returns it.
	prefetch     Message
	prefetchPipe *pipe
	// ackPipe: a REQ read past the end of its reply pipe, so the term
	// ack is on its way; ackBack: the call that read it has ended, and
	// the REQ forgets the pipe when it next takes its commands (F10).
	ackPipe *pipe
	ackBack bool
	// arrivals lists, under Profile.RepArrivalOrder, the pipe of every
	// queued request in the order the requests arrived (F14).
	arrivals []*pipe
	// attached: a pipe has been attached to the socket since it opened
	// (Profile.DealerSendsToEvery: zmq4's first connection opens its
	// writer for good).
	attached bool
}

// pipe is a socket's end of one pipe pair: out is written by the socket and
// drained by a connection's engine, in is filled by the engine and read by
// the socket.
type pipe struct {
	slot      int32 // see socket.slot
	id        int
	owner     *socket
	peer      string // what is at the other end: an endpoint or a socket name
	out, in   []Message
	conn      *connection
	connecter *connecter // the connect() this pipe belongs to, if any
	// terminated pipes take no more writes; messages already in `in` can
	// still be read (libzmq's delayed pipe termination, F16), and the pipe
	// is detached once they are.
	terminated bool
	// detached: the pipe has left its socket but is still in its
	// rotations until a receive meets its delimiter (F14).
	detached bool
	// eof: under Profile.DealerReadsEOF, the connection ended and a
	// receive has yet to read its EOF; the pipe stays until it has.
	eof bool
	// outLag and inLag are libzmq's lag in telling a pipe's writer what
	// its reader has read (pipe.cpp: the reader sends activate_write with
	// its count only every LWM reads, LWM = (HWM+1)/2, and the writer's
	// check_hwm counts msgs_written - peers_msgs_read): outLag counts the
	// messages the engine took from out, inLag those the socket read from
	// in, that the writer still counts. Both stay below the LWM (F18).
	outLag, inLag int
	// outMail counts reads the engine has told a REP of that the REP has
	// not yet taken from its mailbox: a socket takes its commands at a
	// send, at ZMQ_EVENTS (World.Poll), and at a receive that finds
	// nothing without them (socket_base.cpp, process_commands). Other
	// sockets check their pipes only where they take them, so theirs take
	// effect at once (F17, F18).
	outMail int
	// woke: a REP's pipe that was inactive in its fair queue when a
	// message arrived; libzmq counts it as active only once the REP has
	// taken the activate_read command (fq.cpp), so a receive that has no
	// other pipe to read from takes its commands first.
	woke bool
}

// connection is one established session between a connecting pipe
// (pipes[ToBinder]) and a binding pipe (pipes[ToConnecter]); wire[d] holds
// messages in flight in direction d.
type connection struct {
	slot  int32 // see socket.slot
	id    ConnID
	pipes [2]*pipe
	wire  [2][]Message
	// landed[d] counts the messages at the head of wire[d] that have
	// reached the receiving engine and wait there for room in the
	// receiver's pipe: an engine that cannot push a message stops reading
	// (stream_engine_base.cpp, in_event), and TCP holds the rest (F18).
	landed [2]int
	// stalled: the connecting side's engine never finished its
	// handshake. A REP (or ROUTER) pushes the peer's routing id into its
	// pipe when the handshake completes; a pipe that survived a
	// reconnect at its RCVHWM refuses it, and the engine gives up on the
	// rest of mechanism_ready, so it still takes the next message from
	// the peer for a handshake command (F21; stream_engine_base.cpp).
	stalled bool
	// ended: the connection is gone, but one side's engine still pushes
	// what had reached it (landed) into its pipe before it sees the end
	// (resetBy), for this reason.
	ended  bool
	reason string
}

// src and dst are the pipes a message in direction d leaves and enters.
func (c *connection) src(d Dir) *pipe { return c.pipes[d] }
func (c *connection) dst(d Dir) *pipe { return c.pipes[1-d] }

// connecter is one connect() of a socket to an endpoint and its reconnect
// loop (F23).
type connecter struct {
	slot     int32 // see socket.slot
	sock     *socket
	endpoint string
	pipe     *pipe // survives disconnects while Immediate is off (F21)
	conn     *connection
	attempt  AttemptID
	timer    TimerID
	ivl      time.Duration // current base reconnect interval
	stopped  bool
}

func (w *World) lookup(name string) (*socket, error) {
	s := w.socket(name)
	if s == nil {
		return nil, fmt.Errorf("%w: %q", ErrNoSocket, name)
	}
	return s, nil
}

func (w *World) open(name string, t SocketType, o Options) error {
	if name == "" {
		return fmt.Errorf("model: socket name must not be empty")
	}
	if w.socket(name) != nil {
		return fmt.Errorf("%w: %q", ErrExists, name)
	}
	w.sockets = append(w.sockets, &socket{name: name, typ: t, opts: o})
	return nil
}

// NewREQ opens a REQ socket called name. A name can be opened again once the
// socket it named is closed, as a restarted process opens a new socket.
func (w *World) NewREQ(name string, o Options) error { return w.open(name, REQ, o) }

// NewREP opens a REP socket called name.
func (w *World) NewREP(name string, o Options) error { return w.open(name, REP, o) }

// NewDEALER opens a raw DEALER peer called name.
func (w *World) NewDEALER(name string, o Options) error { return w.open(name, DEALER, o) }

// Bind binds the socket to endpoint. Connects that arrive later are accepted;
// each accepted connection attaches a new pipe to the socket.
func (w *World) Bind(name, endpoint string) error {
	s, err := w.lookup(name)
	if err != nil {
		return err
	}
	if w.bound(endpoint) != nil {
		return fmt.Errorf("%w: %s", ErrAddrInUse, endpoint)
	}
	w.binds = append(w.binds, binding{endpoint, s})
	s.binds = append(s.binds, endpoint)
	return nil
}

// Connect starts connecting the socket to endpoint. With Immediate off the
// pipe is attached at once, so the socket can queue on it before any peer
// exists (F8, F12); the first dial is immediate (F23).
func (w *World) Connect(name, endpoint string) error {
	s, err := w.lookup(name)
	if err != nil {
		return err
	}
	c := &connecter{sock: s, endpoint: endpoint, ivl: s.opts.reconnectIvl()}
	s.connect = append(s.connect, c)
	if !s.opts.Immediate && !w.profile.NoPipeWithoutConnection { // F12
		c.pipe = w.attach(s, endpoint)
		c.pipe.connecter = c
	}
	w.dial(c)
	return nil
}

// Disconnect ends the socket's connect() to endpoint: its connection closes
// and its pipe is destroyed with whatever it still holds (F22).
func (w *World) Disconnect(name, endpoint string) error {
	s, err := w.lookup(name)
	if err != nil {
		return err
	}
	if w.profile.NoDisconnect {
		return ErrNoDisconnect
	}
	for i, c := range s.connect {
		if c.endpoint != endpoint {
			continue
		}
		s.connect = append(s.connect[:i:i], s.connect[i+1:]...)
		w.stop(c)
		p := c.pipe // the reset below may destroy it and forget it
		if c.conn != nil {
			// The session ends with the endpoint, and its engine with
			// what had reached it (session_base.cpp, process_term); the
			// peer's engine still pushes what had reached it (F22).
			w.resetBy(c.conn, "disconnect", p)
		}
		if p != nil {
			w.terminate(p, "disconnect")
			if !w.profile.AttachOrderRotation && !s.opts.Immediate {
				// With IMMEDIATE=1 the pipe is the session's, not the
				// connect()'s (socket_base.cpp, term_endpoint): the
				// session ends it as a dropped connection does, and what
				// it holds is still read (found by TestModelAgreesWithLibzmq).
				w.disconnected(s, p)
			}
		}
		return nil
	}
	return fmt.Errorf("%w: %s", ErrNotConnected, endpoint)
}

// disconnected is what libzmq's zmq_disconnect does to the pipe p of a
// connect() with IMMEDIATE=0 beyond terminate: the socket ends the pipe itself (pipe.cpp, terminate:
// term_req_sent1), so the pipe reads nothing more at once, and it leaves
// the rotations, and a REQ forgets it as the pipe of its request (F10),
// when the term ack returns, which the socket takes with its commands
// before its next call that matters (F8, F14).
func (w *World) disconnected(s *socket, p *pipe) {
	for _, m := range p.in {
		w.observeMsg(EventDrop, s.name, p.peer, bodyText(m), "unread when disconnected")
	}
	p.in = nil
	if !p.detached {
		w.detach(p)
	}
	s.fq.terminated(p)
	s.lb.terminated(p)
	if s.replyPipe == p {
		s.replyPipe = nil
	}
	if s.ackPipe == p {
		s.ackPipe, s.ackBack = nil, false
	}
}

// Close closes the socket at once, as a process that exits or is killed:
// its connections end, and every message it holds, read or unread, is lost
// (F19, F22). The name is free again afterwards.
func (w *World) Close(name string) error { return w.close(name, "closed") }

// Crash is Close for a process that dies; only the reason in the trace
// differs, since libzmq loses the same messages either way (F19).
func (w *World) Crash(name string) error { return w.close(name, "crashed") }

func (w *World) close(name, how string) error {
	s, err := w.lookup(name)
	if err != nil {
		return err
	}
	// The socket leaves the world first, so that ending its connections
	// reports only what its peers see.
	w.sockets = removeFirst(w.sockets, func(k *socket) bool { return k == s })
	if s.typ == REP && s.sendingReply {
		if teeth && w.mut().KeepHeldOnCrash && s.envPipe.conn != nil {
			// Mutant: the held request goes back to the client's pipe.
			back := s.envPipe.conn.pipes[ToBinder]
			req := append(append(s.envelope.clone(), Delimiter), s.held...)
			back.out = append([]Message{req}, back.out...)
		} else {
			w.observeMsg(EventDrop, s.name, "", s.held.Text(), "request held by server that "+how)
		}
	}
	for _, c := range s.connect {
		w.stop(c)
	}
	for _, ep := range s.binds {
		w.binds = removeFirst(w.binds, func(b binding) bool { return b.endpoint == ep })
	}
	for _, p := range append([]*pipe(nil), s.pipes...) {
		if p.conn != nil {
			w.reset(p.conn, s.name+" "+how)
		}
	}
	if s.prefetch != nil {
		w.observeMsg(EventDrop, s.name, s.prefetchPipe.peer, bodyText(s.prefetch), "unread when socket "+how)
		s.prefetch, s.prefetchPipe = nil, nil
	}
	for _, p := range s.pipes {
		for _, m := range p.in {
			w.observeMsg(EventDrop, s.name, p.peer, bodyText(m), "unread when socket "+how)
		}
		for _, m := range p.out {
			w.observeMsg(EventDrop, s.name, p.peer, bodyText(m), "unsent when socket "+how)
		}
		p.in, p.out, p.terminated = nil, nil, true
	}
	s.pipes = nil
	s.lb.reset()
	s.fq.reset()
	return nil
}

// bodyText renders a message for a trace: its body when it has an envelope.
func bodyText(m Message) string {
	if b, ok := m.Body(); ok {
		return b.Text()
	}
	return m.Text()
}

// attach adds a new pipe at the end of the socket's rotation.
func (w *World) attach(s *socket, peer string) *pipe {
	p := &pipe{id: w.id(), owner: s, peer: peer}
	s.pipes = append(s.pipes, p)
	s.attached = true
	if !w.profile.AttachOrderRotation {
		if s.typ != REP {
			s.lb.attach(p) // REP routes its replies; it has no lb_t
		}
		s.fq.attach(p)
	}
	return p
}

// detach removes a terminated, drained pipe from its socket's rotation
// without disturbing the rotation of the others.
func (w *World) detach(p *pipe) {
	s := p.owner
	if !w.profile.AttachOrderRotation {
		if (s.typ == REP || s.typ == REQ) && s.fq.index(p) >= s.fq.active {
			p.woke = true // the delimiter wakes it, as a message does
		}
		// libzmq removes a pipe from its rotations only once a receive
		// has read its delimiter (fq_t::recvpipe fails on it, then
		// pipe_terminated): the delimiter's arrival activates it like a
		// message, and the rotation walk removes it (see nextReadable).
		p.detached = true
		s.fq.activate(p)
	}
	for i, q := range s.pipes {
		if q != p {
			continue
		}
		s.pipes = append(s.pipes[:i:i], s.pipes[i+1:]...)
		kept := w.nextConnKept(s)
		if s.sendRR > i && !kept {
			s.sendRR--
		}
		if s.recvRR > i {
			s.recvRR--
		}
		if n := len(s.pipes); n > 0 {
			if !kept {
				s.sendRR %= n
			}
			s.recvRR %= n
		} else {
			s.sendRR, s.recvRR = 0, 0
		}
		return
	}
}

// terminate destroys a pipe: unsent messages are discarded (F22), unread
// ones stay readable until drained, and the socket forgets it.
func (w *World) terminate(p *pipe, reason string) {
	if p.terminated {
		return
	}
	p.terminated = true
	for _, m := range p.out {
		w.observeMsg(EventDrop, p.owner.name, p.peer, bodyText(m), "pipe destroyed: "+reason)
	}
	p.out = nil
	if p.connecter != nil && p.connecter.pipe == p {
		p.connecter.pipe = nil
	}
	s := p.owner
	if s.typ == DEALER && w.profile.DealerReadsEOF && w.isOpen(s) {
		p.eof = true
	}
	if s.typ == REQ && s.replyPipe == p && w.isOpen(s) && w.profile.RecvEOFOnPeerLoss {
		// Departs from F19: the REQ's receive fails instead of waiting.
		s.peerGone = true
	}
	// F10: libzmq's REQ clears _reply_pipe only when that pipe's
	// termination completes: once a receive, a drain or a poll has read
	// past its end (pipe.cpp, process_delimiter sends the term ack), and
	// the REQ then takes the ack back with its commands (req.cpp,
	// xpipe_terminated); see passEmpty and commands.
	if len(p.in) == 0 && !w.unnoticed(p) && !p.eof {
		w.detach(p)
	}
}
