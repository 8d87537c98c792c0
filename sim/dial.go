package sim

import (
	"fmt"
	"slices"
	"syscall"
	"time"

	"github.com/zeromq-lockstep/lockstep/model"
	"github.com/zeromq-lockstep/lockstep/trace"
)

// zmq4's Dial loop (socket.go, defaultMaxRetries and defaultRetry): a
// refused TCP connect is tried again ZMQ4DialRetry later, at most
// ZMQ4DialRetries times, before Dial fails (Profile.ConnectBlocks).
const (
	ZMQ4DialRetries = 10
	ZMQ4DialRetry   = 250 * time.Millisecond
)

// dialOutcome is how one TCP connect (and its handshake) ended.
type dialOutcome uint8

const (
	dialConnected   dialOutcome = iota
	dialNoListener              // nothing binds the endpoint: refused
	dialUnreachable             // the link is cut: refused
	dialPeerGone                // the peer died during the handshake
	dialReset                   // the link was cut during the handshake
)

// dial answers one of the model's dial attempts: at once under F23,
// where the model itself retries, or as one step of a blocking connect()
// under Profile.ConnectBlocks.
func (s *Sim) dial(e model.Dial) {
	if s.world.Profile().ConnectBlocks {
		s.dialBlocking(e)
		return
	}
	a := e.Attempt
	s.connect(e.From, e.Endpoint, func(o dialOutcome) {
		// The model judges what it can itself: an endpoint nobody binds
		// is refused by DialDone (F23).
		s.world.DialDone(a, o == dialConnected || o == dialNoListener)
	})
}

// connect is one TCP connect from socket from to endpoint ep, which takes
// a round trip, and with Network.Handshake the ZMTP handshake after it;
// done gets how it ended.
func (s *Sim) connect(from, ep string, done func(dialOutcome)) {
	to, _ := s.world.Endpoint(ep)
	s.After(2*s.latency(from, to), func() {
		// Reachability is judged when the connect completes: a link cut
		// meanwhile makes it fail.
		to, bound := s.world.Endpoint(ep)
		l := mkLink(from, to)
		switch {
		case s.cut[l]:
			done(dialUnreachable)
			return
		case !bound:
			done(dialNoListener)
			return
		case !s.net.Handshake:
			done(dialConnected)
			return
		}
		h := &handshaking{to: to, link: l, done: done}
		s.handshakes = append(s.handshakes, h)
		s.At(s.handshake(from, to), func() { s.endHandshake(h, dialConnected) })
	})
}

// handshaking is a ZMTP handshake under way (Network.Handshake): it ends
// when it is done, or at once when its binder closes or its link is cut,
// as the connecting side reads EOF or a reset then.
type handshaking struct {
	to   string
	link link
	done func(dialOutcome)
	over bool
}

// endHandshake ends h with o, unless it has ended already.
func (s *Sim) endHandshake(h *handshaking, o dialOutcome) {
	if h.over {
		return
	}
	h.over = true
	s.handshakes = slices.DeleteFunc(s.handshakes, func(k *handshaking) bool { return k == h })
	h.done(o)
}

// failHandshakes ends, with o, the handshakes under way that match.
func (s *Sim) failHandshakes(match func(*handshaking) bool, o dialOutcome) {
	for _, h := range slices.Clone(s.handshakes) {
		if match(h) {
			s.endHandshake(h, o)
		}
	}
}

// acceptState is when a binding socket's accept loop is free again, for
// Profile.SerialHandshakes.
type acceptState struct {
	gen  uint64 // s.gone[binder] then: a restarted binder starts free
	free time.Duration
}

