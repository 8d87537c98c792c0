package model

import (
	"encoding/binary"
	"fmt"
)

// Send is zmq_send of one whole message with ZMQ_DONTWAIT: it never blocks,
// and ErrAgain says that a blocking send would wait. For REQ and REP, body is
// the application payload; the socket adds the envelope.
func (w *World) Send(name string, body Message) error {
	s, err := w.lookup(name)
	if err != nil {
		return err
	}
	switch s.typ {
	case REQ:
		return w.reqSend(s, body)
	case REP:
		return w.repSend(s, body)
	default:
		if s.typ == DEALER && w.profile.DealerSendsToEvery {
			return w.dealerSendToEvery(s, body)
		}
		p := w.nextWritable(s)
		if p == nil {
			return ErrAgain
		}
		w.put(p, body.clone())
		return nil
	}
}

// Recv is zmq_recv of one whole message with ZMQ_DONTWAIT. For REQ and REP it
// returns the body without the envelope.
func (w *World) Recv(name string) (Message, error) {
	s, err := w.lookup(name)
	if err != nil {
		return nil, err
	}
	switch s.typ {
	case REQ:
		return w.reqRecv(s)
	case REP:
		return w.repRecv(s)
	default:
		p := w.nextReadable(s)
		if p == nil {
			return nil, ErrAgain
		}
		if len(p.in) == 0 && p.eof {
			p.eof = false // Profile.DealerReadsEOF
			w.detach(p)
			return nil, ErrPeerGone
		}
		return w.take(p), nil
	}
}

// Writable is ZMQ_POLLOUT (F3): a send would not fail with EFSM or EAGAIN.
func (w *World) Writable(name string) bool {
	s := w.socket(name)
	if s == nil {
		return false
	}
	switch s.typ {
	case REQ:
		if w.profile.NoPoller {
			// F3 does not apply: the application keeps lockstep itself,
			// and a send without a pipe fails rather than blocks (F11).
			return !s.receivingReply && (w.anyWritable(s) || w.profile.SendFailsWithoutPipe)
		}
		if s.receivingReply && !w.relaxed(s) && !(teeth && w.mut().SecondSend) {
			return false
		}
		return w.anyWritable(s)
	case REP:
		if w.profile.RepNotStrict {
			return s.envPipe != nil // departs from F2: any reply after the first request
		}
		return s.sendingReply
	default:
		return w.anyWritable(s)
	}
}

// Readable is ZMQ_POLLIN (F3). Like libzmq, a REQ that awaits a reply is
// readable when any pipe holds a message, even one that Recv will discard
// as stray (F9); Recv then says ErrAgain.
func (w *World) Readable(name string) bool {
	s := w.socket(name)
	if s == nil {
		return false
	}
	switch s.typ {
	case REQ:
		if w.profile.StaleRepliesKept {
			// Departs from F9: only the last send's pipe is read, and a
			// receive takes what is there whether a reply is awaited or
			// not (reqRecvLast), as zmq4's does (found by
			// TestModelAgreesWithZMQ4's wait); the EOF of a lost peer
			// (F19's departure) is what a receive awaits only while a
			// reply is awaited.
			return s.replyPipe != nil && len(s.replyPipe.in) > 0 || s.receivingReply && s.peerGone
		}
		return s.receivingReply && w.anyIn(s)
	case REP:
		if w.profile.NoPoller {
			return w.anyIn(s) // F3 does not apply; departs from F2
		}
		return !s.sendingReply && (s.prefetch != nil || w.anyIn(s))
	default:
		return w.anyIn(s) || w.eofUnread(s)
	}
}

func (w *World) relaxed(s *socket) bool { return s.opts.ReqRelaxed || w.profile.ReqNotStrict }

func (w *World) anyIn(s *socket) bool {
	for _, p := range s.pipes {
		if len(p.in) > 0 {
			return true
		}
	}
	return false
}

// nextWritable is libzmq's lb_t::sendpipe up to the write: the pipe the
// rotation is at, after moving past those that are destroyed or at their
// SNDHWM (F8, F18).
func (w *World) nextWritable(s *socket) *pipe {
	if w.profile.AttachOrderRotation {
		return w.nextWritableInAttachOrder(s)
	}
	r := &s.lb
	for r.active > 0 {
		if p := r.pipes[r.current]; w.canTake(p) {
			return p
		}
		r.deactivateCurrent()
	}
	return nil
}

