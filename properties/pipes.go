package properties

import (
	"strings"

	"github.com/zeromq-lockstep/lockstep/model"

	"pgregory.net/rapid"
)

// checkPipes holds after every step of every property: the high-water
// marks and the engines' flow control (F18, F21, F22). The writer of a
// pipe counts what it wrote less the reads it was told of, and is told
// once per LWM = (HWM+1)/2 reads (pipe.cpp); a REP only when it takes its
// commands (F17). So per pipe, with the mirror's own counts of what each
// socket wrote and read:
//   - the socket's count of what it sent on the pipe, hence what the pipe
//     holds to send, is at most SNDHWM;
//   - what the pipe holds to read, with the reads its engine has not been
//     told of, is at most RCVHWM;
//   - a live connection's engine takes everything its pipe holds to send,
//     and TCP holds what the receiver refuses: a connected pipe holds
//     something to send only once its connection has ended;
//   - messages wait at a receiving engine only while the pipe is at its
//     RCVHWM as the engine counts (stream_engine_base.cpp stops reading);
//   - a side of an ended connection stays only while its engine still
//     has what reached it to push (F22);
//   - a handshake stalls only on a pipe at its RCVHWM, and its engine
//     holds nothing, since the peer's first message ends it (F21).
//
// A zero option is the default of 1000.
func (m *machine) checkPipes(t *rapid.T) {
	for _, f := range m.sys.W.InFlight() {
		if f.N <= 0 {
			m.fail(t, "pipes: InFlight lists %s to %s with %d messages; it lists only directions with messages in flight", f.From, f.To, f.N)
		}
	}
	for name, st := range m.states { // a closed or crashed socket holds nothing
		o := m.mirror.options(name)
		mp := m.mirror.pipesOf(name)
		for i, p := range st.Pipes {
			mine := mp[i]
			l := lwm(o.RcvHWM)
			if sent := mine.written - mine.toldOf(m.mirror.socks[name]); p.Out > hwm(o.SndHWM) || sent > hwm(o.SndHWM) {
				m.fail(t, "pipes: %s's pipe to %s holds %d to send and counts %d sent, above SNDHWM %d (F18)", name, p.Peer, p.Out, sent, hwm(o.SndHWM))
			}
			counted := p.In + mine.reads%l
			if counted > hwm(o.RcvHWM) {
				m.fail(t, "pipes: %s's pipe from %s holds %d to read and %d reads untold, above RCVHWM %d (F18)", name, p.Peer, p.In, mine.reads%l, hwm(o.RcvHWM))
			}
			switch {
			case p.Connected && !p.Ended && p.Out > 0:
				m.fail(t, "pipes: %s's pipe to %s holds %d to send on a live connection, whose engine takes everything (F18)", name, p.Peer, p.Out)
			case p.Waiting > 0 && counted < hwm(o.RcvHWM):
				m.fail(t, "pipes: %d wait at the engine of %s's pipe from %s, which holds %d with %d reads untold, below RCVHWM %d (F18)", p.Waiting, name, p.Peer, p.In, mine.reads%l, hwm(o.RcvHWM))
			case p.Waiting > 0 && !p.Connected:
				m.fail(t, "pipes: %d wait at the engine of %s's pipe from %s, which has no connection (F22)", p.Waiting, name, p.Peer)
			case p.Ended && (!p.Connected || p.Waiting == 0):
				m.fail(t, "pipes: %s's pipe from %s is on an ended connection with %d waiting at its engine, connected %v: a side ends once its engine pushed what reached it (F22)", name, p.Peer, p.Waiting, p.Connected)
			case p.Stalled && (p.Waiting > 0 || counted < hwm(o.RcvHWM)):
				m.fail(t, "pipes: %s's handshake with %s stalled with %d waiting and the pipe at %d of RCVHWM %d (F21)", name, p.Peer, p.Waiting, counted, hwm(o.RcvHWM))
			}
		}
	}
}

