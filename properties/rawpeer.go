package properties

import (
	"strings"

	"github.com/zeromq-lockstep/lockstep/model"

	"pgregory.net/rapid"
)

// RawPeers: REQs that are connected, besides REP servers, to a raw peer
// that sends replies of its own invention, well-formed or without a
// delimiter, to whichever pipe is next, and REPs that a raw client sends
// requests of every shape. A REQ takes a raw reply only as the answer to
// its latest request if that went to the raw peer, and never under
// REQ_CORRELATE, whose id the peer does not echo (F7, F9), unless the pipe
// of its request is gone and the REQ forgot it (F10); a server's reply it
// takes answers its latest request, or under REQ_RELAXED alone one it
// sent on the same pipe (F9, F20); a strict REQ has one request
// outstanding (F1). A reply without a delimiter never reaches a REQ's
// pipe: it ends that connection, whose REQ side never re-establishes it
// (F6): a REQ that connected to the raw peer neither reconnects to it
// nor sends it anything after; where the clients bind and the raw peer
// connects to them (Config.ServersConnect, a third of the runs), the raw
// peer, the connecting side, reconnects (F6, F23), and the REQ sends it
// nothing until it has, unless the raw peer's own session ended the
// connection (a handshake that stalled on its full pipe, F21), after
// which the raw peer never connects to that REQ again. A REP reads what
// follows a request's first delimiter, drops a request without one, and
// returns the envelope before it with the reply (F5, F15; checked by the
// mirror), whether the raw client connects to it or, under
// Config.ServersConnect, binds and has the REPs connect.
//
//	rapid.Check(t, properties.RawPeers)
func RawPeers(t *rapid.T) { check("TestRawPeers", t) }

func rawPeers(t *rapid.T, mut model.Mutation) {
	cfg := drawConfig(t, mut) // a third of the runs with the servers connecting
	mayGiveUp(t, &cfg)
	cfg.Rogue, cfg.RawClient = true, true
	// Crashes and cuts twice over: F10's race comes when the pipe of an
	// outstanding request ends, and shows when a raw reply follows.
	kinds := []string{OpEnqueue, OpEnqueue, OpServe, OpCycle, OpReplyAfter, OpAdvance, OpCrash, OpCrash, OpCut,
		OpRogueRead, OpRogueReply, OpRogueReply, OpRogueMalformed, OpAddClient, OpRawRequest, OpRawRequest, OpRawRead,
		OpPoll, OpPollServer, OpPollRaw, OpStrayConnect}
	if cfg.ServersConnect {
		// No server binds, so no stray connect; a second malformed reply
		// instead: the rogue's reconnects are where its handshake may
		// stall on a pipe that kept the REQ's requests (F6, F21).
		kinds[len(kinds)-1] = OpRogueMalformed
	}
	run(t, cfg, kinds, func(t *rapid.T, m *machine, op Op, before snapshot) { m.checkRawPeers(t) })
}

// rawClient is what checkRawPeers knows of one client.
type rawClient struct {
	sent, peer  string            // the latest request and the peer of the pipe it went to
	sentTo      map[string]string // every request's pipe's peer
	outstanding int
	// pipeGone: the pipe the request went out on was destroyed since (a
	// disconnect under IMMEDIATE=1 or of a binding REQ, F10, F21, or a
	// protocol error, F6), so the REQ may take the next well-formed
	// reply from any peer (F10).
	pipeGone bool
	// broken: its connection to the raw peer ended for a protocol error,
	// and the raw peer has not connected to it since.
	broken bool
	// rogueGaveUp: the raw peer's own session ended its connection to
	// the client for a protocol error (F21), so its connect() is over.
	rogueGaveUp bool
}

// isRogue says whether a client's pipe's peer, as the trace names it, is
// the raw peer: its endpoint when the client connects, its name when the
// raw peer connects to the client.
func isRogue(peer string) bool { return peer == RogueEndpoint || peer == RogueName }

