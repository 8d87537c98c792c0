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
	n, turn := len(s.pipes), s.sendRR
	var p *pipe
	var failed []*pipe
	for _, q := range s.pipes[turn:] {
		if w.canTake(q) {
			p = q
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
