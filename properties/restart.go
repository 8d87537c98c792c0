package properties

import (
	"fmt"
	"slices"

	"github.com/zeromq-lockstep/lockstep/model"
	"github.com/zeromq-lockstep/lockstep/trace"

	"pgregory.net/rapid"
)

// LossOnRestart: a request that a server held when it crashed is never
// answered and never read again, and a strict REQ whose request was lost
// never receives another reply (a relaxed one under REQ_CORRELATE none
// until it sends again); a request still in the client's pipe is
// delivered to the restarted server, and nothing else is lost, but under
// RECONNECT_IVL=-1 a request may wait for good in a pipe whose connection
// ended (F19, F20, F21, F22, F23).
//
//	rapid.Check(t, properties.LossOnRestart)
func LossOnRestart(t *rapid.T) { check("TestLossOnRestart", t) }

func lossOnRestart(t *rapid.T, mut model.Mutation) {
	cfg := drawConfig(t, mut)
	mayGiveUp(t, &cfg)
	kinds := []string{OpEnqueue, OpEnqueue, OpServe, OpCycle, OpReply, OpReplyAfter, OpAdvance, OpCrash, OpCrash, OpCut, OpHeal, OpRestartClient,
		OpDisconnect, OpPollServer, OpStrayConnect}
	m := run(t, cfg, kinds, func(t *rapid.T, m *machine, op Op, before snapshot) {
		m.checkLoss(t)
	})
	m.sys.Quiesce()
	m.led.Update(m.sys.Trace())
	m.checkLoss(t)
	t.Logf("after quiesce at %v", m.sys.Sim.Now())
	for _, c := range m.sys.Clients {
		// F23: RECONNECT_IVL=-1 leaves requests in pipes whose connection
		// ended; nothing else may wait once every server is back.
		stuck := 0
		if st, err := m.sys.W.State(c.Name); err == nil && cfg.Client.ReconnectIvl < 0 {
			for _, p := range st.Pipes {
				if !p.Connected {
					stuck += p.Out
				}
			}
		}
		unaccounted := 0
		for _, body := range m.led.Sent[c.Name] {
			_, dropped := m.led.Dropped[body]
			if !dropped && !m.led.LostHeld[body] && m.led.DeliveredCount[body] == 0 {
				if unaccounted++; unaccounted > stuck {
					m.fail(t, "restart: %s's request %s was neither delivered nor reported lost (F21, F22)", c.Name, body)
				}
			}
		}
		// Liveness: a REQ whose latest request survived gets its reply,
		// unless that request waits in a dead pipe.
		if _, lost := m.led.LostAt[c.Name]; !lost && m.led.SinceReceive[c.Name] > 0 && unaccounted == 0 {
			m.fail(t, "restart: %s's request %s was not lost, yet it is unanswered after every server came back", c.Name, m.led.LastSent(c.Name))
		}
	}
}

func (m *machine) checkLoss(t *rapid.T) {
	if len(m.led.Resurrected) > 0 {
		m.fail(t, "restart: request %s was read again after it was lost: libzmq never resends (F19, F22)", m.led.Resurrected[0])
	}
	for _, c := range m.sys.Clients {
		for _, r := range m.led.Received[c.Name] {
			if req, ok := Answers(r); ok && m.led.LostHeld[req] {
				m.fail(t, "restart: %s received %s, an answer to a request lost in a crash (F19)", c.Name, r)
			}
		}
		if from, reborn := m.led.Reborn[c.Name]; reborn {
			// Each reply is judged once, against the requests as they
			// stood when it was taken.
			from = max(from, m.judged[c.Name])
			for k, r := range m.led.Received[c.Name][from:] {
				n := m.led.SentByReceive[c.Name][from+k]
				if req, ok := Answers(r); ok && m.led.Orphaned[req] && !m.inherits(c.Name, req, n, r) {
					m.fail(t, "restart: %s took %s, the answer to a request of its dead predecessor (F16)", c.Name, r)
				}
			}
		}
		m.judged[c.Name] = len(m.led.Received[c.Name])
		// A relaxed REQ without REQ_CORRELATE may still take a late reply
		// to an earlier request (F20); the ledger forgets the loss when a
		// relaxed REQ sends again.
		n, lost := m.led.LostAt[c.Name]
		if lost && (!m.sys.Cfg.Client.ReqRelaxed || m.sys.Cfg.Client.ReqCorrelate) && len(m.led.Received[c.Name]) > n {
			m.fail(t, "restart: %s lost its request, yet received %s; it waits until it sends again, a strict REQ forever (F19, F20)", c.Name, m.led.Received[c.Name][n])
		}
	}
}

// inherits says whether the REQ of client may take the answer to req, an
// earlier request of its own or of a dead predecessor's, as the reply to
// its latest request when it had sent n, with reply. Only where the
// servers connect without IMMEDIATE:
// their pipes outlive the connection, and so the client, and carry the
// requests they hold and the replies to them to the client's next
// incarnation (F16, F21), which takes the first for its own and is from
// then on one reply behind; and only from the server its latest request
// went to (F9) unless that pipe had gone and the REQ forgot it (F10),
// and under REQ_CORRELATE only if the two requests' ids are
// the same (F7: libzmq draws the first at random, rapid often draws the
// same).
func (m *machine) inherits(client, req string, n int, reply string) bool {
	cfg := m.sys.Cfg
	if !cfg.ServersConnect || cfg.Server.Immediate || n == 0 {
		return false
	}
	sent, peers := m.led.Sent[client][:n], m.led.SentPeers[client][:n]
	i := slices.Index(sent, req)
	if i < 0 || peers[i] != peers[n-1] && !m.mirror.anyPipe[reply] {
		return false
	}
	if !cfg.Client.ReqCorrelate {
		return true
	}
	ids := m.mirror.ids[sent[n-1]]
	return len(ids) > 0 && slices.Contains(m.mirror.ids[req], ids[len(ids)-1])
}

