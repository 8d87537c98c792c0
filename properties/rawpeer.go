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
// pipe: it ends that connection for good, and the REQ neither reconnects
// to the peer nor sends it anything after (F6). A REP reads what follows
// a request's first delimiter, drops a request without one, and returns
// the envelope before it with the reply (F5, F15; checked by the mirror).
//
//	rapid.Check(t, properties.RawPeers)
func RawPeers(t *rapid.T) { check("TestRawPeers", t) }

func rawPeers(t *rapid.T, mut model.Mutation) {
	cfg := drawConfig(t, mut)
	mayGiveUp(t, &cfg)
	cfg.Rogue, cfg.RawClient = true, true
	cfg.ServersConnect = false // the raw client connects to the servers
	// Crashes and cuts twice over: F10's race comes when the pipe of an
	// outstanding request ends, and shows when a raw reply follows.
	kinds := []string{OpEnqueue, OpEnqueue, OpServe, OpCycle, OpReplyAfter, OpAdvance, OpCrash, OpCrash, OpCut,
		OpRogueRead, OpRogueReply, OpRogueReply, OpRogueMalformed, OpAddClient, OpRawRequest, OpRawRequest, OpRawRead,
		OpPoll, OpPollServer, OpPollRaw}
	run(t, cfg, kinds, func(t *rapid.T, m *machine, op Op, before snapshot) { m.checkRawPeers(t) })
}

// rawClient is what checkRawPeers knows of one client.
type rawClient struct {
	sent, peer  string            // the latest request and the endpoint it went to
	sentTo      map[string]string // every request's endpoint
	outstanding int
	// pipeGone: the pipe the request went out on was destroyed since (a
	// disconnect under IMMEDIATE=1, F21, or a protocol error, F6), so the
	// REQ may take the next well-formed reply from any peer (F10).
	pipeGone bool
	// broken: its connection to the raw peer had a protocol error.
	broken bool
}

// checkRawPeers judges the trace step by step, each reply against the
// requests sent when it was taken.
func (m *machine) checkRawPeers(t *rapid.T) {
	cfg := m.sys.Cfg.Client
	if m.raw == nil {
		m.raw = map[string]*rawClient{}
	}
	for _, e := range m.fresh {
		c := m.raw[e.Actor]
		if c == nil && m.isClient(e.Actor) {
			c = &rawClient{sentTo: map[string]string{}}
			m.raw[e.Actor] = c
		}
		if c == nil {
			continue
		}
		switch {
		case e.Kind == model.EventSend:
			if c.broken && e.Peer == RogueEndpoint {
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
			case strings.HasPrefix(e.Msg, RogueName+"#") && c.peer != RogueEndpoint && !c.pipeGone:
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
			ends := cfg.Immediate || e.Reason == "protocol error"
			if ends && c.outstanding > 0 && c.peer == m.mirror.endpoint(e.Peer) {
				c.pipeGone = true
			}
		case e.Kind == model.EventConnect && e.Peer == RogueName && c.broken:
			m.fail(t, "raw peers: %s connected to the raw peer again after a protocol error (F6)", e.Actor)
		}
	}
}
