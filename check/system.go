package check

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/zeromq-lockstep/lockstep/app"
	"github.com/zeromq-lockstep/lockstep/model"
	"github.com/zeromq-lockstep/lockstep/trace"
)

// state is one node of the exploration: the model's world and the
// applications' bookkeeping around it. Everything the invariants need of
// the past is kept here, in bounded form (bit sets of request numbers), so
// that it is part of the state and deduplication stays exact.
type state struct {
	w       *model.World
	mem     *model.Scratch // the world's memory, reused once the state is done with
	clients []client
	servers []server
	used    Faults // faults spent so far
	cut     uint64 // bit c*8+s: the link between client c and server s is cut
}

type client struct {
	q         model.AppQueue
	enq       int    // requests enqueued so far
	handed    int    // requests the queue handed to the socket (F24)
	sinceRecv int    // sends since the last reply taken (F1)
	lastSent  int    // the latest request sent, -1 before any
	answered  uint64 // requests whose reply the client took
	lost      uint64 // requests the model reported lost, or held by a crashed server (F19)
	crashLost uint64 // the subset held by a server when it crashed (F19)
	delivered uint64 // requests some server read
	abandoned uint64 // Pirate: requests given up after Retries
	// wired: requests this socket put on the wire that are still in the
	// network, neither read by a server nor reported lost (F19). It adds
	// nothing to the state of an unmutated model, where such a request
	// is exactly one on a wire or in a server's pipe; a Lazy Pirate's is
	// kept within a step only (see run.apply).
	wired    uint64
	retries  int  // Pirate: retries of the current request
	awaiting bool // Pirate: the current request (lastSent) is outstanding
}

type server struct {
	up         bool
	holding    bool
	heldClient int
	heldK      int
	lastRead   [8]int8 // per client, the last request read, -1 before any (F14)
}

// violation is a broken invariant: a failure of the model, not an
// expected outcome.
type violation struct {
	Rule string // short name of the invariant
	Fact string // the facts it rests on
	Msg  string
}

func (v *violation) Error() string { return v.Rule + ": " + v.Msg + " (" + v.Fact + ")" }

func clientName(i int) string { return "c" + strconv.Itoa(i+1) }
func serverName(j int) string { return "s" + strconv.Itoa(j+1) }

func endpoint(name string) string { return "tcp://" + name + ":" + strconv.Itoa(app.ServerPort) }

// names caches the socket names and endpoints of a configuration, and
// the requests and replies its applications send (messages are never
// changed once made, so they can be shared).
type names struct {
	client, server     []string
	clientEP, serverEP []string
	request, reply     []model.Message // request k and the reply to it
}

func newNames(cfg *Config) *names {
	n := &names{}
	for i := 0; i < cfg.Clients; i++ {
		n.client = append(n.client, clientName(i))
		n.clientEP = append(n.clientEP, endpoint(clientName(i)))
	}
	for j := 0; j < cfg.Servers; j++ {
		n.server = append(n.server, serverName(j))
		n.serverEP = append(n.serverEP, endpoint(serverName(j)))
	}
	for k := 0; k < MaxRequests; k++ {
		n.request = append(n.request, app.Request(k))
		n.reply = append(n.reply, app.Reply(app.Request(k)))
	}
	return n
}

// of returns what a socket name or endpoint names: client i, 100+server
// j, or -1. The names are "c1".."c8", "s1".."s8" and their endpoints
// "tcp://c1:5454" and so on, so the digit says which one it must be and
// one comparison confirms it: the canonical key asks this for every peer
// of every pipe, where a map lookup cost a tenth of the exploration.
func (n *names) of(s string) int {
	var kind, digit byte
	switch {
	case len(s) == 2:
		kind, digit = s[0], s[1]
	case len(s) > 8 && s[:6] == "tcp://":
		kind, digit = s[6], s[7]
	default:
		return -1
	}
	i := int(digit) - '1'
	switch {
	case kind == 'c' && i >= 0 && i < len(n.client) && (same(s, n.client[i]) || same(s, n.clientEP[i])):
		return i
	case kind == 's' && i >= 0 && i < len(n.server) && (same(s, n.server[i]) || same(s, n.serverEP[i])):
		return 100 + i
	}
	return -1
}

