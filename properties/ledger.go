package properties

import (
	"github.com/zeromq-lockstep/lockstep/model"
	"github.com/zeromq-lockstep/lockstep/trace"
)

// Ledger is what the trace says happened, read incrementally: the
// properties judge the system by its trace, not by its internals.
type Ledger struct {
	read int // trace events consumed

	// Sent is each client's requests as its socket put them on a pipe, in
	// order; SentPeers the pipe each went to.
	Sent      map[string][]string
	SentPeers map[string][]string
	// SinceReceive counts a client's sends since its last received reply.
	SinceReceive map[string]int
	// Received is each client's replies, in order; SentByReceive how
	// many requests the client had sent when it took each.
	Received      map[string][]string
	SentByReceive map[string][]int
	// Delivered is each server's requests as its application read them.
	Delivered map[string][]string
	// DeliveredCount counts deliveries of each request body, all servers.
	DeliveredCount map[string]int
	// Dropped is every message the model reported lost, by body.
	Dropped map[string]string
	// Holding is the request each server's application holds unanswered.
	Holding map[string]string
	// LostHeld are requests a server held when it crashed (F19), and
	// HeldDropped the ones the model reported lost with no pipe, as it
	// does a request a crashed server held (and the client processes that
	// die report their queues).
	LostHeld    map[string]bool
	HeldDropped map[string]bool
	// LostAt is, per client, the number of replies it had received when
	// its outstanding request was lost; a strict REQ must never receive
	// more (F19).
	LostAt map[string]int
	// Resurrected are requests read by a server after they were reported
	// lost: libzmq never resends (F19, F22).
	Resurrected []string
	// Orphaned are requests of a client process that has since died: a
	// reply to one goes to a pipe that is gone and is dropped (F16), so
	// the client's next incarnation must never take it.
	Orphaned map[string]bool
	// Reborn is, per client that died and started again, how many replies
	// its earlier incarnations had received.
	Reborn map[string]int
	// Alive counts the messages sockets put on pipes (a request sent, a
	// reply or the raw peer's message) that no socket has read and the
	// model has not reported lost; AliveOf counts them by body, and
	// Vanished holds the bodies read or lost more often than sent.
	Alive    int
	AliveOf  map[string]int
	Vanished map[string]bool
	// clients are the actors that have sent, so a crash can tell a client
	// from a server.
	clients map[string]bool
}

func newLedger() *Ledger {
	return &Ledger{
		Sent: map[string][]string{}, SentPeers: map[string][]string{}, SinceReceive: map[string]int{},
		Received: map[string][]string{}, SentByReceive: map[string][]int{}, Delivered: map[string][]string{}, DeliveredCount: map[string]int{},
		Dropped: map[string]string{}, Holding: map[string]string{}, LostHeld: map[string]bool{}, HeldDropped: map[string]bool{},
		LostAt: map[string]int{}, Orphaned: map[string]bool{}, Reborn: map[string]int{}, AliveOf: map[string]int{}, Vanished: map[string]bool{}, clients: map[string]bool{},
	}
}

// LastSent is the client's latest request on its socket.
func (l *Ledger) LastSent(client string) string {
	s := l.Sent[client]
	if len(s) == 0 {
		return ""
	}
	return s[len(s)-1]
}

// Update consumes the trace events recorded since the last call and
// returns them.
func (l *Ledger) Update(trace []trace.Event) []trace.Event {
	fresh := trace[l.read:]
	l.read = len(trace)
	for _, e := range fresh {
		l.count(e)
		switch e.Kind {
		case model.EventSend: // a resend is also a send; its resend line only annotates it
			delete(l.LostAt, e.Actor) // a relaxed REQ's new request (a strict one cannot send)
			l.clients[e.Actor] = true
			l.Sent[e.Actor] = append(l.Sent[e.Actor], e.Msg)
			l.SentPeers[e.Actor] = append(l.SentPeers[e.Actor], e.Peer)
			l.SinceReceive[e.Actor]++
		case model.EventReceive:
			l.Received[e.Actor] = append(l.Received[e.Actor], e.Msg)
			l.SentByReceive[e.Actor] = append(l.SentByReceive[e.Actor], len(l.Sent[e.Actor]))
			l.SinceReceive[e.Actor] = 0
		case model.EventDeliver:
			if _, gone := l.Dropped[e.Msg]; gone || l.LostHeld[e.Msg] {
				l.Resurrected = append(l.Resurrected, e.Msg)
			}
			l.Delivered[e.Actor] = append(l.Delivered[e.Actor], e.Msg)
			l.DeliveredCount[e.Msg]++
			l.Holding[e.Actor] = e.Msg
		case model.EventReply:
			delete(l.Holding, e.Actor)
		case model.EventCrash:
			if l.clients[e.Actor] {
				// A client process died: its requests are orphans, and its
				// next incarnation starts with nothing outstanding.
				for _, body := range l.Sent[e.Actor] {
					l.Orphaned[body] = true
				}
				l.SinceReceive[e.Actor] = 0
				l.Reborn[e.Actor] = len(l.Received[e.Actor])
				delete(l.LostAt, e.Actor)
				break
			}
			if h, ok := l.Holding[e.Actor]; ok {
				l.LostHeld[h] = true
				l.lost(h)
				delete(l.Holding, e.Actor)
			}
		case model.EventDrop:
			if e.Peer == "" {
				l.HeldDropped[e.Msg] = true
			}
			if _, ok := l.Dropped[e.Msg]; !ok {
				l.Dropped[e.Msg] = e.Reason
			}
			l.lost(e.Msg)
			if req, ok := Answers(e.Msg); ok {
				// A lost reply loses its request too: a server answers a
				// request once (F16, F17).
				l.lost(req)
			}
		}
	}
	return fresh
}

// count keeps Alive: a send or reply puts a message on a pipe; a receive,
// a delivery or a drop of a message that was on one (a drop names the
// pipe's peer; the drops without one are of a request a server held, or of
// a client's application queue) takes it off.
func (l *Ledger) count(e trace.Event) {
	switch {
	case e.Kind == model.EventSend || e.Kind == model.EventReply:
		l.Alive++
	case e.Kind == model.EventReceive || e.Kind == model.EventDeliver || e.Kind == model.EventDrop && e.Peer != "":
		l.Alive--
	default:
		return
	}
	if isRaw(e.Actor) || isRaw(e.Peer) {
		// A raw request's frames are its body or not, as its shape has it;
		// the traces name it differently, so it is counted in Alive only.
		return
	}
	if e.Kind == model.EventSend || e.Kind == model.EventReply {
		l.AliveOf[e.Msg]++
	} else {
		l.AliveOf[e.Msg]--
	}
	if l.AliveOf[e.Msg] < 0 {
		l.Vanished[e.Msg] = true
	} else {
		delete(l.Vanished, e.Msg)
	}
}

// lost notes that body, if it is some client's outstanding request, will
// never be answered.
func (l *Ledger) lost(body string) {
	client, _, ok := ParseRequest(body)
	if !ok || l.LastSent(client) != body || l.SinceReceive[client] == 0 {
		return
	}
	if _, already := l.LostAt[client]; !already {
		l.LostAt[client] = len(l.Received[client])
	}
}

// isRaw says whether a trace event's actor or peer, or a pipe's peer, is
// the raw client: by name, or by the endpoint it binds when the servers
// connect to it.
func isRaw(peer string) bool { return peer == RawName || peer == RawEndpoint }
