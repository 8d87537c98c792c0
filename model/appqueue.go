package model

// AppQueue is the queue that the scenario's Node.js binding keeps in front
// of a REQ socket (F24): the application's send appends to it, and the head
// is handed to the socket whenever the socket is writable (F3). It, not
// libzmq, is what grows without bound while no reply comes; its length is
// what the blog's client prints as "N message queued".
//
//	var q model.AppQueue
//	q.Enqueue(model.Message{"7"})
//	sent := q.Flush(w, "client") // the messages the socket took
type AppQueue struct {
	items []Message
	// DropAbove, when positive, makes the queue drop messages once it holds
	// that many. The real binding never does; this exists so that property
	// tests can check that they notice a queue that loses messages.
	DropAbove int
}

// Enqueue appends m and reports whether it was kept.
func (q *AppQueue) Enqueue(m Message) bool {
	if q.DropAbove > 0 && len(q.items) >= q.DropAbove {
		return false
	}
	q.items = append(q.items, m.clone())
	return true
}

// Len is the number of messages waiting.
func (q *AppQueue) Len() int { return len(q.items) }

// Items returns a copy of the waiting messages, oldest first.
func (q *AppQueue) Items() []Message { return append([]Message(nil), q.items...) }

// Flush hands messages to the socket while it is writable and returns the
// ones it took, oldest first. A send error other than EAGAIN cannot happen
// on a writable socket; if one did, the message stays queued.
func (q *AppQueue) Flush(w *World, sock string) []Message {
	var sent []Message
	for {
		m, ok := q.FlushOne(w, sock)
		if !ok {
			return sent
		}
		sent = append(sent, m)
	}
}

// FlushOne hands the head to the socket if the socket is writable, and
// reports what it handed over. Drivers that record each send use it.
func (q *AppQueue) FlushOne(w *World, sock string) (Message, bool) {
	if len(q.items) == 0 || !w.Writable(sock) {
		return nil, false
	}
	if err := w.Send(sock, q.items[0]); err != nil {
		return nil, false
	}
	m := q.items[0]
	q.items[0] = nil
	q.items = q.items[1:]
	return m, true
}
