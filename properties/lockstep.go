package properties

import (
	"slices"

	"github.com/zeromq-lockstep/lockstep/model"

	"pgregory.net/rapid"
)

// LockstepOrdering: a REQ has at most one request outstanding, misuse gets
// EFSM and changes nothing, every reply a client takes answers its latest
// request, each server reads each client's requests in the order that
// client sent them, nothing is duplicated, and with several servers a
// client's requests go round-robin in connect order (F1, F2, F7, F8, F9,
// F14, F15).
//
//	rapid.Check(t, properties.LockstepOrdering)
func LockstepOrdering(t *rapid.T) { check("TestLockstepOrdering", t) }

func lockstepOrdering(t *rapid.T, mut model.Mutation) {
	cfg := drawConfig(t, mut)
	kinds := []string{OpEnqueue, OpEnqueue, OpSend, OpRecv, OpServe, OpCycle, OpCycle, OpReply, OpReplyAfter, OpAdvance, OpCrash, OpAddServer, OpAddClient}
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
		// but still only a reply to a request this client sent.
		rec := m.led.Received[c.Name]
		if len(rec) > 0 {
			got, ok := Answers(rec[len(rec)-1])
			switch {
			case !ok:
				m.fail(t, "lockstep: %s took %q, which answers no request (F5, F7)", c.Name, rec[len(rec)-1])
			case strict || cfg.Client.ReqCorrelate:
				if got != m.led.LastSent(c.Name) && m.led.SinceReceive[c.Name] == 0 {
					m.fail(t, "lockstep: %s took reply %q, but its latest request is %q (F7, F9)", c.Name, rec[len(rec)-1], m.led.LastSent(c.Name))
				}
			default:
				if !slices.Contains(m.led.Sent[c.Name], got) {
					m.fail(t, "lockstep: %s took reply %q to a request it never sent (F20)", c.Name, rec[len(rec)-1])
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
		// F8: round-robin in connect order, when every pipe persists and
		// none can be full.
		if !cfg.Client.Immediate && cfg.Client.SndHWM == 0 && len(c.Endpoints) > 1 {
			for i, peer := range m.led.SentPeers[c.Name] {
				if want := c.Endpoints[i%len(c.Endpoints)]; peer != want {
					m.fail(t, "lockstep: %s's request %d went to %s, want %s: round-robin in connect order (F8)", c.Name, i, peer, want)
				}
			}
		}
	}
	// F14, F15: per server and client, requests are read in sending order,
	// and no request is read twice.
	for _, srv := range m.sys.Servers {
		last := map[string]int{}
		for _, body := range m.led.Delivered[srv.Name] {
			client, k, ok := ParseRequest(body)
			if !ok {
				continue
			}
			if prev, seen := last[client]; seen && k <= prev && !(cfg.Pirate && k == prev) {
				m.fail(t, "lockstep: %s read %s after %s#%d: out of the order %s sent them (F14)", srv.Name, body, client, prev, client)
			}
			last[client] = k
		}
	}
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
