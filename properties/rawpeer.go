package properties

import (
	"fmt"
	"strings"

	"github.com/zeromq-lockstep/lockstep/app"
	"github.com/zeromq-lockstep/lockstep/model"

	"pgregory.net/rapid"
)

// RawPeers: strict REQs that are connected, besides REP servers, to a raw
// peer that sends replies of its own invention, well-formed or without a
// delimiter, to whichever pipe is next. A REQ takes such a reply only as
// the answer to a request it sent that peer, and never under
// REQ_CORRELATE, whose id the peer does not echo (F7, F9), unless the
// pipe of its request is gone and the REQ forgot it (F10); otherwise its
// replies answer its latest request, one at a time (F1). A reply without
// a delimiter ends that connection for good: the REQ neither reconnects
// to the peer nor sends it anything after (F6).
//
//	rapid.Check(t, properties.RawPeers)
func RawPeers(t *rapid.T) { check("TestRawPeers", t) }

func rawPeers(t *rapid.T, mut model.Mutation) {
	cfg := drawConfig(t, mut)
	cfg.Rogue, cfg.Client.ReqRelaxed = true, false
	kinds := []string{OpEnqueue, OpEnqueue, OpServe, OpCycle, OpReplyAfter, OpAdvance, OpCrash,
		OpRogueRead, OpRogueReply, OpRogueReply, OpRogueMalformed, OpAddClient}
	run(t, cfg, kinds, func(t *rapid.T, m *machine, op Op, before snapshot) { m.checkRawPeers(t) })
}

// checkRawPeers judges the whole trace so far, each reply against the
// request outstanding when it was taken.
func (m *machine) checkRawPeers(t *rapid.T) {
	correlate := m.sys.Cfg.Client.ReqCorrelate
	type client struct {
		sent, peer  string // the latest request and the endpoint it went to
		outstanding int
		// pipeGone: the pipe the request went out on was destroyed
		// since (a disconnect under IMMEDIATE=1, F21), so the REQ may
		// take the next well-formed reply from any peer (F10).
		pipeGone bool
	}
	immediate := m.sys.Cfg.Client.Immediate
	clients := map[string]*client{}
	broken := map[string]bool{} // clients whose connection to the raw peer had a protocol error
	for _, e := range m.sys.Trace() {
		c := clients[e.Actor]
		if c == nil {
			c = &client{}
			clients[e.Actor] = c
		}
		switch {
		case e.Kind == model.EventSend:
			if broken[e.Actor] && e.Peer == RogueEndpoint {
				m.fail(t, "raw peers: %s sent %s to the raw peer after a protocol error (F6)", e.Actor, e.Msg)
			}
			c.sent, c.peer, c.pipeGone = e.Msg, e.Peer, false
			if c.outstanding++; c.outstanding > 1 {
				m.fail(t, "raw peers: %s sent %s with a request outstanding; a strict REQ allows one (F1)", e.Actor, e.Msg)
			}
		case e.Kind == model.EventReceive:
			switch got, ok := Answers(e.Msg); {
			case strings.HasPrefix(e.Msg, "malformed#"):
				m.fail(t, "raw peers: %s took %s, a reply without delimiter (F6)", e.Actor, e.Msg)
			case strings.HasPrefix(e.Msg, "rogue#") && correlate:
				m.fail(t, "raw peers: %s took %s, which carries no request id, under REQ_CORRELATE (F7)", e.Actor, e.Msg)
			case strings.HasPrefix(e.Msg, "rogue#") && c.peer != RogueEndpoint && !c.pipeGone:
				m.fail(t, "raw peers: %s took %s from the raw peer, but sent its request %s to %s (F9)", e.Actor, e.Msg, c.sent, c.peer)
			case !strings.HasPrefix(e.Msg, "rogue#") && (!ok || got != c.sent):
				m.fail(t, "raw peers: %s took %s, but its request is %s (F9)", e.Actor, e.Msg, c.sent)
			}
			c.outstanding = 0
		case e.Kind == model.EventDisconnect:
			if e.Peer == RogueName && strings.Contains(e.Reason, "protocol error") {
				broken[e.Actor] = true
			}
			if immediate && c.outstanding > 0 && c.peer == fmt.Sprintf("tcp://%s:%d", e.Peer, app.ServerPort) {
				c.pipeGone = true
			}
		case e.Kind == model.EventConnect && e.Peer == RogueName && broken[e.Actor]:
			m.fail(t, "raw peers: %s connected to the raw peer again after a protocol error (F6)", e.Actor)
		}
	}
}
