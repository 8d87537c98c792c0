package properties

import (
	"encoding/binary"
	"slices"
	"strings"

	"github.com/zeromq-lockstep/lockstep/model"
	"github.com/zeromq-lockstep/lockstep/trace"
)

// ring is libzmq's array of pipes that lb_t (sends, F8) and fq_t (receives,
// F14) rotate over, restated here from src/lb.cpp, src/fq.cpp and
// src/array.hpp and not taken from the model: the first `active` pipes of
// a are active, cur is the next one tried.
type ring struct {
	a      []*mpipe
	active int
	cur    int
}

func (r *ring) swap(i, j int) { r.a[i], r.a[j] = r.a[j], r.a[i] }

// add is attach: a new pipe joins at the end of the active part.
func (r *ring) add(p *mpipe) {
	r.a = append(r.a, p)
	r.swap(r.active, len(r.a)-1)
	r.active++
}

// wake is activated: an inactive pipe that can write (lb) or read (fq)
// again rejoins at the end of the active part; an active one stays.
func (r *ring) wake(p *mpipe) bool {
	i := slices.Index(r.a, p)
	if i < r.active {
		return false
	}
	r.swap(i, r.active)
	r.active++
	return true
}

// skip is what sendpipe and recvpipe do with the pipe at cur when it
// cannot write or has nothing to read: it leaves the active part and the
// last active pipe takes its place, to be tried next.
func (r *ring) skip() {
	r.active--
	if r.cur < r.active {
		r.swap(r.cur, r.active)
	} else {
		r.cur = 0
	}
}

// next moves past cur once a whole message went through it.
func (r *ring) next() {
	if r.cur++; r.cur >= r.active {
		r.cur = 0
	}
}

// drop is pipe_terminated: an active pipe first leaves the active part;
// then the array's last pipe takes its slot (array_t::erase).
func (r *ring) drop(p *mpipe) {
	i := slices.Index(r.a, p)
	if i < 0 {
		return
	}
	if i < r.active {
		r.active--
		r.swap(i, r.active)
		if r.cur == r.active {
			r.cur = 0
		}
		i = r.active
	}
	last := len(r.a) - 1
	r.a[i] = r.a[last]
	r.a = r.a[:last]
}

// mpipe is one pipe as the mirror knows it.
type mpipe struct {
	peer      string // as State names it: the endpoint when the socket connected, the peer's name when it bound
	out, in   int    // messages waiting to leave and to be read
	wire      int    // messages in flight from this pipe on its connection
	connected bool
	destroyed bool
	// detached: the pipe has left its socket (destroyed and drained) but
	// stays in the rotations until a walk meets it (fq_t::recvpipe reads
	// its delimiter, then pipe_terminated).
	detached bool
	// last is the counter of the last request a REP read from the pipe.
	last   int
	readOn bool
	// written and reads count what the socket wrote into the pipe and
	// read from it over the pipe's life; told is how many of the
	// engine's reads from it the socket has learned of (F18: pipe.cpp
	// sends them every LWM = (HWM+1)/2, and a REP takes them only with its
	// commands, F17).
	written, reads, told int
	// waiting is what reached the pipe's engine and waits there for
	// room; ended says the pipe's connection has ended while the engine
	// still pushes that (F18, F22).
	waiting int
	ended   bool
	// stalled: the handshake of the pipe's connection stalled on it (F21).
	stalled bool
	// woke: the pipe rejoined the fair queue's active part when a
	// message (or its end) arrived; a REQ or REP counts it only once it
	// has taken its commands (fq.cpp activated, F14).
	woke bool
}

// msock is one socket as the mirror knows it.
type msock struct {
	name   string
	typ    model.SocketType
	opts   model.Options
	pipes  []*mpipe // in attach order, as State lists them
	lb, fq ring
	// REQ: a request is outstanding, on replyPipe; replyPipe is nil once
	// F10 forgot it. tookAny: the last reply taken came while it was
	// forgotten, from whichever pipe.
	awaiting  bool
	replyPipe *mpipe
	tookAny   bool
	// REQ under REQ_CORRELATE: the id of the next request (F7).
	nextID uint32
	// REP: a request is held; it came on envPipe (F15).
	owes    bool
	envPipe *mpipe
	// replyFull: envPipe was at its SNDHWM as the REP counted when it
	// read the request, which is when libzmq decides the reply's drop
	// (F17: rep.cpp xrecv writes the envelope, router.cpp xsend).
	replyFull bool
	// ackPipe: a REQ call read past the end of its request's pipe and
	// sent the term ack; ackBack: that call ended, so the ack is in the
	// REQ's mailbox and the next commands forget the pipe (F10).
	ackPipe *mpipe
	ackBack bool
	// readAhead: a REP's poll read the next request ahead from this
	// pipe; the next receive returns it (router.cpp, xhas_in).
	readAhead *mpipe
	woke      int // wakes in the current interval (see sync)
}

// drawn is one open choice the model asked for.
type drawn struct {
	choice model.Choice
	n, k   int      // k in [0, n) is the answer the model must act on
	peers  []string // the candidates' peers, when the model named them
}

// mirror is the properties' own account of every socket's pipes and of
// libzmq's rotations over them, kept from what the model shows (State,
// InFlight, the trace) and from the calls the system makes. Around each
// call it predicts what libzmq does: which pipe a send takes (lb_t: F8,
// F13, F18), which pipe a receive reads and among which candidates the
// model may choose (fq_t: F14), which replies a REQ discards and which it
// takes (F9, F10), where a REP's reply goes (F15, F16, F17); between calls
// it follows the model's pipes as messages arrive and leave and pipes
// attach and end, and it accounts for every open choice the model asks.
type mirror struct {
	sys   *System
	fail  func(format string, args ...any)
	socks map[string]*msock
	read  int     // trace events already seen
	drawn []drawn // choices asked since the last account
	// rogueTo lists, per client, the rogue's messages to it that have not
	// reached its pipe nor been reported lost, oldest first: what a REQ's
	// engine finds when it pushes what waits (F6, F18).
	rogueTo map[string][]string
	// held are the refills a REQ's drain left for after it (F9, F18);
	// refusals counts the protocol errors the mirror expects in a call.
	held     []*mpipe
	refusals int
	aborts   int // the stalled reads the mirror expects in a call (room)
	// dials is every dial outcome the model owes: per connect() (client
	// and endpoint), when its next attempt completes (F23).
	dials map[[2]string]dialDue
	// ids are the request ids each request body went out with (F7), and
	// sentOn the peer of the pipe each raw peer's message went to.
	ids    map[string][]uint32
	sentOn map[string]string
	// flights is what look last read of the wire.
	flights  map[[2]string]int
	inFlight []model.Flight
	nameBuf  []string
	// erred is scratch for reconnects: who met a protocol error.
	erred map[[2]string]bool
	// anyPipe says, per reply a REQ took (by its text), whether F10 had
	// forgotten the request's pipe, so that it came from whichever pipe.
	anyPipe map[string]bool
	// stale: the world may have changed since the mirror last looked;
	// seen is every open socket's State as it last looked.
	stale bool
	seen  map[string]model.SocketState
}