// canTake says whether a send could queue a message on p now: the pipe
// is not at its SNDHWM as its writer counts, which includes what the
// engine took but has not yet told of (pipe.cpp, check_hwm; F18).
func (w *World) canTake(p *pipe) bool {
	return !p.terminated && !outFull(p)
}

// outFull is pipe_t::check_hwm on the socket's side of p.
func outFull(p *pipe) bool { return len(p.out)+p.outLag+p.outMail >= p.owner.opts.sndHWM() }

// commands is the socket taking the commands in its mailbox: a REP learns
// of the reads its pipes' engines told it of, and of the pipes that woke
// (pipe.outMail, pipe.woke).
func (w *World) commands(s *socket) {
	for _, p := range s.fq.pipes {
		p.woke = false
	}
	for _, p := range s.pipes {
		p.outMail, p.woke = 0, false
	}
	if s.ackPipe != nil && s.ackBack {
		// F10: the term ack of the reply pipe: any pipe may answer now.
		if s.replyPipe == s.ackPipe {
			s.replyPipe = nil
		}
		s.ackPipe, s.ackBack = nil, false
	}
}

// callEnded is the end of a call of REQ s: a term ack it sent comes back
// after it (commands).
func (w *World) callEnded(s *socket) {
	if s.ackPipe != nil {
		s.ackBack = true
	}
}

// readsWithoutCommands says whether libzmq's REP or REQ s finds a message
// before it takes its commands: a pipe active in its fair queue holds one
// (pipe.woke).
func (w *World) readsWithoutCommands(s *socket) bool {
	if w.profile.AttachOrderRotation {
		return w.anyIn(s)
	}
	for _, p := range s.fq.pipes[:s.fq.active] {
		if len(p.in) > 0 && !p.woke {
			return true
		}
	}
	return false
}

// Poll is ZMQ_EVENTS on the named socket: like libzmq's, it takes the
// socket's commands before it answers (socket_base.cpp, getsockopt), so
// a REP that polls learns of the room in its pipes (F17). Readable and
// Writable answer the same without taking them.
//
// libzmq's ZMQ_EVENTS also asks the fair queue whether a message is there
// (fq.cpp, has_in), which moves past the empty pipes as a receive does
// (F14), and the load balancer whether a pipe has room (lb.cpp, has_out),
// which moves past the pipes that cannot take one as a send does (F8); a
// REP, a router_t inside, reads the message it finds ahead of the receive
// (router.cpp, xhas_in), so the poll fixes which request the receive
// returns. Readable and Writable change nothing.
func (w *World) Poll(name string) (readable, writable bool) {
	if s := w.socket(name); s != nil {
		w.commands(s)
		defer w.callEnded(s)
		if !w.profile.AttachOrderRotation && !w.profile.RepArrivalOrder {
			switch {
			case s.typ == REP && !s.sendingReply && s.prefetch == nil:
				if p := w.nextReadable(s); p != nil {
					s.prefetch, s.prefetchPipe = w.take(p), p
				}
			case s.typ == DEALER || s.typ == REQ && s.receivingReply:
				r := &s.fq
				for r.active > 0 && len(r.pipes[r.current].in) == 0 {
					w.passEmpty(s)
				}
			}
			if s.typ == DEALER || s.typ == REQ && !(s.receivingReply && !w.relaxed(s)) {
				// lb.cpp has_out moves past the pipes that cannot take a
				// message, as a send does (F8; probed: a poll between
				// two pipes' ends and the send changes which peer gets it).
				w.nextWritable(s)
			}
		}
	}
	return w.Readable(name), w.Writable(name)
}

// anyWritable is nextWritable without its effect on the rotation, for
// polling: every pipe that can take a message is active, since the model
// activates a pipe when it gets room.
func (w *World) anyWritable(s *socket) bool {
	if w.profile.AttachOrderRotation {
		return w.nextWritableInAttachOrder(s) != nil
	}
	for _, p := range s.lb.pipes[:s.lb.active] {
		if w.canTake(p) {
			return true
		}
	}
	return false
}

