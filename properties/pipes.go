package properties

import (
	"strings"

	"github.com/zeromq-lockstep/lockstep/model"

	"pgregory.net/rapid"
)

// checkPipes holds after every step of every property: the high-water
// marks as the model counts them (F17, F18). A pipe holds at most SNDHWM
// whole messages to send; the pipe a socket reads, with what is in flight
// toward it, at most its RCVHWM; and a connection's engine moves a message
// off the sending pipe as soon as the receiving side is below its RCVHWM,
// so a connected pipe holds messages to send only while its peer's side is
// full. A sender nobody reads therefore gets SNDHWM + RCVHWM messages past
// the receiver; how far libzmq itself gets is F18's open question, so this
// checks the model's own rule. A zero option is the default of 1000.
func (m *machine) checkPipes(t *rapid.T) {
	flights := map[[2]string]int{}
	for _, f := range m.sys.W.InFlight() {
		if f.N <= 0 {
			m.fail(t, "pipes: InFlight lists %s to %s with %d messages; it lists only directions with messages in flight", f.From, f.To, f.N)
		}
		flights[[2]string{f.From, f.To}] += f.N
	}
	states := m.states // a closed or crashed socket holds nothing
	for name, st := range states {
		o := m.mirror.options(name)
		for _, p := range st.Pipes {
			peer := m.mirror.peerName(p.Peer)
			if p.Out > hwm(o.SndHWM) {
				m.fail(t, "pipes: %s's pipe to %s holds %d to send, above SNDHWM %d (F18)", name, p.Peer, p.Out, hwm(o.SndHWM))
			}
			in := p.In
			if p.Connected {
				in += flights[[2]string{peer, name}]
			}
			if in > hwm(o.RcvHWM) {
				m.fail(t, "pipes: %s's pipe from %s holds and has in flight %d to read, above RCVHWM %d (F18)", name, p.Peer, in, hwm(o.RcvHWM))
			}
			if !p.Connected || p.Out == 0 {
				continue
			}
			other, ok := states[peer]
			if !ok {
				m.fail(t, "pipes: %s's pipe to %s is connected, but %s is not open", name, p.Peer, peer)
			}
			for _, q := range other.Pipes {
				if !q.Connected || q.Peer != name && m.mirror.peerName(q.Peer) != name {
					continue
				}
				if full := hwm(m.mirror.options(peer).RcvHWM); q.In+flights[[2]string{name, peer}] < full {
					m.fail(t, "pipes: %s's pipe to %s holds %d to send while %s's side holds %d of RCVHWM %d: the engine moves messages while there is room (F18)",
						name, p.Peer, p.Out, peer, q.In+flights[[2]string{name, peer}], full)
				}
			}
		}
	}
}

// checkConservation holds after every step of every property: every
// message a socket put on a pipe is, until a socket reads it or the model
// reports it lost, in exactly one place: a pipe to send, the wire, a pipe
// to read. The model's state shows how many each holds, so the check is
// by count: what they hold together is what was sent and neither read nor
// reported lost; and no message is read or lost more often than it was
// sent (F16, F19, F21, F22).
func (m *machine) checkConservation(t *rapid.T) {
	for body := range m.led.Vanished {
		m.fail(t, "pipes: %s was read or reported lost more often than it was sent", body)
	}
	held := 0
	for _, st := range m.states {
		for _, p := range st.Pipes {
			held += p.In + p.Out
		}
	}
	for _, f := range m.sys.W.InFlight() {
		held += f.N
	}
	if held != m.led.Alive {
		m.fail(t, "pipes: the pipes and the wire hold %d messages, but %d were sent and neither read nor reported lost", held, m.led.Alive)
	}
}

// checkPoll holds after every step of every property: ZMQ_POLLIN and
// ZMQ_POLLOUT say what a receive and a send would do (F3). A REQ is
// readable while it awaits a reply and a pipe holds a message (a stray
// one too, F9) and writable while F1 allows a send and a pipe can take
// one; a REP is readable while it owes nothing and a pipe holds a request,
// writable while it owes a reply (F2); a raw peer whenever a pipe holds a
// message or can take one.
func (m *machine) checkPoll(t *rapid.T) {
	for name, st := range m.states {
		o := m.mirror.options(name)
		var in, room bool
		for _, p := range st.Pipes {
			in = in || p.In > 0
			room = room || !p.Destroyed && p.Out < hwm(o.SndHWM)
		}
		var r, w bool
		switch st.Type {
		case model.REQ:
			r, w = st.AwaitingReply && in, (!st.AwaitingReply || o.ReqRelaxed) && room
		case model.REP:
			r, w = !st.OwesReply && in, st.OwesReply
		default:
			r, w = in, room
		}
		if m.sys.W.Readable(name) != r || m.sys.W.Writable(name) != w {
			m.fail(t, "poll: %s is readable %v and writable %v, want %v and %v (F1, F2, F3)", name, m.sys.W.Readable(name), m.sys.W.Writable(name), r, w)
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
	for _, end := range [][2]string{{c.Name, srv.Endpoint}, {srv.Name, c.Name}} {
		st, err := m.sys.W.State(end[0])
		if err != nil {
			continue
		}
		for _, p := range st.Pipes {
			if p.Peer == end[1] && p.Connected {
				m.fail(t, "faults: %s is still connected to %s after the link was cut (F21)", end[0], strings.TrimPrefix(end[1], "tcp://"))
			}
		}
	}
}