func newMirror(sys *System, fail func(format string, args ...any)) *mirror {
	return &mirror{sys: sys, fail: fail, socks: map[string]*msock{}, dials: map[[2]string]dialDue{},
		ids: map[string][]uint32{}, sentOn: map[string]string{}, flights: map[[2]string]int{}, seen: map[string]model.SocketState{},
		rogueTo: map[string][]string{}, anyPipe: map[string]bool{}, erred: map[[2]string]bool{}}
}

// chose records an open choice as the model acts on it.
func (m *mirror) chose(d drawn) { m.drawn = append(m.drawn, d) }

// names is every socket the system may have open (a server that is down
// has none).
func (m *mirror) names() []string {
	out := m.nameBuf[:0]
	for _, c := range m.sys.Clients {
		out = append(out, c.Name)
	}
	for _, srv := range m.sys.Servers {
		if srv.Up {
			out = append(out, srv.Name)
		}
	}
	if m.sys.Cfg.Rogue {
		out = append(out, RogueName)
	}
	if m.sys.Cfg.RawClient {
		out = append(out, RawName)
	}
	m.nameBuf = out
	return out
}

// states is the State of every open socket, by name, now.
func (m *mirror) states() map[string]model.SocketState {
	if m.stale {
		m.sync()
	}
	return m.seen
}

func (m *mirror) options(name string) model.Options {
	switch {
	case name == RogueName || name == RawName:
		return m.sys.Cfg.RogueOptions
	case strings.HasPrefix(name, "c"):
		return m.sys.Cfg.Client
	default:
		return m.sys.Cfg.Server
	}
}

// fresh returns the trace events since the last call to fresh.
func (m *mirror) fresh() []trace.Event {
	tr := m.sys.Trace()
	ev := tr[m.read:]
	m.read = len(tr)
	return ev
}

// sync follows what happened since the last sync without a call of the
// system's to predict it: one simulator event, or a fault. Such an
// interval changes at most one pipe's place per rotation, so the order of
// the changes it makes is never in doubt; sync fails if it finds more.
func (m *mirror) sync() {
	events := m.fresh()
	m.rogueLost(events)
	m.stallRefusals(events)
	m.follow(events)
	m.account(events)
	m.stale = false
}

// follow reconciles every socket with its State.
func (m *mirror) follow(events []trace.Event) {
	m.look()
	clear(m.seen)
	for _, name := range m.names() {
		st, err := m.sys.W.State(name)
		ms := m.socks[name]
		if err != nil {
			delete(m.socks, name)
			continue
		}
		m.seen[name] = st
		if ms == nil {
			ms = &msock{name: name, typ: st.Type, opts: m.options(name)}
			m.socks[name] = ms
		}
		m.reconcile(ms, st)
		if ms.woke > 1 {
			m.fail("mirror: %d pipes of %s woke in one interval; their order is not known (harness)", ms.woke, name)
		}
		ms.woke = 0
	}
}

// reconcile matches the socket's pipes with the ones State lists. Pipes
// only join at the end and leave from anywhere, in one interval at most
// one live pipe per peer, so the first match in order is the pipe itself.
func (m *mirror) reconcile(ms *msock, st model.SocketState) {
	obs := st.Pipes
	kept := ms.pipes[:0:0]
	j := 0
	for _, p := range ms.pipes {
		if j < len(obs) && obs[j].Peer == p.peer && (obs[j].Destroyed || !p.destroyed) {
			m.update(ms, p, obs[j])
			kept = append(kept, p)
			j++
			continue
		}
		m.leave(ms, p)
	}
	for ; j < len(obs); j++ {
		p := &mpipe{peer: obs[j].Peer}
		if ms.typ != model.REP {
			ms.lb.add(p) // REP routes its replies; it has no lb_t
		}
		ms.fq.add(p)
		m.update(ms, p, obs[j])
		kept = append(kept, p)
	}
	ms.pipes = kept
}

// update takes what a pipe did in the interval from its state: the
// engine's reads, told every LWM (F18), wake it in lb_t (the
// activate_write command), a message arrived wakes it in fq_t
// (activate_read).
func (m *mirror) update(ms *msock, p *mpipe, o model.PipeState) {
	if o.Connected && !p.connected && p.byConnect() {
		m.handshake(ms, p, o)
	}
	if o.Destroyed && !p.destroyed {
		m.ended(ms, p)
	}
	if o.In > p.in && p.stalled && p.connected && !p.ended {
		m.fail("mirror: %s's pipe from %s got %d messages on a connection whose handshake stalled on it: the engine takes the first for a handshake command and ends the connection (F21)", ms.name, p.peer, o.In-p.in)
	}
	if o.In > p.in {
		m.arrived(ms, p, o.In-p.in)
	}
	if !o.Destroyed && p.written < o.Out {
		m.fail("mirror: %s's pipe to %s holds %d to send, but %s wrote %d to it (F19, F22)", ms.name, p.peer, o.Out, ms.name, p.written)
	}
	p.out, p.in, p.connected, p.destroyed = o.Out, o.In, o.Connected, o.Destroyed
	p.waiting, p.ended, p.stalled = o.Waiting, o.Ended, o.Stalled
	p.wire = m.flight(ms, p)
	if ms.typ != model.REP && !p.destroyed {
		if t := p.toldOf(ms); t > p.told {
			p.told = t
			if ms.lb.wake(p) {
				ms.woke++
			}
		}
	}
}