// same is s == t, at once when they are one string: every name in the
// world is one of names' strings, which the explorer gave the model.
func same(s, t string) bool {
	return len(s) == len(t) && (unsafe.StringData(s) == unsafe.StringData(t) || s == t)
}

// clientOf returns the client a socket name or endpoint names, or -1.
func (n *names) clientOf(s string) int {
	if i := n.of(s); i >= 0 && i < 100 {
		return i
	}
	return -1
}

// serverOf returns the server a socket name or endpoint names, or -1.
func (n *names) serverOf(s string) int {
	if i := n.of(s); i >= 100 {
		return i - 100
	}
	return -1
}

// run is one transition in progress: the state it changes, the chooser
// that forces its choices, and, when asked, the trace it records.
type run struct {
	x    *Explorer
	st   *state
	ch   *forcer
	tr   *[]trace.Event
	step int
	bad  *violation
	eff  []model.Effect  // the world's effects, read by absorb
	log  *[]model.Effect // when not nil, every effect absorbed
}

func (r *run) fail(rule, fact, format string, args ...any) {
	if r.bad == nil {
		r.bad = &violation{Rule: rule, Fact: fact, Msg: fmt.Sprintf(format, args...)}
	}
}

func (r *run) record(e trace.Event) {
	if r.tr != nil {
		e.At = time.Duration(r.step) * time.Millisecond
		*r.tr = append(*r.tr, e)
	}
}

func (r *run) app(actor string, event model.EventKind, msg string, queue int) {
	if r.tr == nil {
		return
	}
	e := trace.Event{Actor: actor, Kind: event, Msg: msg, HasMsg: msg != ""}
	if queue >= 0 {
		e.Queue, e.HasQueue = queue, true
	}
	r.record(e)
}

// initial builds the configuration's start: servers up and bound (or
// connecting), clients connected to every server in order.
func (x *Explorer) initial() (*state, error) {
	cfg := &x.cfg
	st := &state{w: model.NewWorld(cfg.Profile, nil)}
	if err := st.w.Mutate(cfg.Mutation); err != nil {
		return nil, err
	}
	st.clients = make([]client, cfg.Clients)
	st.servers = make([]server, cfg.Servers)
	r := &run{x: x, st: st, ch: &forcer{}}
	st.w.SetChooser(r.ch)
	for i := range st.clients {
		st.clients[i] = client{lastSent: -1}
		_ = st.clients[i].q.Mutate(cfg.Mutation) // the world's Mutate has checked it
	}
	for j := range st.servers {
		st.servers[j] = server{lastRead: [8]int8{-1, -1, -1, -1, -1, -1, -1, -1}}
	}
	if cfg.ClientsBind {
		for i := range st.clients {
			if err := x.openClient(st, i); err != nil {
				return nil, err
			}
		}
		for j := range st.servers {
			if err := x.openServer(st, j); err != nil {
				return nil, err
			}
		}
	} else {
		for j := range st.servers {
			if err := x.openServer(st, j); err != nil {
				return nil, err
			}
		}
		for i := range st.clients {
			if err := x.openClient(st, i); err != nil {
				return nil, err
			}
		}
	}
	r.absorb()
	if len(r.ch.asked) > 0 {
		return nil, fmt.Errorf("check: the initial state asked for an open choice")
	}
	return st, nil
}

func (x *Explorer) openClient(st *state, i int) error {
	n := x.names
	if err := st.w.NewREQ(n.client[i], x.cfg.Options); err != nil {
		return err
	}
	if x.cfg.ClientsBind {
		return st.w.Bind(n.client[i], n.clientEP[i])
	}
	for j := range st.servers {
		if err := st.w.Connect(n.client[i], n.serverEP[j]); err != nil {
			return err
		}
	}
	return nil
}

func (x *Explorer) openServer(st *state, j int) error {
	n := x.names
	if err := st.w.NewREP(n.server[j], model.Options{}); err != nil {
		return err
	}
	st.servers[j].up, st.servers[j].holding = true, false
	if !x.cfg.ClientsBind {
		return st.w.Bind(n.server[j], n.serverEP[j])
	}
	for i := range st.clients {
		if err := st.w.Connect(n.server[j], n.clientEP[i]); err != nil {
			return err
		}
	}
	return nil
}

