package properties

import (
	"slices"

	"github.com/zeromq-lockstep/lockstep/model"

	"pgregory.net/rapid"
)

// LockstepOrdering: a REQ has at most one request outstanding, misuse gets
// EFSM and changes nothing, every reply a client takes answers its latest
// request (a relaxed REQ's, one it sent on the same pipe), each server
// reads each client's requests in the order that client sent them,
// nothing is duplicated, and every send and receive goes to the pipe
// libzmq's rotations give, whatever the options (F1, F2, F7, F8, F9, F14,
// F15, F20; the rotations are checked by the mirror, as in every property).
//
//	rapid.Check(t, properties.LockstepOrdering)
func LockstepOrdering(t *rapid.T) { check("TestLockstepOrdering", t) }

func lockstepOrdering(t *rapid.T, mut model.Mutation) {
	cfg := drawConfig(t, mut)
	mayGiveUp(t, &cfg)
	kinds := []string{OpEnqueue, OpEnqueue, OpSend, OpRecv, OpServe, OpCycle, OpCycle, OpReply, OpReplyAfter, OpAdvance, OpCrash,
		OpCut, OpHeal, OpRestartClient, OpAddServer, OpAddClient, OpPoll, OpPollServer, OpDisconnect, OpStrayConnect}
	run(t, cfg, kinds, func(t *rapid.T, m *machine, op Op, before snapshot) {
		m.checkMisuse(t)
		m.checkLockstep(t)
	})
}

func (m *machine) checkLockstep(t *rapid.T) {
	cfg := m.sys.Cfg
	strict := !cfg.Client.ReqRelaxed && !cfg.Profile.ReqNotStrict
	for _, c := range m.sys.Clients {
		// F1: one request at a time.
		if n := m.led.SinceReceive[c.Name]; strict && n > 1 {
			m.fail(t, "lockstep: %s has %d requests outstanding; a strict REQ allows one (F1)", c.Name, n)
		}
		// F7, F9: the reply taken answers the latest request. Relaxed
		// without correlate may take a late reply to an earlier one (F20),
		// but only from the pipe its latest request went out on (F9),
		// unless that pipe ended and F10 forgot it.
		rec := m.led.Received[c.Name]
		if len(rec) > 0 {
			got, ok := Answers(rec[len(rec)-1])
			sent := m.led.Sent[c.Name]
			taken := m.led.SinceReceive[c.Name] == 0 && len(rec) > m.led.Reborn[c.Name] // by this REQ, with nothing sent since
			switch i := slices.Index(sent, got); {
			case !ok:
				m.fail(t, "lockstep: %s took %q, which answers no request (F5, F7)", c.Name, rec[len(rec)-1])
			case strict || cfg.Client.ReqCorrelate:
				if got != m.led.LastSent(c.Name) && taken && !m.inherits(c.Name, got, len(sent), rec[len(rec)-1]) {
					m.fail(t, "lockstep: %s took reply %q, but its latest request is %q (F7, F9)", c.Name, rec[len(rec)-1], m.led.LastSent(c.Name))
				}
			case i < 0:
				m.fail(t, "lockstep: %s took reply %q to a request it never sent (F20)", c.Name, rec[len(rec)-1])
			case taken && !m.mirror.tookAny(c.Name):
				if peers := m.led.SentPeers[c.Name]; peers[i] != peers[len(peers)-1] {
					m.fail(t, "lockstep: %s took reply %q from %s, but its latest request %s went to %s (F9, F20)", c.Name, rec[len(rec)-1], peers[i], m.led.LastSent(c.Name), peers[len(peers)-1])
				}
			}
		}
		// Nothing duplicated: a reply is taken at most once, also by a
		// Lazy Pirate, whose resends carry new request ids (F7, F20).
		seen := map[string]bool{}
		for _, r := range rec {
			if seen[r] {
				m.fail(t, "lockstep: %s received %q twice", c.Name, r)
			}
			seen[r] = true
		}
	}
	// F14: each pipe is read in the order it was written, which the
	// mirror checks per pipe: a connection that ends leaves the server's
	// pipe readable (F16) beside the next connection's, so one client's
	// requests may be read out of order across its connections.
	// Nothing duplicated: no request is read more often than it was
	// sent; only a Lazy Pirate sends one twice.
	sends := map[string]int{}
	for _, c := range m.sys.Clients {
		for _, body := range m.led.Sent[c.Name] {
			sends[body]++
		}
	}
	for body, n := range m.led.DeliveredCount {
		if n > sends[body] {
			m.fail(t, "lockstep: request %s was read %d times but sent %d", body, n, sends[body])
		}
	}
}