// handshake is a connect()'s pipe getting a connection. A socket that
// reads routing ids (router_t: a REP, or a DEALER standing for a ROUTER
// that faces a REQ) has the engine push the peer's id into the pipe at
// the end of the handshake; a pipe that kept a reconnect's worth of
// messages may be at its RCVHWM as the engine counts, and then the push
// fails and the handshake stalls (F21; stream_engine_base.cpp,
// mechanism_ready).
func (m *mirror) handshake(ms *msock, p *mpipe, o model.PipeState) {
	router := ms.typ == model.REP
	if ms.typ == model.DEALER {
		for _, c := range m.sys.Clients {
			router = router || c.Name == m.peerName(p.peer)
		}
	}
	counted := p.in + p.reads%lwm(ms.opts.RcvHWM)
	if want := router && counted >= hwm(ms.opts.RcvHWM); o.Stalled != want {
		m.fail("mirror: %s's handshake with %s stalled %v, want %v: the pipe holds %d with %d reads untold, RCVHWM %d (F21)",
			ms.name, p.peer, o.Stalled, want, p.in, p.reads%lwm(ms.opts.RcvHWM), hwm(ms.opts.RcvHWM))
	}
}

// arrived is n messages that the engine pushed into p: it wakes p in
// fq_t, and what came from the rogue leaves the rogue's list, well-formed:
// a REQ's session refuses a malformed reply before it pushes it (F6).
func (m *mirror) arrived(ms *msock, p *mpipe, n int) {
	if ms.typ == model.REQ && p.fromRogue() {
		q := m.rogueTo[ms.name]
		if len(q) < n {
			m.fail("mirror: %s's pipe from the rogue got %d messages, but the rogue has %d on the way to it (harness)", ms.name, n, len(q))
		}
		for _, body := range q[:n] {
			if malformed(body) {
				m.fail("mirror: %s's pipe from the rogue got %s, which its session refuses (F6)", ms.name, body)
			}
		}
		m.rogueTo[ms.name] = q[n:]
	}
	if ms.fq.wake(p) {
		p.woke = true
		ms.woke++
	}
}

// stallRefusals checks the messages an interval's engines took for a
// handshake command: only an engine whose handshake stalled on its pipe
// does, with the first message from that peer (F21).
func (m *mirror) stallRefusals(events []trace.Event) {
	for _, e := range events {
		if e.Kind != model.EventDrop || e.Reason != "taken for a handshake command" {
			continue
		}
		stalled := false
		if ms := m.socks[e.Actor]; ms != nil {
			for _, p := range ms.pipes {
				stalled = stalled || p.stalled && p.connected && !p.ended && m.peerName(p.peer) == e.Peer
			}
		}
		if !stalled {
			m.fail("mirror: %s took %s from %s for a handshake command, but no handshake of its with %s stalled (F21)", e.Actor, e.Msg, e.Peer, e.Peer)
		}
	}
}

// malformed says whether a rogue message body is one without delimiter.
func malformed(body string) bool { return strings.HasPrefix(body, "malformed#") }

// fromRogue says whether a client's pipe is to the rogue peer: by its
// endpoint when the client connected to it, by its name when the rogue
// connected (Config.ServersConnect).
func (p *mpipe) fromRogue() bool { return p.peer == RogueEndpoint || p.peer == RogueName }

// clientAt is the client whose endpoint peer is, as a connecting socket's
// pipe names it, or peer itself: what the rogue's lists are keyed by.
func (m *mirror) clientAt(peer string) string {
	for _, c := range m.sys.Clients {
		if c.Endpoint == peer && m.sys.Cfg.ServersConnect {
			return c.Name
		}
	}
	return peer
}

// rogueLost takes off the rogue's lists what the trace reports lost on
// the way: in flight or unsent when a connection or pipe ended (F22), or
// refused by the REQ's session (F6).
func (m *mirror) rogueLost(events []trace.Event) {
	for _, e := range events {
		if e.Kind != model.EventDrop {
			continue
		}
		client := m.clientAt(e.Peer)
		if e.Peer == RogueName {
			client = e.Actor
		} else if e.Actor != RogueName {
			continue
		}
		if q := m.rogueTo[client]; len(q) > 0 {
			m.rogueTo[client] = slices.DeleteFunc(q, func(b string) bool { return b == e.Msg })
		}
	}
}

// lwm is a high-water mark's low-water mark, (HWM+1)/2: a pipe's reader
// tells its writer of its reads once per LWM reads (pipe.cpp, F18).
func lwm(h int) int { return (hwm(h) + 1) / 2 }

// engineTold is how many of taken reads a writer has been told of.
func engineTold(taken, h int) int { l := lwm(h); return taken / l * l }

// toldOf is how many of the engine's reads of p its socket counts: the
// reads told every LWM; a REP learns of those only when it takes its
// commands (F17, F18).
func (p *mpipe) toldOf(ms *msock) int {
	if ms.typ == model.REP {
		return p.told
	}
	return engineTold(p.written-p.out, ms.opts.SndHWM)
}

// commands is the socket taking the commands in its mailbox: the pipes
// that woke count as active, a REP learns of the reads its pipes' engines
// told (F17), and a REQ whose term ack came back forgets the pipe of its
// request (F10, req.cpp xpipe_terminated).
func (m *mirror) commands(ms *msock) {
	for _, p := range ms.fq.a {
		p.woke = false
	}
	for _, p := range ms.pipes {
		p.woke = false
		if ms.typ == model.REP {
			p.told = engineTold(p.written-p.out, ms.opts.SndHWM)
		}
	}
	if ms.ackPipe != nil && ms.ackBack {
		if ms.replyPipe == ms.ackPipe {
			ms.replyPipe = nil
		}
		ms.ackPipe, ms.ackBack = nil, false
	}
}

// callEnded is the end of a REQ's call: a term ack it sent is back in its
// mailbox for the next commands (F10).
func (m *mirror) callEnded(ms *msock) {
	if ms.ackPipe != nil {
		ms.ackBack = true
	}
}

// readsWithoutCommands says whether a receive finds a message before it
// takes its commands: an active pipe that was active before the last
// commands holds one (socket_base.cpp recv, fq.cpp).
func readsWithoutCommands(ms *msock) bool {
	for _, p := range ms.fq.a[:ms.fq.active] {
		if p.in > 0 && !p.woke {
			return true
		}
	}
	return false
}

// byConnect says whether a connect() made the pipe (State names its peer
// by endpoint): a pipe of a connect() without IMMEDIATE survives the end
// of its connection (F21).
func (p *mpipe) byConnect() bool { return strings.HasPrefix(p.peer, "tcp://") }

// wrote is a whole message the socket wrote into p: a live connection's
// engine takes it at once (F18: TCP holds what the peer refuses), a pipe
// without one, or whose connection ended, keeps it.
func (m *mirror) wrote(ms *msock, p *mpipe) {
	p.written++
	if p.connected && !p.ended {
		p.wire++
	} else {
		p.out++
	}
	if ms.typ != model.REP {
		p.told = p.toldOf(ms)
	}
}

