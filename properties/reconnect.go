package properties

import (
	"slices"
	"strings"
	"time"

	"github.com/zeromq-lockstep/lockstep/model"
	"github.com/zeromq-lockstep/lockstep/sim"
	"github.com/zeromq-lockstep/lockstep/trace"

	"pgregory.net/rapid"
)

// dialDue is a connect()'s next attempt: its reconnect timer fires
// RECONNECT_IVL plus the drawn jitter after the failure (F23), and the dial
// then takes a round trip of the simulated network, so its outcome falls
// in [lo, hi).
type dialDue struct {
	lo, hi time.Duration
	ivl    time.Duration // the interval the next failure starts from
}

// The lo of a dialDue that is no attempt: a connection made (it keeps
// the back-off's base), a connect() that gave up (RECONNECT_IVL=-1, or a
// protocol error of its own session).
const (
	noneDue time.Duration = -1
	gaveUp  time.Duration = -2
)

// reconnects checks F23 over an interval's events: every failed dial and
// every connection that ends while its connect() goes on schedules one
// retry after RECONNECT_IVL + rand() % RECONNECT_IVL, the base doubling up
// to RECONNECT_IVL_MAX and reset by a connection; the retry's outcome
// comes when that says; RECONNECT_IVL=-1 never retries; and a connect()
// whose own session ended its connection for a protocol error never
// connects again, while its peer's goes on (F6, F21).
func (m *mirror) reconnects(events []trace.Event) {
	// The sessions that met a protocol error, with their peers: theirs
	// end for good, the peers only see the connection close (F6, F21).
	clear(m.erred)
	for _, e := range events {
		if e.Kind == model.EventDrop && (slices.Contains(refusalReasons, e.Reason) || e.Reason == "taken for a handshake command") ||
			e.Kind == model.EventError && e.Reason == model.AbortStalledRead {
			m.erred[[2]string{e.Actor, e.Peer}] = true
		}
	}
	for _, e := range events {
		key, outcome, schedules := m.dialEvent(e)
		if key == ([2]string{}) {
			continue
		}
		due, pending := m.dials[key]
		if outcome && pending && due.lo != noneDue && due.lo != gaveUp {
			if e.At < due.lo || e.At >= due.hi {
				m.fail("reconnect: %s's attempt to %s completed at %v, want in [%v, %v): RECONNECT_IVL plus its jitter, then a round trip (F23)",
					key[0], key[1], e.At, due.lo, due.hi)
			}
			delete(m.dials, key)
		}
		opts := m.options(key[0])
		if e.Kind == model.EventConnect && pending && due.lo == gaveUp {
			m.fail("reconnect: %s connected to %s again after its connect() gave up: RECONNECT_IVL=-1 (F23), or its session ended the connection for a protocol error (F6, F21)", key[0], key[1])
		}
		if opts.ReconnectIvl < 0 {
			// F23: the connect() gives up for good when its attempt fails
			// or its connection ends.
			if e.Kind == model.EventRetry {
				m.fail("reconnect: %s retries %s with RECONNECT_IVL=-1 (F23)", key[0], key[1])
			}
			if e.Kind == model.EventDisconnect {
				m.dials[key] = dialDue{lo: gaveUp}
			}
			continue
		}
		base := opts.ReconnectIvl
		if base == 0 {
			base = model.DefaultReconnectIvl
		}
		ivl := base
		if pending && e.Kind != model.EventConnect {
			ivl = due.ivl
		}
		if !schedules {
			switch e.Kind {
			case model.EventConnect:
				m.dials[key] = dialDue{lo: noneDue, ivl: base} // a connection resets the back-off
			case model.EventDisconnect:
				// Its own session's protocol error: libzmq does not
				// re-establish the connection (F6, F21).
				m.dials[key] = dialDue{lo: gaveUp}
			}
			continue
		}
		var jitter time.Duration
		if n := int(base / time.Millisecond); n > 1 {
			d, ok := m.take(model.ChoiceReconnectJitter)
			if !ok || d.n != n {
				m.fail("reconnect: %s's retry of %s drew its jitter from %d options (asked %v), want rand() %% %d (F23)", key[0], key[1], d.n, ok, n)
			}
			jitter = time.Duration(d.k) * time.Millisecond
		}
		at := e.At + ivl + jitter
		next := ivl
		if opts.ReconnectIvlMax > base {
			next = min(2*ivl, opts.ReconnectIvlMax)
		}
		rtt := 2 * sim.DefaultNetwork.Latency
		m.dials[key] = dialDue{lo: at + rtt, hi: at + rtt + 2*sim.DefaultNetwork.Jitter, ivl: next}
	}
	now := m.sys.Sim.Now()
	for key, due := range m.dials {
		if due.lo != noneDue && due.lo != gaveUp && now >= due.hi {
			m.fail("reconnect: %s's attempt to %s was due by %v and has not completed at %v (F23)", key[0], key[1], due.hi, now)
		}
	}
}

// dialEvent says which connect() an event is about, whether it is the
// outcome of a dial and whether it schedules a retry.
func (m *mirror) dialEvent(e trace.Event) (key [2]string, outcome, schedules bool) {
	key, outcome, schedules = m.dialEventOf(e)
	if key != ([2]string{}) && !m.hasConnect(key[0], key[1]) {
		return [2]string{}, false, false // a bound pipe's connection
	}
	return key, outcome, schedules
}

