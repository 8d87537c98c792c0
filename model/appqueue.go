package model

import "encoding/binary"

// AppQueue is the queue that the scenario's Node.js binding keeps in front
// of a REQ socket (F24): the application's send appends to it, and the head
// is handed to the socket whenever the socket is writable (F3). It, not
// libzmq, is what grows without bound while no reply comes; its length is
// what the blog's client prints as "N message queued".
//
//	var q model.AppQueue
//	q.Enqueue(model.Message{"7"})
//	sent := q.Flush(w, "client") // the messages the socket took
//
// Because it grows without bound, it keeps messages compactly: one byte
// array holds every queued message, each as its frame count, its frame
// lengths (uvarints) and its frames' bytes. A counter payload such as the
// blog's costs its digits and two bytes, where a Message of its own would
// cost about sixty; a 72-hour run of no-reply queues 2.6 million of them.
type AppQueue struct {
	buf  []byte // the queued messages, encoded, from head on
	head int    // offset in buf of the oldest message
	n    int    // number of messages queued
	// dropAbove, when positive, makes the queue drop messages once it
	// holds that many: the teeth mutation QueueDropsAbove (AppQueue.Mutate),
	// so that property tests can show they notice a queue that loses
	// messages. The real binding never does, and the default build
	// compiles the check away.
	dropAbove int
}

// Enqueue appends m and reports whether it was kept.
func (q *AppQueue) Enqueue(m Message) bool {
	if teeth && q.dropAbove > 0 && q.n >= q.dropAbove {
		return false
	}
	need := binary.MaxVarintLen64 * (1 + len(m))
	for _, f := range m {
		need += len(f)
	}
	if len(q.buf)+need > cap(q.buf) && q.head >= len(q.buf)/2 {
		// At least half of the array is messages already handed over:
		// move the live ones down rather than grow. Each move follows at
		// least as many bytes handed over as it copies.
		q.buf = q.buf[:copy(q.buf, q.buf[q.head:])]
		q.head = 0
	}
	if len(q.buf)+need > cap(q.buf) {
		// Double, rather than let append grow a large array by about
		// 1.25x: each array is larger than all the freed ones before it,
		// so the runtime cannot reuse them, and with 1.25x they added up
		// to four times the queue.
		grown := make([]byte, len(q.buf), max(2*cap(q.buf), len(q.buf)+need, 64))
		copy(grown, q.buf)
		q.buf = grown
	}
	q.buf = binary.AppendUvarint(q.buf, uint64(len(m)))
	for _, f := range m {
		q.buf = binary.AppendUvarint(q.buf, uint64(len(f)))
	}
	for _, f := range m {
		q.buf = append(q.buf, f...)
	}
	q.n++
	return true
}

// decode reads the message at offset off of buf and returns it and the
// offset of the next one. The frames share one string.
func decode(buf []byte, off int) (Message, int) {
	nf, k := binary.Uvarint(buf[off:])
	off += k
	lens := off
	size := 0
	for range nf {
		l, k := binary.Uvarint(buf[off:])
		off += k
		size += int(l)
	}
	if nf == 0 {
		return nil, off // as a copy of an empty Message always was
	}
	data := string(buf[off : off+size])
	m := make(Message, nf)
	at := 0
	for i := range m {
		l, k := binary.Uvarint(buf[lens:])
		lens += k
		m[i] = data[at : at+int(l)]
		at += int(l)
	}
	return m, off + size
}

// Len is the number of messages waiting.
func (q *AppQueue) Len() int { return q.n }

// Items returns a copy of the waiting messages, oldest first.
func (q *AppQueue) Items() []Message {
	if q.n == 0 {
		return nil
	}
	out := make([]Message, 0, q.n)
	for off := q.head; off < len(q.buf); {
		var m Message
		m, off = decode(q.buf, off)
		out = append(out, m)
	}
	return out
}

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
	if q.n == 0 || !w.Writable(sock) {
		return nil, false
	}
	m, next := decode(q.buf, q.head)
	if err := w.Send(sock, m); err != nil {
		return nil, false
	}
	q.n--
	if q.n == 0 {
		q.buf, q.head = q.buf[:0], 0
	} else {
		q.head = next
	}
	return m, true
}