// room is a read of p that reaches an LWM: the engine, told of the room,
// pushes what waits for it (F18). During a REQ's drain of stale replies
// the engine does so on libzmq's I/O thread, before or after the drain
// ends: the model's ChoiceDrainRefill (F9). An engine whose handshake
// stalled on the pipe is not waiting for room: libzmq 4.3.4 aborts there,
// and the model ends the connection for a protocol error, so the
// connect() stops (F21, model.AbortStalledRead).
func (m *mirror) room(ms *msock, p *mpipe, drain bool) {
	if p.stalled && p.connected && !p.ended {
		m.aborts++
		m.destroy(ms, p)
		return
	}
	if !p.connected || p.waiting == 0 {
		return
	}
	if drain {
		d, ok := m.take(model.ChoiceDrainRefill)
		if !ok {
			m.fail("mirror: %s's drain made room in its pipe from %s, whose engine holds %d, but the model asked no drain-refill race (F9, F18)", ms.name, p.peer, p.waiting)
		}
		if d.n != 2 {
			m.fail("mirror: the drain-refill race of %s has %d outcomes, want 2 (F9, F18)", ms.name, d.n)
		}
		if d.k == 0 {
			m.held = append(m.held, p)
			return
		}
	}
	m.push(ms, p)
}

// push is the engine pushing what waits for p, oldest first, until the
// pipe is at its RCVHWM as the engine counts (what the socket read less
// the reads not yet told, F18). A REQ's session refuses a malformed reply
// even then, and a reply with a request id that waited for room (F6:
// req_session_t moved on before the push that failed); either ends the
// connection for good. A side of an ended connection ends once its
// engine has pushed everything (F22).
func (m *mirror) push(ms *msock, p *mpipe) {
	l := lwm(ms.opts.RcvHWM)
	room := hwm(ms.opts.RcvHWM) - p.in - p.reads%l
	first := true
	for p.waiting > 0 {
		rogue := ms.typ == model.REQ && p.fromRogue()
		var head string
		if rogue {
			q := m.rogueTo[ms.name]
			if len(q) == 0 {
				m.fail("mirror: %s's engine holds %d from the rogue, which has nothing on the way to it (harness)", ms.name, p.waiting)
			}
			head = q[0]
		}
		switch {
		case rogue && malformed(head):
			m.refuse(ms, p)
			return
		case room == 0:
			return
		case first && ms.typ == model.REQ && !rogue && ms.opts.ReqCorrelate:
			m.refuse(ms, p)
			return
		case rogue:
			m.rogueTo[ms.name] = m.rogueTo[ms.name][1:]
		}
		first = false
		p.in++
		p.waiting--
		room--
		if ms.fq.wake(p) {
			p.woke = true
		}
	}
	if p.ended {
		p.connected, p.ended = false, false
		if !p.byConnect() || ms.opts.Immediate {
			m.destroy(ms, p)
		}
	}
}

// refuse is a REQ's session ending p's connection for a protocol error
// (F6): its connect() stops, so the pipe is destroyed.
func (m *mirror) refuse(ms *msock, p *mpipe) {
	m.refusals++
	m.destroy(ms, p)
}

// destroy is p destroyed in a call: it takes nothing more, what it held
// to send is lost (F22), and it leaves its socket once drained.
func (m *mirror) destroy(ms *msock, p *mpipe) {
	p.destroyed, p.connected, p.ended, p.waiting, p.out, p.wire = true, false, false, 0, 0, 0
	if p.in == 0 {
		m.detach(ms, p)
	}
}

// detach is a destroyed, drained pipe leaving its socket; its end wakes it
// in fq_t so that the next walk removes it (F14).
func (m *mirror) detach(ms *msock, p *mpipe) {
	ms.pipes = slices.DeleteFunc(ms.pipes, func(q *mpipe) bool { return q == p })
	p.detached = true
	if ms.fq.wake(p) {
		p.woke = true
	}
}

// leave is a pipe that left its socket: it ended and was drained, and its
// delimiter wakes it in fq_t so that the next walk removes it.
func (m *mirror) leave(ms *msock, p *mpipe) {
	if !p.destroyed {
		m.ended(ms, p)
	}
	p.destroyed, p.detached = true, true
	p.out, p.in, p.wire, p.connected = 0, 0, 0, false
	if ms.fq.wake(p) {
		p.woke = true
		ms.woke++
	}
}

// ended is a pipe destroyed in this interval.
func (m *mirror) ended(ms *msock, p *mpipe) {
	p.destroyed = true
	if p.byConnect() && !ms.opts.Immediate && p.peer != RogueEndpoint && !p.stalled {
		// Only a protocol error ends a connecting pipe that IMMEDIATE=0
		// keeps: servers send none, and a client one only into a
		// handshake that stalled on the pipe, a REP's or, where the rogue
		// connects, the rogue's (F21).
		m.fail("mirror: %s's pipe to %s was destroyed, but with IMMEDIATE=0 a connecting pipe survives its connection (F21)", ms.name, p.peer)
	}
}

// flight is the number of messages in flight from p on its connection;
// an ended one has none (F22), whatever a newer connection to the same
// peer has.
func (m *mirror) flight(ms *msock, p *mpipe) int {
	return m.flightOn(ms.name, p.peer, p.connected && !p.ended)
}

// flightOn is the number of messages in flight from the socket called
// from on its connection to peer, if it has one.
func (m *mirror) flightOn(from, peer string, connected bool) int {
	if !connected {
		return 0
	}
	return m.flights[[2]string{from, m.peerName(peer)}]
}

// look refreshes what the mirror reads of the world once per look: the
// messages in flight per direction of each pair of sockets.
func (m *mirror) look() {
	m.inFlight = m.sys.W.AppendInFlight(m.inFlight[:0])
	clear(m.flights)
	for _, f := range m.inFlight {
		m.flights[[2]string{f.From, f.To}] += f.N
	}
}

// pipesOf is the mirror's pipes of the socket called name, in the order
// of its State once the mirror has followed the latest step.
func (m *mirror) pipesOf(name string) []*mpipe { return m.socks[name].pipes }

// peerName is the socket at the other end of a pipe whose peer is ep.
func (m *mirror) peerName(ep string) string {
	if name, ok := m.sys.W.Endpoint(ep); ok {
		return name
	}
	return ep
}

// account matches the choices the model asked in an interval with the
// ones libzmq's rules need there: reconnect jitter for F23's check (the
// calls took theirs: fair queue, request id, drain refill). F10 is no
// race: a REQ forgets its request's pipe at the commands after the call
// that read past the pipe's end (see commands). Anything else is a choice
// libzmq does not make.
func (m *mirror) account(events []trace.Event) {
	m.reconnects(events)
	for _, d := range m.drawn {
		m.fail("mirror: the model asked %s (%d options) where libzmq makes no such choice", d.choice, d.n)
	}
}