func (m *mirror) dialEventOf(e trace.Event) (key [2]string, outcome, schedules bool) {
	if !m.connects(e.Actor) {
		return key, false, false
	}
	switch e.Kind {
	case model.EventConnect:
		return [2]string{e.Actor, m.endpoint(e.Peer)}, true, false
	case model.EventRetry:
		return [2]string{e.Actor, e.Peer}, true, true
	case model.EventDisconnect:
		if e.Reason == "disconnect" {
			return key, false, false // zmq_disconnect ended the connect() (see mirror.disconnect)
		}
		if strings.Contains(e.Reason, "RECONNECT_IVL=-1") {
			return [2]string{e.Actor, e.Peer}, true, false // the attempt failed, no retry
		}
		// A protocol error ends the connect() of the socket that met it;
		// its peer reconnects (F6, F21).
		return [2]string{e.Actor, m.endpoint(e.Peer)}, false, e.Reason != "protocol error" || !m.erred[[2]string{e.Actor, e.Peer}]
	}
	return key, false, false
}

// connects says whether the socket called name connects: the clients
// (to the servers and the rogue peer, or to nothing when the servers
// connect), the raw client, or under Config.ServersConnect the servers
// (to the clients and the raw client) and the rogue (to the clients), and
// a server while it has a stray connect() (OpStrayConnect).
func (m *mirror) connects(name string) bool {
	cfg := m.sys.Cfg
	switch {
	case name == RawName:
		return cfg.RawClient && !cfg.ServersConnect
	case name == RogueName:
		return cfg.Rogue && cfg.ServersConnect
	}
	for _, c := range m.sys.Clients {
		if c.Name == name {
			return true
		}
	}
	for _, srv := range m.sys.Servers {
		if srv.Name == name {
			return cfg.ServersConnect || srv.Stray != ""
		}
	}
	return false
}

// endpoint is the endpoint the socket called name binds.
func (m *mirror) endpoint(name string) string {
	for _, srv := range m.sys.Servers {
		if srv.Name == name && !m.sys.Cfg.ServersConnect {
			return srv.Endpoint
		}
	}
	for _, c := range m.sys.Clients {
		if c.Name == name && m.sys.Cfg.ServersConnect {
			return c.Endpoint
		}
	}
	switch {
	case name == RogueName && !m.sys.Cfg.ServersConnect:
		return RogueEndpoint
	case name == RawName && m.sys.Cfg.ServersConnect:
		return RawEndpoint
	}
	return name
}

// checkReconnectLoops holds after every step of every property: each
// connect() that goes on has at most one attempt or one reconnect timer
// pending, and no other has any: closing a socket or disconnecting stops
// its reconnect loop, a REQ that restarts under its name starts its own
// (F23; a timer that fired for a stopped loop would dial again).
func (m *machine) checkReconnectLoops(t *rapid.T) {
	pending := map[[2]string]int{}
	for _, d := range m.sys.W.PendingDials() {
		pending[[2]string{d.From, d.Endpoint}]++
	}
	for _, k := range m.sys.W.PendingTimers() {
		pending[[2]string{k.Owner, k.Endpoint}]++
	}
	for key, n := range pending {
		switch {
		case !m.connectsTo(key[0], key[1]):
			m.fail(t, "reconnect: %s has %d attempts or timers pending for %s, which it does not connect to (F23)", key[0], n, key[1])
		case n > 1:
			m.fail(t, "reconnect: %s has %d attempts or timers pending for %s; a connect() has one at a time (F23)", key[0], n, key[1])
		case m.mirror.dials[key].lo == gaveUp:
			m.fail(t, "reconnect: %s has an attempt or a timer pending for %s after it gave up, with RECONNECT_IVL=-1 or for its session's protocol error (F6, F21, F23)", key[0], key[1])
		}
	}
}

// connectsTo says whether the socket called name is open and has a
// connect() to ep: a client or a server to the endpoints its application
// connected to, the raw client to the servers', the rogue to the
// clients' under Config.ServersConnect.
func (m *machine) connectsTo(name, ep string) bool {
	if _, err := m.sys.W.State(name); err != nil {
		return false
	}
	return m.mirror.hasConnect(name, ep)
}

// hasConnect says whether the application of the socket called name has
// a connect() to ep, whether or not the socket is open.
func (m *mirror) hasConnect(name, ep string) bool {
	switch {
	case name == RawName:
		return m.connects(name) && strings.HasPrefix(ep, "tcp://s")
	case name == RogueName:
		return m.connects(name) && slices.ContainsFunc(m.sys.Clients, func(c *Client) bool { return c.Endpoint == ep })
	}
	for _, c := range m.sys.Clients {
		if c.Name == name {
			return slices.Contains(c.Endpoints, ep)
		}
	}
	for _, srv := range m.sys.Servers {
		if srv.Name == name {
			return slices.Contains(srv.Endpoints, ep) || srv.Stray == ep
		}
	}
	return false
}

// closed forgets a socket's connect()s.
func (m *mirror) closed(name string) {
	for key := range m.dials {
		if key[0] == name {
			delete(m.dials, key)
		}
	}
}
