package model

import "fmt"

// This file is zmq4's REQ connection list under
// Profile.SendPanicsPastLastConnection (zmq4 v0.17.0: req.go, reqWriter
// and reqReader; socket.go, connReaper; ZMQ4-FINDINGS H1).

// unnoticed says whether p stays in its socket's rotation once it has
// ended: zmq4's REQ reads only inside a receive, and only from the last
// send's connection, so it learns that a connection ended from an I/O
// error on it alone, and only then does its reaper remove it.
func (w *World) unnoticed(p *pipe) bool {
	return w.profile.SendPanicsPastLastConnection && p.owner.typ == REQ
}

// reqPipe picks the pipe a REQ's send goes out on, nil for none:
// nextWritable, or under Profile.SendPanicsPastLastConnection the walk of
// zmq4's reqWriter.write, which fails with ErrSendPanic when it runs past
// the end of the list.
func (w *World) reqPipe(s *socket, body Message) (*pipe, error) {
	if !w.profile.SendPanicsPastLastConnection {
		return w.nextWritable(s), nil
	}
	// reqWriter.write tries conns[i + nextConn%len] for i = 0..len-1: from
	// the turn to the end of the list, never round to its start. A write
	// to an ended connection fails and has the reaper remove it.
	// The turn is nextConn%len, and a write sets nextConn to cur + 1%len:
	// one past the index the write went to, in the list as it was (or
	// the same index in a list of one); the reaper's removals leave it
	// alone (reqWriter.rmConn), so it is taken modulo the shorter list
	// next time, and may skip a connection.
	n := len(s.pipes)
	turn := 0
	if n > 0 {
		turn = s.sendRR % n
	}
	var p *pipe
	var failed []*pipe
	for k := turn; k < n; k++ {
		q := s.pipes[k]
		if w.canTake(q) {
			p = q
			s.sendRR = k + 1%n
			break
		}
		if q.terminated {
			failed = append(failed, q)
		}
	}
	for _, q := range failed {
		w.reap(s, q)
	}
	if p == nil && turn > 0 {
		// The next index is len: zmq4 panics in the application's Send
		// (recovered by the caller) and sends nothing.
		w.observeMsg(EventPanic, s.name, "", body.Text(), fmt.Sprintf("send: %v [%d] with length %d", ErrSendPanic, n, n))
		return nil, ErrSendPanic
	}
	return p, nil
}

// nextConnKept says whether s's sendRR is zmq4's reqWriter.nextConn,
// which only a write sets: the list's changes leave it as it is.
func (w *World) nextConnKept(s *socket) bool {
	return w.profile.SendPanicsPastLastConnection && s.typ == REQ
}

// reap is zmq4's connReaper removing p, ended, from its REQ: replies
// still unread on it are lost, and if it was the last send's connection
// the REQ forgets it (reqState.Reset), with the EOF it would have read.
func (w *World) reap(s *socket, p *pipe) {
	for _, m := range p.in {
		w.observeMsg(EventDrop, s.name, p.peer, bodyText(m), "unread on a connection zmq4 reaped")
	}
	p.in = nil
	w.detach(p)
	if s.replyPipe == p {
		s.replyPipe, s.peerGone = nil, false
	}
}

// eofUnread says whether a pipe of s holds an EOF for a receive
// (Profile.DealerReadsEOF).
func (w *World) eofUnread(s *socket) bool {
	for _, p := range s.pipes {
		if p.eof {
			return true
		}
	}
	return false
}

// dealerSendToEvery is a DEALER's send under Profile.DealerSendsToEvery
// (zmq4's mwriter.write): a copy to every connection; none blocks until
// the socket's first connection, and after it the message goes nowhere.
func (w *World) dealerSendToEvery(s *socket, body Message) error {
	if !s.attached {
		return ErrAgain
	}
	sent := false
	for _, p := range s.pipes {
		if w.canTake(p) {
			w.put(p, body.clone())
			sent = true
		}
	}
	if !sent {
		w.observeMsg(EventDrop, s.name, "", body.Text(), "sent to no connection")
	}
	return nil
}