// take removes the first choice of kind c asked for so far.
func (m *mirror) take(c model.Choice) (drawn, bool) {
	for i, d := range m.drawn {
		if d.choice == c {
			m.drawn = append(m.drawn[:i], m.drawn[i+1:]...)
			return d, true
		}
	}
	return drawn{}, false
}

// The calls the system makes on a socket, for before and after.
const (
	callSend       = "send"
	callRecv       = "recv"
	callClose      = "close"
	callPoll       = "poll"
	callDisconnect = "disconnect"
)

// before is told of a call about to be made.
func (m *mirror) before(string, string) {
	if m.stale {
		m.sync()
	}
	m.refusals, m.aborts = 0, 0
}

// after judges a call once its effects are settled: msg is what a receive
// returned.
func (m *mirror) after(call, name string, msg model.Message, err error) {
	events := m.fresh()
	ms := m.socks[name]
	switch {
	case call == callClose:
		delete(m.socks, name)
		if !m.sys.Cfg.ServersConnect {
			// The rogue's pipe to the client was the client's
			// connect()'s, and is destroyed with what it holds. A rogue
			// that connects keeps its pipe, and what that holds goes to
			// the client's next incarnation (F21); what is lost on the
			// way the model reports (rogueLost).
			delete(m.rogueTo, name)
		}
		m.closed(name)
	case ms == nil:
	case call == callPoll:
		m.poll(ms, m.sys.polled)
	case call == callDisconnect:
		m.disconnect(ms, m.sys.away)
	case call == callSend && ms.typ == model.REQ:
		m.reqSend(ms, events, err)
	case call == callSend && ms.typ == model.REP:
		m.repSend(ms, events, err)
	case call == callSend:
		m.dealerSend(ms, events, err)
	case call == callRecv:
		m.recv(ms, events, msg, err)
	}
	m.rogueLost(events) // after the call's prediction, which reads the list as it was
	if ms != nil && call != callClose {
		m.compare(ms)
		if n := len(drops(events, ms.name, refusalReasons...)); n != m.refusals {
			m.fail("mirror: %s's session ended %d connections for a protocol error in the call, want %d (F6, F18)", ms.name, n, m.refusals)
		}
		aborts := 0
		for _, e := range events {
			if e.Kind == model.EventError && e.Reason == model.AbortStalledRead {
				aborts++
			}
		}
		if aborts != m.aborts {
			m.fail("mirror: %d reads in %s's call made room in a pipe whose handshake stalled, want %d (F21)", aborts, ms.name, m.aborts)
		}
	}
	m.follow(events)
	m.account(events)
	m.stale = false
}

// canTake is pipe_t::check_write: the pipe lives and its writer counts
// fewer than SNDHWM messages in it, counting what the engine took but
// has not told of (F18).
func canTake(ms *msock, p *mpipe) bool {
	return !p.destroyed && p.written-p.toldOf(ms) < hwm(ms.opts.SndHWM)
}

// sendPipe is lb_t::sendpipe up to the write: the pipe at cur if it can
// take the message; otherwise it leaves the active part and the walk goes
// on, until no pipe is active (F8, F13, F18).
func (m *mirror) sendPipe(ms *msock) *mpipe {
	r := &ms.lb
	for r.active > 0 {
		if p := r.a[r.cur]; canTake(ms, p) {
			return p
		}
		r.skip()
	}
	return nil
}

// recvPipe is fq_t::recvpipe up to the read: empty pipes at cur leave the
// active part (a detached one leaves both rotations), and of the ready
// pipes from cur on the model may read any, which it asks as a choice
// whose candidates are in rotation order, libzmq's first (F14).
func (m *mirror) recvPipe(ms *msock) *mpipe {
	r := &ms.fq
	for r.active > 0 && r.a[r.cur].in == 0 {
		m.passEmpty(ms)
	}
	if r.active == 0 {
		return nil
	}
	var cand []int
	for i := 0; i < r.active; i++ {
		if j := (r.cur + i) % r.active; r.a[j].in > 0 {
			cand = append(cand, j)
		}
	}
	if len(cand) > 1 {
		d, ok := m.take(model.ChoiceFairQueue)
		if !ok {
			m.fail("mirror: %s reads with %d pipes ready, but the model asked no fair-queue choice (F14)", ms.name, len(cand))
		}
		var peers []string
		for _, j := range cand {
			peers = append(peers, r.a[j].peer)
		}
		// The model names the candidates of this choice (ChoosePeer).
		if d.n != len(cand) || !slices.Equal(d.peers, peers) {
			m.fail("mirror: %s chose among %v (%d), want the ready pipes in rotation order %v (F14)", ms.name, d.peers, d.n, peers)
		}
		r.cur = cand[d.k]
	}
	p := r.a[r.cur]
	r.next()
	return p
}

// passEmpty is the walk past the empty pipe at cur.
// It reads the end of a detached pipe: a REQ whose request went there
// sends the term ack, and forgets the pipe once the ack is back (F10).
func (m *mirror) passEmpty(ms *msock) {
	p := ms.fq.a[ms.fq.cur]
	ms.fq.skip()
	if p.detached {
		ms.fq.drop(p)
		ms.lb.drop(p)
		if ms.typ == model.REQ && ms.replyPipe == p {
			ms.ackPipe, ms.ackBack = p, false
		}
	}
}

// readFrom takes one message from p; a read that reaches an LWM lets the
// engine push what waits (F18), and p leaves its socket once it has
// ended and is drained.
func (m *mirror) readFrom(ms *msock, p *mpipe, drain bool) {
	p.in--
	if p.reads++; p.reads%lwm(ms.opts.RcvHWM) == 0 {
		m.room(ms, p, drain)
	}
	if p.destroyed && p.in == 0 && !p.detached {
		m.detach(ms, p)
	}
}

// The reasons of the drops a call makes on purpose: discards (F5, F7,
// F9), a REP's dropped reply (F16, F17), a session's protocol errors
// (F6). Other drops of a call are losses when a connection or pipe ends.
var (
	staleReasons   = []string{"stale reply discarded by new request"}
	discardReasons = []string{"reply from another pipe", "reply with another request id", "reply without delimiter", "request without delimiter"}
	replyReasons   = []string{"pipe to client full", "client gone"}
	refusalReasons = []string{"malformed reply", "request id refused by a full pipe, then taken for a wrong frame"}
)