// nextWritableInAttachOrder is nextWritable under
// Profile.AttachOrderRotation: the next pipe in attach order, from the
// rotation point, that can take a message (departs from F8).
func (w *World) nextWritableInAttachOrder(s *socket) *pipe {
	n := len(s.pipes)
	for i := 0; i < n; i++ {
		p := s.pipes[(s.sendRR+i)%n]
		if w.canTake(p) {
			return p
		}
	}
	return nil
}

// put queues a whole message on p, the pipe nextWritable returned, and
// advances the rotation past it: the rotation moves once per message (F8).
func (w *World) put(p *pipe, m Message) {
	s := p.owner
	if w.profile.AttachOrderRotation && !w.nextConnKept(s) {
		for i, q := range s.pipes {
			if q == p {
				s.sendRR = (i + 1) % len(s.pipes)
			}
		}
	} else {
		s.lb.advance()
	}
	p.out = append(p.out, m)
	if p.conn != nil {
		w.pump(p.conn)
	}
}

// roomMade tells p's socket that p can take a message again, as libzmq's
// activate_write command does once the engine has read from a full pipe.
func (w *World) roomMade(p *pipe) {
	if s := p.owner; s.typ != REP && !p.terminated && !w.profile.AttachOrderRotation {
		s.lb.activate(p)
	}
}

// arrived tells p's socket that p holds a message, as libzmq's
// activate_read command does for a pipe its fq_t found empty (F14).
func (w *World) arrived(p *pipe) {
	s := p.owner
	if s.typ == REP && w.profile.RepArrivalOrder {
		s.arrivals = append(s.arrivals, p) // departs from F14
	}
	if !w.profile.AttachOrderRotation {
		if (s.typ == REP || s.typ == REQ) && s.fq.index(p) >= s.fq.active {
			p.woke = true
		}
		s.fq.activate(p)
	}
}

// nextReadable is libzmq's fq_t::recvpipe up to the read: the rotation
// moves past the empty pipes it meets, each of which becomes inactive,
// and stops at the first pipe that holds a message. Which ready pipe is
// read is an open choice whose candidates are the ready pipes from there
// on in the rotation's order; 0 is libzmq's (F14). The rotation then moves
// past the pipe read.
func (w *World) nextReadable(s *socket) *pipe {
	for s.typ == REP && w.profile.RepArrivalOrder && len(s.arrivals) > 0 {
		// Departs from F14: first come, first served across pipes.
		p := s.arrivals[0]
		s.arrivals = s.arrivals[1:]
		if len(p.in) > 0 {
			return p
		}
	}
	if w.profile.AttachOrderRotation {
		return w.nextReadableInAttachOrder(s)
	}
	r := &s.fq
	for r.active > 0 && len(r.pipes[r.current].in) == 0 {
		w.passEmpty(s)
	}
	if r.active == 0 {
		return nil
	}
	ready := 0
	for _, p := range r.pipes[:r.active] {
		if len(p.in) > 0 {
			ready++
		}
	}
	if ready > 1 {
		// The candidates, libzmq's first: the ready pipes from the
		// rotation point on.
		var buf [8]int
		cand := buf[:0]
		for i := 0; i < r.active; i++ {
			if j := (r.current + i) % r.active; len(r.pipes[j].in) > 0 {
				cand = append(cand, j)
			}
		}
		var k int
		if _, ok := w.chooser.(PeerChooser); ok {
			pipes := make([]*pipe, len(cand))
			for i, j := range cand {
				pipes[i] = r.pipes[j]
			}
			k = w.choosePipe(ChoiceFairQueue, pipes)
		} else {
			k = w.choose(ChoiceFairQueue, ready)
		}
		r.current = cand[k]
	}
	p := r.pipes[r.current]
	r.advance()
	return p
}

// passEmpty is what a receive does with the empty pipe at the rotation
// point: it leaves the active part; a detached one, whose delimiter the
// receive has just read, leaves both rotations (fq_t::recvpipe, then
// xpipe_terminated: fq_t and lb_t pipe_terminated).
func (w *World) passEmpty(s *socket) {
	p := s.fq.pipes[s.fq.current]
	s.fq.deactivateCurrent()
	if p.detached {
		s.fq.terminated(p)
		s.lb.terminated(p)
		if s.typ == REQ && s.replyPipe == p {
			s.ackPipe, s.ackBack = p, false // F10, see commands
		}
	}
}