// appendState appends an exact encoding of st to b: its world's
// (model.World.AppendState) and its bookkeeping's. A level's states are
// kept so, a few hundred bytes each, and rebuilt one at a time into the
// expanding worker's own state (loadState).
func (st *state) appendState(b []byte) []byte {
	b = st.w.AppendState(b)
	b = append(b, byte(st.used.Crashes), byte(st.used.Restarts), byte(st.used.Cuts), byte(st.used.Disconnects))
	b = binary.AppendUvarint(b, st.cut)
	for i := range st.clients {
		c := &st.clients[i]
		for _, v := range [...]uint64{uint64(c.enq), uint64(c.handed), uint64(c.sinceRecv), uint64(c.lastSent + 1),
			c.answered, c.lost, c.crashLost, c.delivered, c.abandoned, uint64(c.retries), c.wired} {
			b = binary.AppendUvarint(b, v)
		}
		b = append(b, bit(c.awaiting))
		b = c.q.AppendState(b)
	}
	for j := range st.servers {
		v := &st.servers[j]
		b = append(b, bit(v.up)|bit(v.holding)<<1, byte(v.heldClient), byte(v.heldK))
		for _, r := range v.lastRead {
			b = append(b, byte(r))
		}
	}
	return b
}

func bit(b bool) byte {
	if b {
		return 1
	}
	return 0
}

// loadState rebuilds into st, and st's memory, the state that
// appendState encoded in data.
func (x *Explorer) loadState(st *state, data []byte) error {
	if st.mem == nil {
		st.mem = &model.Scratch{}
	}
	w, rest, err := st.mem.LoadState(data, x.like)
	if err != nil {
		return err
	}
	st.w = w
	if len(rest) < 4 {
		return errBadState
	}
	st.used = Faults{Crashes: int(rest[0]), Restarts: int(rest[1]), Cuts: int(rest[2]), Disconnects: int(rest[3])}
	d := rest[4:]
	next := func() uint64 {
		v, k := binary.Uvarint(d)
		if k <= 0 {
			err = errBadState
			return 0
		}
		d = d[k:]
		return v
	}
	st.cut = next()
	if len(st.clients) != x.cfg.Clients {
		st.clients = make([]client, x.cfg.Clients)
		st.servers = make([]server, x.cfg.Servers)
	}
	for i := range st.clients {
		c := &st.clients[i]
		c.enq, c.handed, c.sinceRecv, c.lastSent = int(next()), int(next()), int(next()), int(next())-1
		c.answered, c.lost, c.crashLost, c.delivered, c.abandoned = next(), next(), next(), next(), next()
		c.retries, c.wired = int(next()), next()
		if err != nil || len(d) == 0 {
			return errBadState
		}
		c.awaiting = d[0] != 0
		if d, err = c.q.LoadState(d[1:]); err != nil {
			return err
		}
	}
	for j := range st.servers {
		if len(d) < 3+8 {
			return errBadState
		}
		v := &st.servers[j]
		v.up, v.holding, v.heldClient, v.heldK = d[0]&1 != 0, d[0]&2 != 0, int(d[1]), int(d[2])
		for r := range v.lastRead {
			v.lastRead[r] = int8(d[3+r])
		}
		d = d[3+8:]
	}
	if err != nil || len(d) != 0 {
		return errBadState
	}
	return nil
}

var errBadState = errors.New("check: a stored state does not decode")

// bytes is the memory st holds, counted from capacities.
func (st *state) bytes() int {
	b := int(unsafe.Sizeof(*st)) + cap(st.clients)*int(unsafe.Sizeof(client{})) + cap(st.servers)*int(unsafe.Sizeof(server{}))
	for i := range st.clients {
		b += st.clients[i].q.Bytes() - int(unsafe.Sizeof(st.clients[i].q))
	}
	if st.mem != nil {
		b += st.mem.Bytes()
	}
	return b
}