// drops returns the drop events of actor for one of reasons, in order.
func drops(events []trace.Event, actor string, reasons ...string) []trace.Event {
	var out []trace.Event
	for _, e := range events {
		if e.Kind == model.EventDrop && e.Actor == actor && slices.Contains(reasons, e.Reason) {
			out = append(out, e)
		}
	}
	return out
}

// reqSend is req_t::xsend. zmq_send takes the socket's commands first,
// also when F1 refuses the send (socket_base.cpp send).
func (m *mirror) reqSend(ms *msock, events []trace.Event, err error) {
	m.commands(ms)
	defer m.callEnded(ms)
	relaxed := ms.opts.ReqRelaxed
	if ms.awaiting && !relaxed {
		return // F1: EFSM, checked by the lockstep property
	}
	if ms.opts.ReqCorrelate {
		// F7: +1 per send that gets past F1, from a random start; libzmq
		// counts it before it looks for a pipe (req.cpp, xsend).
		if d, ok := m.take(model.ChoiceRequestID); ok {
			ms.nextID = uint32(d.k)
		}
		ms.nextID++
	}
	p := m.sendPipe(ms)
	if p == nil {
		if err == nil {
			m.fail("mirror: %s's send succeeded, but no pipe of its rotation can take it (F8, F13, F18)", ms.name)
		}
		if relaxed {
			ms.awaiting, ms.replyPipe = false, nil // F20: the request is given up
		}
		return
	}
	if err != nil {
		m.fail("mirror: %s's send failed (%v), but its pipe to %s can take it (F8, F18)", ms.name, err, p.peer)
	}
	for _, e := range events {
		if e.Kind != model.EventSend || e.Actor != ms.name {
			continue
		}
		if e.Peer != p.peer {
			m.fail("mirror: %s sent %s to %s, but libzmq's rotation gives %s (F8)", ms.name, e.Msg, e.Peer, p.peer)
		}
		if ms.opts.ReqCorrelate {
			m.ids[e.Msg] = append(m.ids[e.Msg], ms.nextID)
		}
	}
	// libzmq wrote the request's first frame into p before it drains, so
	// the request is outstanding on p meanwhile (F10).
	ms.awaiting, ms.replyPipe = true, p
	// F9: what is queued to read answers earlier requests; the send reads
	// and discards it all, in rotation order, and every pipe ends inactive.
	// The engines told of room in the drain push what waits for them
	// before or after it ends (room).
	stale := drops(events, ms.name, staleReasons...)
	r := &ms.fq
	for r.active > 0 {
		q := r.a[r.cur]
		if q.in == 0 {
			m.passEmpty(ms)
			continue
		}
		r.next()
		if len(stale) == 0 || stale[0].Peer != q.peer {
			m.fail("mirror: %s's send did not discard the reply queued from %s first (F9); it discarded %v", ms.name, q.peer, stale)
		}
		stale = stale[1:]
		m.readFrom(ms, q, true)
	}
	if len(stale) > 0 {
		m.fail("mirror: %s's send discarded %s from %s, which libzmq's fair queue does not hold (F9)", ms.name, stale[0].Msg, stale[0].Peer)
	}
	for i, q := range m.held {
		m.held[i] = nil
		if q.connected {
			m.push(ms, q)
		}
	}
	m.held = m.held[:0]
	if p.destroyed {
		// A refill ended p's connection (F6): the request went into the
		// pipe that is destroyed with it (F22), and the rotation stays.
		return
	}
	ms.lb.next() // after the drain, which may have dropped ended pipes
	m.wrote(ms, p)
}

// recv is req_t::xrecv, rep_t::xrecv or a DEALER's receive: it reads in
// fq_t's order; a REQ discards replies from any pipe but its request's
// (F9) unless F10 forgot that pipe, and under REQ_CORRELATE replies with
// another id (F7); a REP discards requests without delimiter (F5).
func (m *mirror) recv(ms *msock, events []trace.Event, msg model.Message, err error) {
	if ms.typ == model.REQ && !ms.awaiting || ms.typ == model.REP && ms.owes {
		return // F1, F2: EFSM, checked by the lockstep property
	}
	if ms.typ == model.REQ {
		defer m.callEnded(ms)
	}
	if ms.typ != model.DEALER && ms.readAhead == nil && !readsWithoutCommands(ms) {
		// zmq_recv finds nothing, takes its commands and tries again
		// (socket_base.cpp recv); a request a poll read ahead is
		// something.
		m.commands(ms)
	}
	discarded := drops(events, ms.name, discardReasons...)
	for {
		p := ms.readAhead
		ms.readAhead = nil
		if p == nil {
			if p = m.recvPipe(ms); p == nil {
				if err == nil {
					m.fail("mirror: %s received %s, but libzmq's fair queue holds nothing (F14)", ms.name, msg.Text())
				}
				return
			}
			m.readFrom(ms, p, false)
		}
		if ms.typ == model.DEALER {
			m.took(ms, p, msg, err)
			return
		}
		if len(discarded) == 0 {
			m.took(ms, p, msg, err)
			return
		}
		d := discarded[0]
		discarded = discarded[1:]
		if d.Peer != p.peer {
			m.fail("mirror: %s discarded %s from %s, but libzmq's fair queue reads %s next (F14)", ms.name, d.Msg, d.Peer, p.peer)
		}
		mine := ms.replyPipe == nil || ms.replyPipe == p
		if ms.typ == model.REQ && (d.Reason == "reply from another pipe") == mine {
			m.fail("mirror: %s discarded %s from %s as %q, but its request went to %s (F9, F10)", ms.name, d.Msg, p.peer, d.Reason, m.replyPeer(ms))
		}
		if ms.typ == model.REP && !m.undelimited(d.Msg) {
			m.fail("mirror: %s discarded %q from %s, a request with a delimiter (F5)", ms.name, d.Msg, p.peer)
		}
	}
}

// tookAny says whether the REQ called name took its last reply while F10
// had forgotten its request's pipe, so from whichever pipe.
func (m *mirror) tookAny(name string) bool {
	ms := m.socks[name]
	return ms != nil && ms.tookAny
}

func (m *mirror) replyPeer(ms *msock) string {
	if ms.replyPipe == nil {
		return "a pipe since ended (any pipe, F10)"
	}
	return ms.replyPipe.peer
}