// checkConservation holds after every step of every property: every
// message a socket put on a pipe is, until a socket reads it or the model
// reports it lost, in exactly one place: a pipe to send, the wire, a
// receiving engine (F18), a pipe to read. The model's state shows how many
// each holds, so the check is by count: what they hold together is what was sent and neither read nor
// reported lost; and no message is read or lost more often than it was
// sent (F16, F19, F21, F22).
func (m *machine) checkConservation(t *rapid.T) {
	for body := range m.led.Vanished {
		m.fail(t, "pipes: %s was read or reported lost more often than it was sent", body)
	}
	held := 0
	for _, st := range m.states {
		if st.ReadAhead {
			held++ // a REP's poll read it; the next receive returns it
		}
		for _, p := range st.Pipes {
			held += p.In + p.Out + p.Waiting // F22: what reached an engine is still read
		}
	}
	for _, f := range m.sys.W.InFlight() {
		held += f.N
	}
	if held != m.led.Alive {
		m.fail(t, "pipes: the pipes and the wire hold %d messages, but %d were sent and neither read nor reported lost", held, m.led.Alive)
	}
}

// checkPoll holds after every step of every property: Readable and
// Writable, ZMQ_EVENTS without its effects, say what a receive and a send
// would do as the mirror knows the socket (mirror.events: F1, F2, F3, F9,
// F18); the mirror's pipes and request state are the model's State, checked
// after every call and followed after every other step.
func (m *machine) checkPoll(t *rapid.T) {
	for name := range m.states {
		ms := m.mirror.socks[name]
		if ms == nil {
			continue
		}
		want := m.mirror.events(ms)
		if r, w := m.sys.W.Readable(name), m.sys.W.Writable(name); r != want[0] || w != want[1] {
			m.fail(t, "poll: %s is readable %v and writable %v, want %v and %v (F1, F2, F3)", name, r, w, want[0], want[1])
		}
	}
}

// checkFaults holds after every step of every property: a cut ends
// exactly the connections between its two ends, from whichever end it
// comes, and no connection is made across it until it heals (F21, F23); a
// request that a server held when it crashed is reported lost by the
// model (F19).
func (m *machine) checkFaults(t *rapid.T, op Op) {
	for _, e := range m.fresh {
		link := [2]string{min(e.Actor, e.Peer), max(e.Actor, e.Peer)}
		switch e.Kind {
		case model.EventCut:
			m.cut[link] = true
		case model.EventHeal:
			delete(m.cut, link)
		case model.EventConnect:
			if m.cut[link] {
				m.fail(t, "faults: %s connected to %s across a cut link (F21, F23)", e.Actor, e.Peer)
			}
		}
	}
	for h := range m.led.LostHeld {
		if !m.led.HeldDropped[h] {
			m.fail(t, "faults: request %s died with the server that held it, but the model did not report it lost (F19)", h)
		}
	}
	if op.Kind != OpCut || op.Client >= len(m.sys.Clients) || op.Server >= len(m.sys.Servers) {
		return
	}
	c, srv := m.sys.Clients[op.Client], m.sys.Servers[op.Server]
	for _, e := range m.fresh {
		if e.Kind == model.EventDisconnect && e.Reason == "link cut" && !(e.Actor == c.Name && e.Peer == srv.Name || e.Actor == srv.Name && e.Peer == c.Name) {
			m.fail(t, "faults: cutting %s-%s ended the connection of %s to %s (F21)", c.Name, srv.Name, e.Actor, e.Peer)
		}
	}
	for _, end := range [][2]string{{c.Name, srv.Name}, {srv.Name, c.Name}} {
		st, err := m.sys.W.State(end[0])
		if err != nil {
			continue
		}
		for _, p := range st.Pipes {
			if m.mirror.peerName(p.Peer) == end[1] && p.Connected && !p.Ended {
				// F22: a side whose engine still pushes what had reached
				// it counts as connected until it has pushed it.
				m.fail(t, "faults: %s is still connected to %s after the link was cut (F21)", end[0], strings.TrimPrefix(end[1], "tcp://"))
			}
		}
	}
}
