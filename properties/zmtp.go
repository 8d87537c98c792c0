package properties

import (
	"strings"

	"github.com/zeromq-lockstep/lockstep/model"

	"pgregory.net/rapid"
)

// zmtpAllows says whether ZMTP lets a socket of type a talk to one of
// type b (RFC 28; the handshake exchanges the socket types and refuses the
// rest): REQ with REP or ROUTER, REP with REQ or DEALER. The model's
// DEALER stands for a ROUTER where it faces a REQ, a DEALER where it
// faces a REP, and either facing a DEALER, all of which ZMTP allows. So
// the pairs it refuses are REQ with REQ and REP with REP.
func zmtpAllows(a, b model.SocketType) bool {
	if a == model.DEALER || b == model.DEALER {
		return true
	}
	return a != b
}

// typeOf is the type of the socket the system calls name, from the
// system's own account (a client's is a REQ, a server's a REP, a raw
// peer's a DEALER), so that it holds for a socket closed since; ok is
// false for a name the system does not have.
func (m *machine) typeOf(name string) (model.SocketType, bool) {
	switch {
	case name == RogueName || name == RawName:
		return model.DEALER, true
	case m.isClient(name):
		return model.REQ, true
	}
	for _, srv := range m.sys.Servers {
		if srv.Name == name {
			return model.REP, true
		}
	}
	return 0, false
}

// binderAt is the name of the socket the system has bind ep, whether or
// not it is bound now.
func (m *machine) binderAt(ep string) (string, bool) {
	cfg := m.sys.Cfg
	switch {
	case ep == RogueEndpoint && cfg.Rogue && !cfg.ServersConnect:
		return RogueName, true
	case ep == RawEndpoint && cfg.RawClient && cfg.ServersConnect:
		return RawName, true
	}
	for _, c := range m.sys.Clients {
		if c.Endpoint == ep && cfg.ServersConnect {
			return c.Name, true
		}
	}
	for _, srv := range m.sys.Servers {
		if srv.Endpoint == ep && !cfg.ServersConnect {
			return srv.Name, true
		}
	}
	return "", false
}

const incompatible = "incompatible socket type "

// checkSocketTypes holds after every step of every property: every
// connection the model made in the step, and every connection a pipe has
// now, joins two socket types that ZMTP allows together, as the model's
// own queries (State, Endpoint, TypeOf) show them; a dial the model
// refuses as incompatible joins two that ZMTP refuses, and names the
// binding socket's type (RFC 28; F23 retries it). The generators connect
// a REP to a REP now and then (OpStrayConnect), so that there is
// something to refuse.
func (m *machine) checkSocketTypes(t *rapid.T) {
	for _, e := range m.fresh {
		switch {
		case e.Kind == model.EventConnect:
			a, okA := m.typeOf(e.Actor)
			b, okB := m.typeOf(e.Peer)
			if okA && okB && !zmtpAllows(a, b) {
				m.fail(t, "zmtp: %s (%s) connected to %s (%s), which ZMTP refuses (RFC 28)", e.Actor, a, e.Peer, b)
			}
		case (e.Kind == model.EventRetry || e.Kind == model.EventDisconnect) && strings.HasPrefix(e.Reason, incompatible):
			a, okA := m.typeOf(e.Actor)
			binder, okE := m.binderAt(e.Peer)
			b, okB := m.typeOf(binder)
			switch {
			case !okA || !okE || !okB:
				m.fail(t, "zmtp: %s's dial to %s was refused as %q, but the system has no such pair of sockets", e.Actor, e.Peer, e.Reason)
			case zmtpAllows(a, b):
				m.fail(t, "zmtp: %s (%s) was refused by %s at %s (%s) as %q, but ZMTP allows the two (RFC 28)", e.Actor, a, binder, e.Peer, b, e.Reason)
			case !strings.HasPrefix(e.Reason, incompatible+b.String()):
				m.fail(t, "zmtp: %s's dial to %s was refused as %q, but %s there is a %s", e.Actor, e.Peer, e.Reason, binder, b)
			}
		}
	}
	for name, st := range m.states {
		for _, p := range st.Pipes {
			if !p.Connected {
				continue
			}
			peer := p.Peer
			if strings.HasPrefix(peer, "tcp://") {
				if b, ok := m.sys.W.Endpoint(peer); ok {
					peer = b
				}
			}
			typ, err := m.sys.W.TypeOf(peer)
			switch {
			case err != nil && !p.Ended:
				// A socket that closes ends its connections; only a side
				// whose engine still pushes what had reached it stays.
				m.fail(t, "zmtp: %s's pipe to %s is connected, but no socket %s is open (%v)", name, p.Peer, peer, err)
			case err == nil && !zmtpAllows(st.Type, typ):
				m.fail(t, "zmtp: %s (%s) has a connection to %s (%s), which ZMTP refuses (RFC 28)", name, st.Type, peer, typ)
			}
		}
	}
}