// drain is fq_t::recv in a loop until it finds nothing, without choices:
// what libzmq's REQ does to the replies still queued when it sends a new
// request (F9). Every pipe ends up inactive.
func (w *World) drain(s *socket, f func(*pipe, Message)) {
	r := &s.fq
	for r.active > 0 {
		p := r.pipes[r.current]
		if len(p.in) == 0 {
			w.passEmpty(s)
			continue
		}
		r.advance()
		f(p, w.take(p))
	}
}

// nextReadableInAttachOrder is nextReadable under
// Profile.AttachOrderRotation: among pipes holding a message, listed in
// attach order from the last one read, the chooser picks (departs from
// F14).
func (w *World) nextReadableInAttachOrder(s *socket) *pipe {
	n := len(s.pipes)
	var ready []*pipe
	for i := 0; i < n; i++ {
		if p := s.pipes[(s.recvRR+i)%n]; len(p.in) > 0 || p.eof {
			ready = append(ready, p)
		}
	}
	if len(ready) == 0 {
		return nil
	}
	p := ready[w.choose(ChoiceFairQueue, len(ready))]
	for i, q := range s.pipes {
		if q == p {
			s.recvRR = (i + 1) % n
		}
	}
	return p
}

// take reads the oldest message of p, lets its engine refill once the
// read is told (roomIn), and detaches a destroyed pipe once it is drained.
func (w *World) take(p *pipe) Message {
	var m Message
	m, p.in = popFront(p.in)
	w.taken(p)
	return m
}

// takeNewest is take's mutant twin: it reads the newest message of p.
func (w *World) takeNewest(p *pipe) Message {
	last := len(p.in) - 1
	m := p.in[last]
	p.in = p.in[:last]
	w.taken(p)
	return m
}

// taken is what follows a read from p.
func (w *World) taken(p *pipe) {
	w.roomIn(p)
	if p.terminated && len(p.in) == 0 && !p.detached && !w.unnoticed(p) && !p.eof {
		w.detach(p)
	}
}