// clone copies the state; the world's copy resolves choices with ch.
func (st *state) clone(ch model.Chooser) *state { return st.cloneInto(nil, ch) }

// cloneInto copies the state into the memory of dst, a state no longer
// in use (nil: new memory).
func (st *state) cloneInto(dst *state, ch model.Chooser) *state {
	if dst == nil {
		dst = &state{}
	}
	if dst.mem == nil || dst.mem == st.mem {
		dst.mem = &model.Scratch{}
	}
	dst.w = st.w.CloneInto(dst.mem, ch)
	dst.used, dst.cut = st.used, st.cut
	dst.clients = copyClients(dst.clients, st.clients)
	dst.servers = append(dst.servers[:0], st.servers...)
	return dst
}

// copyClients copies src into dst, each client's queue into the memory of
// the queue it replaces (a step writes to a queue's bytes, so copies must
// not share them); the client count never changes within a run.
func copyClients(dst, src []client) []client {
	if len(dst) != len(src) {
		dst = make([]client, len(src))
	}
	for i := range src {
		q := dst[i].q
		dst[i] = src[i]
		dst[i].q = src[i].q.CloneInto(&q)
	}
	return dst
}

// The kinds of step.
const (
	stepEnqueue    = iota // a client enqueues its next request (F24)
	stepServe             // a server reads a request (F14)
	stepReply             // a server answers the request it holds (F15)
	stepArrive            // the oldest message in flight on a connection direction arrives
	stepDial              // a dial attempt completes (refused, unreachable or connected)
	stepTimer             // a reconnect timer fires (F23)
	stepTimeout           // a Lazy Pirate client's timeout
	stepRestart           // a crashed server comes back
	stepHeal              // a cut link heals
	stepCrash             // fault: a server crashes (F19)
	stepCut               // fault: a link is cut
	stepDisconnect        // fault: a client disconnects from a server and connects again (F22)
)

var stepNames = [...]string{"enqueue", "serve", "reply", "arrive", "dial-done", "timer", "timeout", "restart", "heal", "crash", "cut", "disconnect"}

// action is one enabled step of a state, before its open choices.
type action struct {
	kind    int
	c, s    int
	conn    model.ConnID
	dir     model.Dir
	attempt model.AttemptID
	timer   model.TimerID
	// from and to name the sockets (or the socket and the endpoint) of
	// an arrival, a dial or a timer, for labels and for telling whether a
	// dial crosses a cut link.
	from, to string
}

// pending is the scratch memory actions lists the model's pending work
// in, so that listing the steps of a state does not allocate.
type pending struct {
	flights []model.Flight
	dials   []model.PendingDial
	timers  []model.PendingTimer
}

// fault says whether the step is a fault: liveness is judged on what
// happens once faults stop.
func (a action) fault() bool { return a.kind >= stepCrash }

// actions lists the steps enabled in st, in a fixed order.
func (x *Explorer) actions(st *state, out []action, p *pending) []action {
	cfg, n, w := &x.cfg, x.names, st.w
	if p == nil {
		p = &pending{}
	}
	for i := range st.clients {
		if st.clients[i].enq < cfg.Requests {
			out = append(out, action{kind: stepEnqueue, c: i})
		}
		if cfg.Pirate && st.clients[i].awaiting {
			out = append(out, action{kind: stepTimeout, c: i})
		}
	}
	for j := range st.servers {
		srv := &st.servers[j]
		switch {
		case srv.up && srv.holding:
			out = append(out, action{kind: stepReply, s: j})
		case srv.up && w.Readable(n.server[j]):
			out = append(out, action{kind: stepServe, s: j})
		}
	}
	p.flights = w.AppendInFlight(p.flights[:0])
	for _, f := range p.flights {
		out = append(out, action{kind: stepArrive, conn: f.Conn, dir: f.Dir, from: f.From, to: f.To})
	}
	p.dials = w.AppendPendingDials(p.dials[:0])
	for _, d := range p.dials {
		out = append(out, action{kind: stepDial, attempt: d.Attempt, from: d.From, to: d.Endpoint})
	}
	p.timers = w.AppendPendingTimers(p.timers[:0])
	for _, t := range p.timers {
		out = append(out, action{kind: stepTimer, timer: t.Timer, from: t.Owner, to: t.Endpoint})
	}
	for j := range st.servers {
		srv := &st.servers[j]
		if !srv.up && st.used.Restarts < cfg.Faults.Restarts {
			out = append(out, action{kind: stepRestart, s: j})
		}
		if srv.up && st.used.Crashes < cfg.Faults.Crashes {
			out = append(out, action{kind: stepCrash, s: j})
		}
	}
	for i := range st.clients {
		for j := range st.servers {
			bit := uint64(1) << (i*8 + j)
			if st.cut&bit != 0 {
				out = append(out, action{kind: stepHeal, c: i, s: j})
			} else if st.used.Cuts < cfg.Faults.Cuts {
				out = append(out, action{kind: stepCut, c: i, s: j})
			}
			if st.used.Disconnects < cfg.Faults.Disconnects {
				out = append(out, action{kind: stepDisconnect, c: i, s: j})
			}
		}
	}
	return out
}