// handshake times the ZMTP handshake of a connection from socket from to
// binder to whose TCP connect completes now, and returns when the
// connecting side has it done. Each side sends its greeting, reads the
// other's, then sends READY and reads the other's (zmq4's Conn.init); the
// binder starts when its accept loop is free, under SerialHandshakes, and
// at once otherwise.
func (s *Sim) handshake(from, to string) time.Duration {
	now, start := s.now, s.now
	serial := s.world.Profile().SerialHandshakes
	if a := s.accepting[to]; serial && a.gen == s.gone[to] && a.free > start {
		start = a.free
	}
	greeting, binderGreeting, binderReady, ready := s.latency(from, to), s.latency(to, from), s.latency(to, from), s.latency(from, to)
	// The binder has read the connecter's greeting, and sends its READY.
	greeted := max(start, now+greeting)
	if serial {
		// It is free once the connecter's READY, sent when the binder's
		// greeting arrived, has come in.
		s.accepting[to] = acceptState{gen: s.gone[to], free: max(greeted, start+binderGreeting+ready)}
	}
	return max(start+binderGreeting, greeted+binderReady)
}

// blockingDial is one connect() under Profile.ConnectBlocks: zmq4's Dial.
type blockingDial struct {
	attempt  model.AttemptID
	from, ep string
	retries  int
	gen      uint64 // s.gone[from] when it began: a close of from ends it
}

// dialBlocking queues a connect() behind the socket's earlier ones: zmq4
// dials synchronously, so a program's Dial calls run one after another.
func (s *Sim) dialBlocking(e model.Dial) {
	d := &blockingDial{attempt: e.Attempt, from: e.From, ep: e.Endpoint, gen: s.gone[e.From]}
	q := append(s.dials[d.from], d)
	s.dials[d.from] = q
	if len(q) == 1 {
		s.tryBlocking(d)
	}
}

// tryBlocking makes one TCP connect of d and, as zmq4's Dial does,
// connects, tries again after ZMQ4DialRetry, or gives up.
func (s *Sim) tryBlocking(d *blockingDial) {
	s.connect(d.from, d.ep, func(o dialOutcome) {
		if s.gone[d.from] != d.gen {
			return // the socket closed, and its connect()s with it
		}
		switch {
		case o == dialConnected:
			s.world.DialDone(d.attempt, true)
		case (o == dialNoListener || o == dialUnreachable) && d.retries < ZMQ4DialRetries:
			d.retries++
			s.Record(trace.Event{Actor: d.from, Kind: model.EventRetry, Peer: d.ep,
				Reason: fmt.Sprintf("connection refused; connect() tries again in %v (retry %d of %d)", ZMQ4DialRetry, d.retries, ZMQ4DialRetries)})
			s.After(ZMQ4DialRetry, func() {
				if s.gone[d.from] == d.gen {
					s.tryBlocking(d)
				}
			})
			return
		default:
			// connect() fails and nothing dials again. The model's
			// attempt is left unanswered: under NoPipeWithoutConnection
			// a connect() without a connection has no pipe, so the
			// socket is what zmq4's is once its Dial has failed.
			err := error(syscall.ECONNREFUSED)
			switch o {
			case dialPeerGone:
				err = model.ErrPeerGone // zmq4 reads EOF in the greeting
			case dialReset:
				err = syscall.ECONNRESET
			}
			s.Record(trace.Event{Actor: d.from, Kind: model.EventError, Reason: "connect: " + err.Error()})
		}
		s.nextBlocking(d.from)
	})
}

// nextBlocking starts the socket's next connect() once one has returned.
func (s *Sim) nextBlocking(name string) {
	q := s.dials[name][1:]
	if len(q) == 0 {
		delete(s.dials, name)
		return
	}
	s.dials[name] = q
	s.tryBlocking(q[0])
}

// Dialing reports whether a connect() of socket name is under way under
// Profile.ConnectBlocks: the application is blocked in it, and its
// binding hands nothing to the socket meanwhile.
func (s *Sim) Dialing(name string) bool { return len(s.dials[name]) > 0 }

// closed notes that socket name has closed or crashed: a handshake with
// it fails now, and its own connect()s end.
func (s *Sim) closed(name string) {
	s.gone[name]++
	delete(s.dials, name)
	s.failHandshakes(func(h *handshaking) bool { return h.to == name }, dialPeerGone)
}