// reqSend is req_t::xsend.
func (w *World) reqSend(s *socket, body Message) error {
	w.commands(s) // zmq_send takes them first (socket_base.cpp, send)
	defer w.callEnded(s)
	if s.receivingReply && !w.relaxed(s) && !(teeth && w.mut().SecondSend) {
		return ErrFSM // F1: strict lockstep
	}
	p, err := w.reqPipe(s, body)
	if err != nil {
		return err // zmq4's panic (Profile.SendPanicsPastLastConnection)
	}
	if p == nil && w.profile.SendFailsWithoutPipe {
		// Departs from F11: the send fails at once; drivers that ignore
		// the error (an application queue) still see it in the trace.
		w.observeMsg(EventError, s.name, "", body.Text(), "send: "+ErrNoConnection.Error())
		// zmq4 reports a lost peer's EOF to the first receive only; a send
		// that found no connection has already learned of the loss, and a
		// receive after it fails for want of a connection (found by
		// TestModelAgreesWithZMQ4).
		s.peerGone = false
		// The failed send has zmq4 reap the dead connections, and with
		// them any replies still unread on them.
		for _, q := range append([]*pipe(nil), s.pipes...) {
			if !q.terminated {
				continue
			}
			for _, m := range q.in {
				w.observeMsg(EventDrop, s.name, q.peer, bodyText(m), "unread on a connection zmq4 reaped")
			}
			q.in = nil
			w.detach(q)
		}
		return ErrNoConnection
	}
	if s.opts.ReqCorrelate {
		// F7: a 4-byte id, +1 per request, from a random start, in native
		// (here little-endian) byte order. libzmq counts the id before it
		// looks for a pipe, so a send that blocks uses one up (req.cpp,
		// xsend; F20).
		if !s.idStarted {
			s.requestID = uint32(w.choose(ChoiceRequestID, 1<<31))
			s.idStarted = true
		}
		s.requestID++
	}
	if p == nil {
		if s.receivingReply {
			// F20: a relaxed REQ gives the outstanding request up before
			// it looks for a pipe (req.cpp, xsend), so a send that blocks
			// leaves none: a receive then fails with EFSM. Found by
			// TestModelAgreesWithLibzmqFaults.
			s.receivingReply, s.replyPipe = false, nil
			s.request, s.requestMsg = nil, nil
		}
		return ErrAgain // F11, F13, F18
	}
	m := make(Message, 0, len(body)+2)
	if s.opts.ReqCorrelate {
		var id [4]byte
		binary.LittleEndian.PutUint32(id[:], s.requestID)
		m = append(m, string(id[:]))
	}
	m = append(m, Delimiter) // F4
	m = append(m, body...)
	// libzmq has written the request's first frame before it drains, so
	// the request is outstanding on p meanwhile: a pipe the drain ends is
	// the request's (F10), and the trace shows the send first.
	s.receivingReply, s.replyPipe = true, p
	w.observeMsg(EventSend, s.name, p.peer, body.Text(), "")
	// F9: replies already queued belong to earlier requests; libzmq eats
	// them before the new request is fully sent (req.cpp, xsend).
	switch {
	case w.profile.StaleRepliesKept:
	case w.profile.AttachOrderRotation:
		// (The copy of the pipe list, which take may shorten, is made
		// only when there is something to discard.)
		if w.anyIn(s) {
			for _, q := range append([]*pipe(nil), s.pipes...) {
				for len(q.in) > 0 {
					w.observeMsg(EventDrop, s.name, q.peer, bodyText(w.take(q)), "stale reply discarded by new request")
				}
			}
		}
	default:
		// The engines refill the pipes the drain made room in after it,
		// on libzmq's I/O thread (roomIn).
		w.holdRefills = true
		w.drain(s, func(q *pipe, m Message) {
			w.observeMsg(EventDrop, s.name, q.peer, bodyText(m), "stale reply discarded by new request")
		})
	}
	s.peerGone = false
	// Messages are never changed in place once queued, so the request
	// can share the frames just built for the wire; the full slice
	// expression keeps an append on it from reaching them.
	s.request = m[len(m)-len(body) : len(m) : len(m)]
	s.requestMsg = m
	// The engines' commands for the room the drain made come before the
	// one for the request.
	w.releaseRefills()
	if p.terminated {
		// A refill found a reply that ends p's connection (F6, deliver):
		// libzmq wrote the request into the pipe, which it then destroys
		// with it (F22).
		w.observeMsg(EventDrop, s.name, p.peer, body.Text(), "pipe destroyed: "+reasonProtocolError)
		return nil
	}
	w.put(p, m)
	return nil
}

// reqRecv is req_t::xrecv: only a reply from the request's pipe, carrying
// the request's id under ReqCorrelate, is taken; others are skipped (F6, F7,
// F9, F10).
func (w *World) reqRecv(s *socket) (Message, error) {
	if w.profile.StaleRepliesKept {
		return w.reqRecvLast(s)
	}
	if !s.receivingReply {
		return nil, ErrFSM // F1: no request outstanding
	}
	defer w.callEnded(s)
	if !w.readsWithoutCommands(s) {
		// zmq_recv finds nothing, takes its commands and tries again
		// (socket_base.cpp, recv).
		w.commands(s)
	}
	for {
		p := w.nextReadable(s)
		if p == nil {
			return nil, ErrAgain
		}
		m := w.take(p)
		if s.replyPipe != nil && p != s.replyPipe && !(teeth && w.mut().AnyReplyPipe) {
			w.observeMsg(EventDrop, s.name, p.peer, bodyText(m), "reply from another pipe")
			continue
		}
		if s.opts.ReqCorrelate {
			if len(m) < 1 || len(m[0]) != 4 || binary.LittleEndian.Uint32([]byte(m[0])) != s.requestID && !(teeth && w.mut().AcceptAnyID) {
				w.observeMsg(EventDrop, s.name, p.peer, bodyText(m), "reply with another request id")
				continue
			}
			m = m[1:]
		}
		if len(m) < 1 || m[0] != Delimiter {
			w.observeMsg(EventDrop, s.name, p.peer, m.Text(), "reply without delimiter")
			continue
		}
		s.receivingReply = false
		s.replyPipe = nil
		s.request, s.requestMsg = nil, nil
		// The reply left every queue when it was taken, so the caller may
		// have its frames.
		return m[1:len(m):len(m)], nil
	}
}