func (x *Explorer) label(a action, choices []int) string {
	var b strings.Builder
	b.WriteString(stepNames[a.kind])
	switch a.kind {
	case stepEnqueue, stepTimeout:
		b.WriteString(" " + x.names.client[a.c])
	case stepServe, stepReply, stepRestart, stepCrash:
		b.WriteString(" " + x.names.server[a.s])
	case stepHeal, stepCut, stepDisconnect:
		b.WriteString(" " + x.names.client[a.c] + " " + x.names.server[a.s])
	default:
		b.WriteString(" " + a.from + "->" + a.to)
	}
	if len(choices) > 0 {
		fmt.Fprintf(&b, " choices=%v", choices)
	}
	return b.String()
}

// apply performs a on r's state, lets the clients react, and checks the
// invariants that concern what just happened.
func (r *run) apply(a action) {
	x, st, n, w := r.x, r.st, r.x.names, r.st.w
	switch a.kind {
	case stepEnqueue:
		c := &st.clients[a.c]
		k := c.enq
		c.enq++
		c.q.Enqueue(n.request[k])
		r.app(n.client[a.c], model.EventEnqueue, strconv.Itoa(k), c.q.Len())
	case stepServe:
		req, err := w.Recv(n.server[a.s])
		r.absorb()
		if err == nil {
			r.deliver(a.s, req)
		}
	case stepReply:
		srv := &st.servers[a.s]
		rep := n.reply[srv.heldK]
		if err := w.Send(n.server[a.s], rep); err != nil {
			r.fail("lockstep", "F2", "%s could not answer the request it holds: %v", n.server[a.s], err)
		}
		srv.holding = false
		r.app(n.server[a.s], model.EventReply, rep.Text(), -1)
		r.absorb()
	case stepArrive:
		w.Arrive(a.conn, a.dir)
	case stepDial:
		w.DialDone(a.attempt, !r.isCut(a.from, a.to))
	case stepTimer:
		w.TimerFired(a.timer)
	case stepTimeout:
		r.timeout(a.c)
	case stepRestart:
		st.used.Restarts++
		if err := x.openServer(st, a.s); err != nil {
			r.fail("harness", "", "restart %s: %v", n.server[a.s], err)
		}
		r.app(n.server[a.s], model.EventRestart, "", -1)
	case stepHeal:
		st.cut &^= 1 << (a.c*8 + a.s)
		r.app(n.client[a.c], model.EventHeal, "", -1)
	case stepCrash:
		st.used.Crashes++
		srv := &st.servers[a.s]
		r.app(n.server[a.s], model.EventCrash, "", -1)
		if srv.holding {
			// F19: the request a server holds when it dies is gone.
			c := &st.clients[srv.heldClient]
			c.lost |= 1 << srv.heldK
			c.crashLost |= 1 << srv.heldK
		}
		srv.up, srv.holding = false, false
		if err := w.Crash(n.server[a.s]); err != nil {
			r.fail("harness", "", "crash %s: %v", n.server[a.s], err)
		}
	case stepCut:
		st.used.Cuts++
		st.cut |= 1 << (a.c*8 + a.s)
		r.app(n.client[a.c], model.EventCut, "", -1)
		w.Cut(n.client[a.c], n.server[a.s])
	case stepDisconnect:
		st.used.Disconnects++
		if err := w.Disconnect(n.client[a.c], n.serverEP[a.s]); err == nil {
			r.absorb()
			_ = w.Connect(n.client[a.c], n.serverEP[a.s])
		}
	}
	r.absorb()
	r.react()
	r.checkState()
	if x.cfg.Pirate {
		// A Lazy Pirate's old socket may leave copies of a request in
		// servers' pipes that its new socket's resend matches byte for
		// byte (each socket's request ids start alike), so what is on
		// its way cannot be told apart across steps without growing the
		// state: its wire is checked within each step only.
		for i := range st.clients {
			st.clients[i].wired = 0
		}
	}
}