// LazyPirate: with ReqRelaxed and ReqCorrelate, a client that resends after
// a timeout gets every request answered, possibly more than once, and never
// takes a stale reply for the current one (F7, F20; zguide ch. 4).
//
//	rapid.Check(t, properties.LazyPirate)
func LazyPirate(t *rapid.T) { check("TestLazyPirate", t) }

func lazyPirate(t *rapid.T, mut model.Mutation) {
	cfg := drawConfig(t, mut)
	cfg.Pirate, cfg.Client.ReqRelaxed, cfg.Client.ReqCorrelate = true, true, true
	// A connecting REP whose handshake stalls on a full pipe never
	// reconnects to that client (F21), which no resend can undo.
	cfg.ServersConnect = false
	kinds := []string{OpEnqueue, OpEnqueue, OpServe, OpCycle, OpReply, OpReplyAfter, OpAdvance, OpCrash, OpCut, OpHeal, OpRetry, OpRetry,
		OpDisconnect, OpPoll, OpPollServer}
	check := func(t *rapid.T, m *machine) {
		for _, c := range m.sys.Clients {
			rec := m.led.Received[c.Name]
			if len(rec) == 0 || m.led.SinceReceive[c.Name] > 0 {
				continue
			}
			if got, _ := Answers(rec[len(rec)-1]); got != m.led.LastSent(c.Name) {
				m.fail(t, "pirate: %s took %s for its current request %s: a stale reply (F7)", c.Name, rec[len(rec)-1], m.led.LastSent(c.Name))
			}
		}
	}
	m := run(t, cfg, kinds, func(t *rapid.T, m *machine, op Op, before snapshot) {
		m.checkLockstep(t) // the rules of lockstep as they stand for a Lazy Pirate
		check(t, m)
	})
	m.sys.Quiesce()
	m.led.Update(m.sys.Trace())
	check(t, m)
	for _, c := range m.sys.Clients {
		answered := map[string]bool{}
		for _, r := range m.led.Received[c.Name] {
			if req, ok := Answers(r); ok {
				answered[req] = true
			}
		}
		for _, body := range c.Enqueued {
			if !answered[body] {
				m.fail(t, "pirate: %s's request %s was never answered, though every server came back (F20)", c.Name, body)
			}
		}
	}
}

// Determinism: the same configuration and operations give the same trace,
// byte for byte.
//
//	rapid.Check(t, properties.Determinism)
func Determinism(t *rapid.T) { check("TestDeterminism", t) }

func determinism(t *rapid.T, mut model.Mutation) {
	cfg := drawConfig(t, mut)
	mayGiveUp(t, &cfg)
	cfg.Rogue = rapid.Bool().Draw(t, "rogue")
	cfg.RawClient = rapid.Bool().Draw(t, "raw client")
	kinds := []string{OpEnqueue, OpSend, OpRecv, OpServe, OpCycle, OpReply, OpReplyAfter, OpAdvance, OpCrash, OpCut, OpHeal, OpAddServer, OpAddClient,
		OpRestartClient, OpRogueRead, OpRogueReply, OpRogueMalformed, OpRawRequest, OpRawRead, OpPoll, OpPollServer, OpPollRaw, OpDisconnect, OpStrayConnect}
	m := run(t, cfg, kinds, func(*rapid.T, *machine, Op, snapshot) {})
	again := NewSystem(cfg)
	choices := append([]int(nil), m.choices...)
	again.Sim.SetChooser(model.ChooserFunc(func(c model.Choice, n int) int {
		if len(choices) == 0 {
			m.fail(t, "determinism: the second run asked for more choices than the first (%s)", c)
		}
		k := choices[0]
		choices = choices[1:]
		return k
	}))
	for _, op := range m.ops {
		again.Apply(op)
	}
	// Events compare field by field, at the simulator's nanoseconds,
	// which is stricter than the jsonl's microseconds and needs no
	// rendering.
	if a, b := m.sys.Trace(), again.Trace(); !slices.Equal(a, b) {
		m.fail(t, "determinism: two runs of the same %d operations differ:\n%s", len(m.ops), firstDiff(a, b))
	}
}

// firstDiff says where two traces first differ, with both events in
// full.
func firstDiff(a, b []trace.Event) string {
	for i := 0; i < max(len(a), len(b)); i++ {
		var x, y string
		if i < len(a) {
			x = fmt.Sprintf("%+v", a[i])
		}
		if i < len(b) {
			y = fmt.Sprintf("%+v", b[i])
		}
		if x != y {
			return "event " + itoa(i+1) + ":\n  first:  " + x + "\n  second: " + y
		}
	}
	return "(no difference)"
}