// reqRecvLast is reqRecv under Profile.StaleRepliesKept (zmq4's reqReader):
// read the next message of the last send's pipe, whatever request it
// answers (departs from F1, F9), fail with ErrPeerGone once that pipe has
// ended and is drained (Profile.RecvEOFOnPeerLoss, departs from F19), and
// take any reply shape (Profile.ReplyUnchecked, departs from F6).
func (w *World) reqRecvLast(s *socket) (Message, error) {
	p := s.replyPipe
	switch {
	case p != nil && len(p.in) > 0:
	case s.peerGone:
		if p != nil && w.unnoticed(p) {
			w.reap(s, p) // the receive read the EOF
		}
		s.receivingReply, s.peerGone, s.replyPipe = false, false, nil
		s.request, s.requestMsg = nil, nil
		return nil, ErrPeerGone
	case p == nil && w.profile.SendFailsWithoutPipe:
		return nil, ErrNoConnection
	case !s.receivingReply && !w.profile.ReqNotStrict:
		return nil, ErrFSM
	default:
		return nil, ErrAgain
	}
	m := w.take(p)
	if w.profile.ReplyUnchecked {
		if len(m) > 1 {
			m = m[1:] // the first frame goes, delimiter or not (F6)
		}
	} else if len(m) < 1 || m[0] != Delimiter {
		w.observeMsg(EventDrop, s.name, p.peer, m.Text(), "reply without delimiter")
		return nil, ErrAgain
	} else {
		m = m[1:]
	}
	s.receivingReply = false
	s.request, s.requestMsg = nil, nil
	return m.clone(), nil
}

// repRecv is rep_t::xrecv: read one request fair-queued, keep its envelope
// for the reply (F5, F14).
func (w *World) repRecv(s *socket) (Message, error) {
	if s.sendingReply && !w.profile.RepNotStrict {
		return nil, ErrFSM // F2: a reply is owed
	}
	if s.prefetch == nil && !w.readsWithoutCommands(s) {
		// zmq_recv finds nothing, takes its commands and tries again
		// (socket_base.cpp, recv).
		w.commands(s)
	}
	for {
		var p *pipe
		var m Message
		switch {
		case s.prefetch != nil:
			p, m = s.prefetchPipe, s.prefetch // read ahead by a poll
			s.prefetch, s.prefetchPipe = nil, nil
		default:
			if p = w.nextReadable(s); p == nil {
				return nil, ErrAgain
			}
			if teeth && w.mut().ReorderRequests {
				m = w.takeNewest(p)
			} else {
				m = w.take(p)
			}
		}
		i, body := -1, -1 // the delimiter, and where the body starts
		for j, f := range m {
			// F5: the delimiter is the first empty frame that has more
			// frames after it (rep.cpp checks msg_t::more); a trailing
			// empty frame would leave no body, which no message can be.
			if f == Delimiter && j < len(m)-1 && !w.profile.EnvelopeAtLastDelimiter {
				i, body = j, j+1
				break
			}
			// zmq4's splitReq departs: the envelope ends at the last empty
			// frame, trailing or not, and the body is what follows the
			// last empty frame that has frames after it, or nothing.
			if f == Delimiter && w.profile.EnvelopeAtLastDelimiter {
				i = j
				if j < len(m)-1 {
					body = j + 1
				}
			}
		}
		if i < 0 && w.profile.InvalidRequestError {
			// Departs from F5: the receive fails; the envelope stays.
			w.observeMsg(EventDrop, s.name, p.peer, m.Text(), "request without delimiter")
			return nil, ErrInvalidMessage
		}
		if i < 0 {
			// F5: a request without a delimiter is dropped silently.
			w.observeMsg(EventDrop, s.name, p.peer, m.Text(), "request without delimiter")
			continue
		}
		s.sendingReply = true
		s.envelope = m[:i:i] // see reqSend: queued messages are never changed
		s.envPipe = p
		s.replyFull = outFull(p)
		s.held = Message{}
		if body >= 0 {
			s.held = m[body:len(m):len(m)]
		}
		return s.held.clone(), nil
	}
}