// isCut says whether a dial from one socket to an endpoint crosses a cut
// link.
func (r *run) isCut(from, ep string) bool {
	n := r.x.names
	i, j := n.clientOf(from), n.serverOf(ep)
	if i < 0 {
		i, j = n.clientOf(ep), n.serverOf(from)
	}
	return i >= 0 && j >= 0 && r.st.cut&(1<<(i*8+j)) != 0
}

// react is the clients' binding, as in the properties: take every reply
// that is there, then hand the queue to the socket while it is writable
// (F3, F24). A Lazy Pirate hands over one request at a time.
func (r *run) react() {
	st, n, w := r.st, r.x.names, r.st.w
	for progress := true; progress; {
		progress = false
		for i := range st.clients {
			c := &st.clients[i]
			name := n.client[i]
			for w.Readable(name) {
				rep, err := w.Recv(name)
				r.absorb()
				if err != nil {
					break
				}
				progress = true
				r.receive(i, rep)
			}
			for !(r.x.cfg.Pirate && c.awaiting) {
				m, ok := c.q.FlushOne(w, name)
				if !ok {
					break
				}
				c.handed++
				if r.x.cfg.Pirate {
					k, _ := strconv.Atoi(m.Text())
					c.awaiting, c.retries, c.lastSent = true, 0, k
				}
				progress = true
				r.absorb()
			}
		}
	}
}

// timeout is the Lazy Pirate's: close the REQ, open a new one, connect it
// to every server and resend, or abandon the request after Retries.
func (r *run) timeout(i int) {
	st, n, w := r.st, r.x.names, r.st.w
	c := &st.clients[i]
	name := n.client[i]
	r.app(name, "timeout", strconv.Itoa(c.lastSent), -1)
	if err := w.Close(name); err != nil {
		r.fail("harness", "", "close %s: %v", name, err)
		return
	}
	r.absorb()
	if err := r.x.openClient(st, i); err != nil {
		r.fail("harness", "", "reopen %s: %v", name, err)
		return
	}
	r.absorb()
	c.sinceRecv = 0 // a new socket: its lockstep starts afresh (F1)
	c.wired = 0     // and what it puts on the wire is its own
	if c.retries >= r.x.cfg.Retries {
		c.abandoned |= 1 << c.lastSent
		c.awaiting = false
		r.app(name, "abandon", strconv.Itoa(c.lastSent), -1)
		return
	}
	c.retries++
	if err := w.Send(name, n.request[c.lastSent]); err != nil {
		// F12: the new REQ queues on its pipes before any connection, so a
		// send can fail only with Immediate or a profile without pipes.
		r.app(name, model.EventError, "", -1)
	}
	r.absorb()
}

// absorb reads the model's observations: sends and losses go to the
// clients' bookkeeping, and everything to the trace when one is kept.
func (r *run) absorb() {
	r.eff = r.st.w.AppendReady(r.eff[:0])
	if r.log != nil {
		*r.log = append(*r.log, r.eff...)
	}
	for _, e := range r.eff {
		o, ok := e.(model.Observation)
		if !ok {
			if t, ok := e.(model.Transmit); ok {
				r.transmitted(t)
			}
			continue
		}
		if r.tr != nil {
			r.record(trace.FromObservation(0, o)) // record stamps the step
		}
		switch o.Kind {
		case model.EventSend:
			r.sent(o)
		case model.EventDrop:
			r.dropped(o)
		}
	}
}