// took is a receive that returned the message it read from p.
func (m *mirror) took(ms *msock, p *mpipe, msg model.Message, err error) {
	if err != nil {
		m.fail("mirror: %s's receive failed (%v), but it read a message from %s that it keeps (F14)", ms.name, err, p.peer)
	}
	if len(msg) == 0 {
		m.fail("mirror: %s received a message without frames from %s (F5)", ms.name, p.peer)
	}
	switch {
	case ms.typ == model.REQ:
		if ms.replyPipe != nil && ms.replyPipe != p {
			m.fail("mirror: %s took %s from %s, but its request went to %s (F9)", ms.name, msg.Text(), p.peer, ms.replyPipe.peer)
		}
		ms.tookAny = ms.replyPipe == nil
		m.anyPipe[msg.Text()] = ms.tookAny
		ms.awaiting, ms.replyPipe = false, nil
	case ms.typ == model.REP:
		from := p.peer
		client, k, ok := ParseRequest(msg[len(msg)-1])
		if !ok || client != m.peerName(from) {
			m.fail("mirror: %s read %s, but libzmq's fair queue reads from %s (F14)", ms.name, msg.Text(), from)
		}
		// A pipe is read in the order it was written; only a Lazy Pirate
		// sends a request twice.
		if p.readOn && (k < p.last || k == p.last && !m.sys.Cfg.Pirate) {
			m.fail("mirror: %s read %s after %s#%d from the same pipe: out of the order %s sent them (F14)", ms.name, msg.Text(), client, p.last, client)
		}
		p.last, p.readOn = k, true
		if got := m.sys.W.RequestFrom(ms.name); got != from {
			m.fail("mirror: %s holds a request from %s, but RequestFrom says %q (F15)", ms.name, from, got)
		}
		if sent, ok := m.sys.rawSent[msg[len(msg)-1]]; ok && isRaw(from) {
			if _, body, ok := delimited(sent); !ok || !slices.Equal(body, msg) {
				m.fail("mirror: %s read %q of the raw request %q, want what follows its first delimiter (F5)", ms.name, msg, sent)
			}
		}
		ms.owes, ms.envPipe = true, p
		// F17: the REP writes the reply's envelope now, so a pipe full
		// as it counts drops the reply whatever comes before the send.
		ms.replyFull = p.written-p.told >= hwm(ms.opts.SndHWM)
	case ms.name == RawName:
		m.rawReply(p, msg)
	default:
		m.rawRequest(ms, p, msg)
	}
}

// rawReply checks a reply as the raw client reads it: it answers a request
// the raw client sent on the pipe it came from, after the envelope that
// request carried before its delimiter (F5, F15).
func (m *mirror) rawReply(p *mpipe, msg model.Message) {
	req, _ := Answers(msg[len(msg)-1])
	body := req[strings.LastIndexByte(req, '|')+1:] // the body's last frame
	sent, ok := m.sys.rawSent[body]
	if from := m.sentOn[body]; !ok || from != p.peer {
		m.fail("mirror: %s read a reply to %q from %s, but it sent that request to %q (F14, F15)", RawName, req, p.peer, from)
	}
	env, _, _ := delimited(sent)
	if want := append(append(model.Message(nil), env...), model.Delimiter, msg[len(msg)-1]); !slices.Equal(msg, want) {
		m.fail("mirror: %s read %q, want the envelope of its request %q, a delimiter and the reply (F5, F15)", RawName, msg, sent)
	}
}

// undelimited says whether text is a raw request that has no delimiter.
func (m *mirror) undelimited(text string) bool {
	for _, sent := range m.sys.rawSent {
		if _, _, ok := delimited(sent); !ok && sent.Text() == text {
			return true
		}
	}
	return false
}

// delimited splits a request as a REP does: at the first empty frame with
// frames after it (F5).
func delimited(m model.Message) (env, body model.Message, ok bool) {
	for i, f := range m {
		if f == model.Delimiter && i < len(m)-1 {
			return m[:i], m[i+1:], true
		}
	}
	return nil, nil, false
}

// rawRequest checks a request as the rogue peer reads it off the wire:
// the REQ's envelope is an empty delimiter, after a 4-byte id in native
// byte order under REQ_CORRELATE, one more than the last request's (F4,
// F7), and it came from the client whose pipe was read (F14).
func (m *mirror) rawRequest(ms *msock, p *mpipe, msg model.Message) {
	body := msg[len(msg)-1]
	if client, _, ok := ParseRequest(body); !ok || client != m.clientAt(p.peer) {
		m.fail("mirror: %s read %s, but libzmq's fair queue reads from %s (F14)", ms.name, msg.Text(), p.peer)
	}
	if !m.sys.Cfg.Client.ReqCorrelate {
		if len(msg) != 2 || msg[0] != model.Delimiter {
			m.fail("mirror: %s read %q from %s, want a delimiter and the body (F4)", ms.name, msg, p.peer)
		}
		return
	}
	if len(msg) != 3 || len(msg[0]) != 4 || msg[1] != model.Delimiter {
		m.fail("mirror: %s read %q from %s, want a 4-byte request id, a delimiter and the body (F4, F7)", ms.name, msg, p.peer)
	}
	id := binary.LittleEndian.Uint32([]byte(msg[0]))
	if !slices.Contains(m.ids[body], id) {
		m.fail("mirror: %s's request %s carries id %d, but it went out with %v (F7)", p.peer, body, id, m.ids[body])
	}
}

// repSend is rep_t::xsend: the reply goes back on the request's pipe,
// dropped if that pipe was full as the REP counted when it read the
// request (F17) or has ended (F16). The send takes the REP's commands.
func (m *mirror) repSend(ms *msock, events []trace.Event, err error) {
	if !ms.owes {
		return // F2: EFSM, checked by the lockstep property
	}
	p, full := ms.envPipe, ms.replyFull
	ms.owes, ms.envPipe, ms.replyFull = false, nil, false
	m.commands(ms)
	dropped := len(drops(events, ms.name, replyReasons...)) > 0
	switch {
	case err != nil:
		m.fail("mirror: %s's reply failed (%v); a REP never blocks (F16, F17)", ms.name, err)
	case dropped != (p.destroyed || full):
		m.fail("mirror: %s's reply to %s: dropped %v, but its pipe is destroyed %v and was full at the read %v (SNDHWM %d; F15, F16, F17)",
			ms.name, p.peer, dropped, p.destroyed, full, hwm(ms.opts.SndHWM))
	case !dropped:
		m.wrote(ms, p)
	}
}