// repSend is rep_t::xsend: the stored envelope goes back in front of the
// reply, to the pipe the request came from (F15). REP never blocks: a reply
// to a gone client or a full pipe is dropped and the send succeeds (F16, F17).
func (w *World) repSend(s *socket, body Message) error {
	if !s.sendingReply && w.profile.RepNotStrict && s.envPipe == nil {
		// Departs from F2: no request read yet, so the reply is dropped.
		w.observeMsg(EventDrop, s.name, "", body.Text(), "no request read yet")
		return nil
	}
	if !s.sendingReply && !w.profile.RepNotStrict {
		return ErrFSM // F2
	}
	p := s.envPipe
	m := make(Message, 0, len(s.envelope)+1+len(body))
	m = append(append(append(m, s.envelope...), Delimiter), body...)
	s.sendingReply, s.held = false, nil
	if !w.profile.RepNotStrict {
		s.envelope, s.envPipe = nil, nil
	} // else departs from F2: a second send goes to the same requester
	full := s.replyFull || w.profile.RepNotStrict && outFull(p)
	s.replyFull = false
	w.commands(s) // zmq_send takes them first, but the drop was decided at the receive
	switch {
	case full:
		w.observeMsg(EventDrop, s.name, p.peer, body.Text(), "pipe to client full")
	case p.terminated:
		w.observeMsg(EventDrop, s.name, p.peer, body.Text(), "client gone")
	default:
		p.out = append(p.out, m)
		if p.conn != nil {
			w.pump(p.conn)
		}
	}
	return nil
}

// SocketState is a snapshot of one socket for tests and traces.
type SocketState struct {
	Type SocketType
	// AwaitingReply: a REQ has a request outstanding. OwesReply: a REP has
	// read a request and not yet answered it.
	AwaitingReply, OwesReply bool
	// Request is a REQ's outstanding request; Held a REP's unanswered one.
	Request, Held Message
	// ReadAhead: a REP's poll read a request ahead of the receive, which
	// returns it (router.cpp, xhas_in; see World.Poll); it is on no pipe.
	ReadAhead bool
	Pipes     []PipeState
}

// PipeState is a snapshot of one pipe.
type PipeState struct {
	Peer      string
	Out, In   int
	Connected bool
	Destroyed bool
	// Stalled: the pipe's connection is up, but the handshake stalled on
	// this side: the next message from the peer ends it, and a read that
	// makes room in the pipe is where libzmq 4.3.4 aborts (F21,
	// AbortStalledRead).
	Stalled bool
	// Waiting counts the messages for this pipe that have reached its
	// engine and wait there for room (F18).
	Waiting int
	// Ended: the pipe's connection has ended, but its engine still
	// pushes what had reached it before it sees the end (F22): its pipe
	// counts as connected until then, and its engine takes nothing more
	// to send.
	Ended bool
}

// State returns a snapshot of the named socket.
func (w *World) State(name string) (SocketState, error) {
	s, err := w.lookup(name)
	if err != nil {
		return SocketState{}, err
	}
	st := SocketState{Type: s.typ, AwaitingReply: s.receivingReply, OwesReply: s.sendingReply,
		Request: s.request.clone(), Held: s.held.clone(), ReadAhead: s.prefetch != nil}
	for _, p := range s.pipes {
		ps := PipeState{Peer: p.peer, Out: len(p.out), In: len(p.in), Connected: p.conn != nil, Destroyed: p.terminated}
		if k := p.conn; k != nil {
			in := ToBinder // the direction that enters p
			if k.pipes[ToBinder] == p {
				in = ToConnecter
			}
			ps.Stalled = k.stalled && in == ToConnecter
			ps.Waiting = k.landed[in]
			ps.Ended = k.ended
		}
		st.Pipes = append(st.Pipes, ps)
	}
	return st, nil
}

// String summarises the world for debugging.
func (w *World) String() string {
	return fmt.Sprintf("world(%d sockets, %d connections)", len(w.sockets), len(w.live))
}