// transmitted checks what a client's socket put on the wire: each
// request it sent goes on the wire once, as libzmq never resends (F19),
// so a request that is on the wire or in a server's pipe already, or
// that a server has read or that was lost, is not put there again by
// the same socket. A Lazy Pirate's resend is a new socket's send. This
// is what the properties' ledger sees of the wire; without it, a resend
// shows only once a server reads the request twice.
func (r *run) transmitted(t model.Transmit) {
	i := r.x.names.clientOf(t.From)
	if i < 0 {
		return
	}
	body, ok := t.Msg.Body()
	if !ok {
		return
	}
	k, ok := requestNumber(body.Text())
	if !ok {
		return
	}
	c := &r.st.clients[i]
	bit := uint64(1) << k
	switch {
	case c.wired&bit != 0:
		r.fail("duplicate", "F19", "%s put its request %d on the wire while a copy of it is still on its way: libzmq never resends", t.From, k)
	case !r.x.cfg.Pirate && (c.delivered|c.lost|c.answered)&bit != 0:
		r.fail("duplicate", "F19", "%s put its request %d on the wire again after it was read or lost: libzmq never resends", t.From, k)
	}
	c.wired |= bit
}

// requestNumber reads a request body or a reply to one.
func requestNumber(text string) (int, bool) {
	if rest, ok := strings.CutPrefix(text, `{"response":"`); ok {
		text, ok = strings.CutSuffix(rest, `"}`)
		if !ok {
			return 0, false
		}
	}
	k, err := strconv.Atoi(text)
	return k, err == nil && k >= 0 && k < MaxRequests
}

func (r *run) sent(o model.Observation) {
	i := r.x.names.clientOf(o.Actor)
	k, ok := requestNumber(o.Msg)
	if i < 0 || !ok {
		return
	}
	c := &r.st.clients[i]
	c.sinceRecv++
	c.lastSent = k
	if r.x.cfg.strict() && c.sinceRecv > 1 {
		r.fail("lockstep", "F1", "%s has %d requests outstanding; a strict REQ allows one", o.Actor, c.sinceRecv)
	}
}

// dropped attributes a reported loss to the client whose request it was.
func (r *run) dropped(o model.Observation) {
	n := r.x.names
	k, ok := requestNumber(o.Msg)
	if !ok {
		return
	}
	i := n.clientOf(o.Actor)
	if i < 0 {
		i = n.clientOf(o.Peer)
	}
	if i < 0 && o.Peer == "" {
		if j := n.serverOf(o.Actor); j >= 0 && r.st.servers[j].holding {
			i = r.st.servers[j].heldClient
		}
	}
	if i >= 0 {
		r.st.clients[i].lost |= 1 << k
		if !strings.HasPrefix(o.Msg, `{"response":`) {
			r.st.clients[i].wired &^= 1 << k // the request left the network
		}
	}
}

func (r *run) deliver(j int, req model.Message) {
	st, n, w := r.st, r.x.names, r.st.w
	i := n.clientOf(w.RequestFrom(n.server[j]))
	k, ok := requestNumber(req.Text())
	r.app(n.server[j], model.EventDeliver, req.Text(), -1)
	if i < 0 || !ok {
		r.fail("lockstep", "F5, F15", "%s read %q from %q, which no client sent", n.server[j], req.Text(), w.RequestFrom(n.server[j]))
		return
	}
	srv := &st.servers[j]
	srv.holding, srv.heldClient, srv.heldK = true, i, k
	c := &st.clients[i]
	if !r.x.cfg.Pirate {
		if c.crashLost&(1<<k) != 0 || c.lost&(1<<k) != 0 {
			r.fail("loss", "F19, F22", "%s read %s's request %d after it was lost: libzmq never resends", n.server[j], n.client[i], k)
		}
		if c.delivered&(1<<k) != 0 {
			r.fail("duplicate", "F15", "%s's request %d was read twice", n.client[i], k)
		}
		if prev := int(srv.lastRead[i]); k <= prev {
			r.fail("order", "F14", "%s read %s's request %d after %d: out of the order it was sent", n.server[j], n.client[i], k, prev)
		}
	}
	c.delivered |= 1 << k
	c.wired &^= 1 << k // the request left the network
	srv.lastRead[i] = int8(k)
}