// dealerSend is a DEALER's send: lb_t's pipe, or EAGAIN.
func (m *mirror) dealerSend(ms *msock, events []trace.Event, err error) {
	p := m.sendPipe(ms)
	switch {
	case p == nil && err == nil:
		m.fail("mirror: %s's send succeeded, but no pipe of its rotation can take it (F8, F18)", ms.name)
	case p != nil && err != nil:
		m.fail("mirror: %s's send failed (%v), but its pipe to %s can take it (F8, F18)", ms.name, err, p.peer)
	case p != nil:
		ms.lb.next()
		m.wrote(ms, p)
		for _, e := range events {
			if e.Actor == ms.name && (e.Kind == model.EventSend || e.Kind == model.EventReply) {
				m.sentOn[e.Msg] = p.peer
				// What the rogue writes into a pipe whose connection
				// ended (its engine still pushing what it had read, F22)
				// never leaves when the rogue binds: a client of the same
				// name that connects again has a pipe of its own. A
				// rogue that connects keeps its pipe without a
				// connection (IMMEDIATE=0, F12, F21), and what it holds
				// leaves on the next one.
				if ms.name == RogueName && (p.byConnect() || p.connected && !p.ended) {
					c := m.clientAt(p.peer)
					m.rogueTo[c] = append(m.rogueTo[c], e.Msg)
				}
			}
		}
	}
}

// poll is ZMQ_EVENTS (World.Poll): the socket takes its commands; its
// fair queue moves past the empty pipes as a receive would (fq.cpp,
// has_in), where a REP reads the next request ahead (router.cpp,
// xhas_in: it becomes the next receive's, F14); its load balancer moves
// past the pipes that cannot take a message as a send would (lb.cpp,
// has_out, F8); and the answer is what a receive and a send would do
// (F1, F2, F3, F18).
func (m *mirror) poll(ms *msock, got [2]bool) {
	m.commands(ms)
	defer m.callEnded(ms)
	awaits := ms.typ == model.REQ && ms.awaiting
	switch {
	case ms.typ == model.REP && !ms.owes && ms.readAhead == nil:
		if p := m.recvPipe(ms); p != nil {
			m.readFrom(ms, p, false)
			ms.readAhead = p
		}
	case ms.typ == model.DEALER || awaits:
		for r := &ms.fq; r.active > 0 && r.a[r.cur].in == 0; {
			m.passEmpty(ms)
		}
	}
	if ms.typ == model.DEALER || ms.typ == model.REQ && (!awaits || ms.opts.ReqRelaxed) {
		m.sendPipe(ms)
	}
	if want := m.events(ms); got != want {
		m.fail("poll: %s's ZMQ_EVENTS says readable %v and writable %v, want %v and %v (F1, F2, F3, F18)", ms.name, got[0], got[1], want[0], want[1])
	}
}

// events is what ZMQ_EVENTS says of the socket as the mirror knows it: a
// REQ is readable while it awaits a reply and a pipe holds a message (a
// stray one too, F9), writable while F1 allows a send and a pipe can take
// one as its writer counts (F18); a REP readable while it owes nothing and
// a request is there, on a pipe or read ahead, writable while it owes a
// reply (F2); a raw peer whenever a pipe holds a message or can take one.
func (m *mirror) events(ms *msock) [2]bool {
	var in, room bool
	for _, p := range ms.pipes {
		in = in || p.in > 0
		room = room || canTake(ms, p)
	}
	switch ms.typ {
	case model.REQ:
		return [2]bool{ms.awaiting && in, (!ms.awaiting || ms.opts.ReqRelaxed) && room}
	case model.REP:
		return [2]bool{!ms.owes && (in || ms.readAhead != nil), ms.owes}
	default:
		return [2]bool{in, room}
	}
}

// disconnect is zmq_disconnect of the REQ's connect() to ep: the
// connect() stops, its connection ends (F22: what was in flight is lost),
// and its pipe is destroyed with what it holds to send. With IMMEDIATE=0
// the pipe is the connect()'s, and the socket ends it itself: what it
// holds to read is lost too, it leaves both rotations at once, and the
// REQ forgets it as its request's pipe (F10). With IMMEDIATE=1 it is the
// session's, which ends it as a lost connection does: it is read until
// drained (F21). (socket_base.cpp, term_endpoint; pipe.cpp, terminate.)
func (m *mirror) disconnect(ms *msock, ep string) {
	delete(m.dials, [2]string{ms.name, ep})
	var p *mpipe
	for _, q := range ms.pipes {
		if q.peer == ep && !q.destroyed {
			p = q
		}
	}
	if p == nil {
		return
	}
	if !ms.opts.Immediate {
		ms.pipes = slices.DeleteFunc(ms.pipes, func(q *mpipe) bool { return q == p })
		ms.fq.drop(p)
		ms.lb.drop(p)
		p.destroyed, p.detached = true, true
		if ms.replyPipe == p {
			ms.replyPipe = nil
		}
		if ms.ackPipe == p {
			ms.ackPipe, ms.ackBack = nil, false
		}
		return
	}
	m.destroy(ms, p)
}

// compare checks the socket's pipes against the mirror's prediction after
// a call on it: the pipes it read from, the pipe a message went to, the
// pipes that left, and the socket's own state.
func (m *mirror) compare(ms *msock) {
	st, err := m.sys.W.State(ms.name)
	if err != nil {
		m.fail("mirror: %s vanished during a call: %v", ms.name, err)
	}
	m.look()
	if len(st.Pipes) != len(ms.pipes) {
		m.fail("mirror: %s has %d pipes after the call, want %d: %+v", ms.name, len(st.Pipes), len(ms.pipes), st.Pipes)
	}
	for i, o := range st.Pipes {
		p := ms.pipes[i]
		sent := o.Out + m.flightOn(ms.name, o.Peer, o.Connected && !o.Ended)
		if o.Peer != p.peer || o.In != p.in || sent != p.out+p.wire {
			m.fail("mirror: %s's pipe %d to %s holds %d to read and %d sent on it, want %d and %d (F8, F14, F15)",
				ms.name, i, o.Peer, o.In, sent, p.in, p.out+p.wire)
		}
	}
	switch ms.typ {
	case model.REQ:
		if st.AwaitingReply != ms.awaiting {
			m.fail("mirror: %s awaits a reply: %v, want %v (F1, F20)", ms.name, st.AwaitingReply, ms.awaiting)
		}
	case model.REP:
		if st.OwesReply != ms.owes {
			m.fail("mirror: %s owes a reply: %v, want %v (F2)", ms.name, st.OwesReply, ms.owes)
		}
	}
}

// hwm is a high-water mark option's value; zero is libzmq's default.
func hwm(n int) int {
	if n <= 0 {
		return model.DefaultHWM
	}
	return n
}