// checkRawPeers judges the trace step by step, each reply against the
// requests sent when it was taken.
func (m *machine) checkRawPeers(t *rapid.T) {
	cfg := m.sys.Cfg.Client
	rogueConnects := m.sys.Cfg.ServersConnect
	if m.raw == nil {
		m.raw = map[string]*rawClient{}
	}
	for _, e := range m.fresh {
		name := e.Actor
		if e.Actor == RogueName {
			name = e.Peer // the raw peer's side of a client's connection
		}
		c := m.raw[name]
		if c == nil && m.isClient(name) {
			c = &rawClient{sentTo: map[string]string{}}
			m.raw[name] = c
		}
		if c == nil {
			continue
		}
		if e.Actor == RogueName {
			switch {
			case e.Kind == model.EventConnect && c.rogueGaveUp:
				m.fail(t, "raw peers: the raw peer connected to %s again after its own session ended their connection for a protocol error (F6, F21)", name)
			case e.Kind == model.EventConnect:
				c.broken = false // a new connection, which the REQ uses (F6)
			case e.Kind == model.EventDrop && e.Reason == "taken for a handshake command",
				e.Kind == model.EventError && e.Reason == model.AbortStalledRead:
				c.rogueGaveUp = true
			}
			continue
		}
		switch {
		case e.Kind == model.EventSend:
			if c.broken && isRogue(e.Peer) {
				if rogueConnects {
					m.fail(t, "raw peers: %s sent %s to the raw peer after a protocol error ended their connection, before the raw peer reconnected (F6, F23)", e.Actor, e.Msg)
				}
				m.fail(t, "raw peers: %s sent %s to the raw peer after a protocol error (F6)", e.Actor, e.Msg)
			}
			c.sent, c.peer, c.pipeGone = e.Msg, e.Peer, false
			c.sentTo[e.Msg] = e.Peer
			if c.outstanding++; c.outstanding > 1 && !cfg.ReqRelaxed {
				m.fail(t, "raw peers: %s sent %s with a request outstanding; a strict REQ allows one (F1)", e.Actor, e.Msg)
			}
		case e.Kind == model.EventReceive:
			switch got, ok := Answers(e.Msg); {
			case strings.HasPrefix(e.Msg, "malformed#"):
				m.fail(t, "raw peers: %s took %s, a reply without delimiter (F6)", e.Actor, e.Msg)
			case strings.HasPrefix(e.Msg, RogueName+"#") && cfg.ReqCorrelate:
				m.fail(t, "raw peers: %s took %s, which carries no request id, under REQ_CORRELATE (F7)", e.Actor, e.Msg)
			case strings.HasPrefix(e.Msg, RogueName+"#") && !isRogue(c.peer) && !c.pipeGone:
				m.fail(t, "raw peers: %s took %s from the raw peer, but sent its request %s to %s (F9)", e.Actor, e.Msg, c.sent, c.peer)
			case strings.HasPrefix(e.Msg, RogueName+"#"):
			case !ok || c.sentTo[got] == "":
				m.fail(t, "raw peers: %s took %s, which answers no request it sent (F9)", e.Actor, e.Msg)
			case got != c.sent && (!cfg.ReqRelaxed || cfg.ReqCorrelate):
				m.fail(t, "raw peers: %s took %s, but its request is %s (F7, F9)", e.Actor, e.Msg, c.sent)
			case c.sentTo[got] != c.peer && !c.pipeGone:
				m.fail(t, "raw peers: %s took %s from %s, but sent its latest request %s to %s (F9, F20)", e.Actor, e.Msg, c.sentTo[got], c.sent, c.peer)
			}
			c.outstanding = 0
		case e.Kind == model.EventDrop && strings.HasPrefix(e.Msg, "malformed#") && e.Reason != "malformed reply":
			m.fail(t, "raw peers: %s dropped %s as %q: a reply without delimiter must end the connection as it arrives (F6)", e.Actor, e.Msg, e.Reason)
		case e.Kind == model.EventDisconnect:
			if e.Peer == RogueName && strings.Contains(e.Reason, "protocol error") {
				c.broken = true
			}
			// The pipe ends with its connection under IMMEDIATE=1, for a
			// protocol error, and always on a binding REQ (F10, F21).
			ends := cfg.Immediate || e.Reason == "protocol error" || m.sys.Cfg.ServersConnect
			if ends && c.outstanding > 0 && c.peer == m.mirror.endpoint(e.Peer) {
				c.pipeGone = true
			}
		case e.Kind == model.EventConnect && e.Peer == RogueName && c.broken:
			m.fail(t, "raw peers: %s connected to the raw peer again after a protocol error (F6)", e.Actor)
		}
	}
}