func (r *run) receive(i int, rep model.Message) {
	cfg, c := &r.x.cfg, &r.st.clients[i]
	name := r.x.names.client[i]
	r.app(name, model.EventReceive, rep.Text(), c.q.Len())
	k, ok := requestNumber(rep.Text())
	if !ok {
		r.fail("lockstep", "F6, F15", "%s took %q, which answers no request", name, rep.Text())
		return
	}
	if (cfg.strict() || cfg.Options.ReqCorrelate || cfg.Pirate) && k != c.lastSent {
		r.fail("lockstep", "F7, F9", "%s took the reply to request %d, but its latest request is %d", name, k, c.lastSent)
	}
	if !cfg.Pirate && c.answered&(1<<k) != 0 {
		r.fail("duplicate", "F9", "%s took the reply to request %d twice", name, k)
	}
	if c.crashLost&(1<<k) != 0 && !cfg.Pirate {
		r.fail("loss", "F19", "%s took an answer to request %d, which a server held when it crashed", name, k)
	}
	c.answered |= 1 << k
	c.sinceRecv = 0
	if cfg.Pirate {
		c.awaiting = false
	}
}

// checkState checks the invariants that concern a state, not a step.
func (r *run) checkState() {
	cfg, n, w := &r.x.cfg, r.x.names, r.st.w
	if !cfg.Profile.NoPoller {
		// F1, F2, F3: what poll says agrees with the lockstep: a strict
		// REQ with its request outstanding cannot send, and a REP can
		// send exactly while it owes a reply.
		for i := range r.st.clients {
			if cfg.strict() && r.st.clients[i].sinceRecv > 0 && w.Writable(n.client[i]) {
				r.fail("poll", "F1, F3", "%s is writable while its request %d is outstanding", n.client[i], r.st.clients[i].lastSent)
			}
		}
		for j := range r.st.servers {
			srv := &r.st.servers[j]
			if owes := srv.up && srv.holding; !cfg.Profile.RepNotStrict && w.Writable(n.server[j]) != owes {
				r.fail("poll", "F2, F3", "%s is writable %v, but it owes a reply %v", n.server[j], !owes, owes)
			}
		}
	}
	for i := range r.st.clients {
		c := &r.st.clients[i]
		// F24: the queue holds exactly what was enqueued and not handed
		// to the socket; it never shrinks without a send.
		if got, want := c.q.Len(), c.enq-c.handed; got != want {
			r.fail("queue", "F24", "%s's queue holds %d messages, but %d were enqueued and not handed to the socket", r.x.names.client[i], got, want)
		}
	}
}

// stuck says whether client i is a strict REQ whose outstanding request
// was lost: it waits for ever, as F19 says, and its queue grows behind it.
func (x *Explorer) stuck(st *state, i int) bool {
	c := &st.clients[i]
	if x.cfg.Pirate || !x.cfg.strict() || c.lastSent < 0 || c.sinceRecv == 0 {
		return false
	}
	return c.lost&(1<<c.lastSent) != 0
}

// done says whether every request is settled: answered, abandoned by a
// Lazy Pirate, lost as the facts allow, or behind a client stuck by F19.
func (x *Explorer) done(st *state) bool {
	all := uint64(1)<<x.cfg.Requests - 1
	for i := range st.clients {
		c := &st.clients[i]
		if x.stuck(st, i) {
			continue
		}
		if c.enq < x.cfg.Requests || c.q.Len() > 0 {
			return false
		}
		if !x.cfg.Pirate && !x.cfg.strict() && c.sinceRecv == 0 && c.handed == x.cfg.Requests {
			continue // F20: a relaxed REQ's latest request is answered; the superseded need not be
		}
		settled := c.answered | c.abandoned
		if !x.cfg.Pirate {
			settled |= c.lost
		}
		if settled&all != all {
			return false
		}
	}
	return true
}
