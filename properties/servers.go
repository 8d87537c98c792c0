package properties

import (
	"github.com/zeromq-lockstep/lockstep/model"

	"pgregory.net/rapid"
)

// ReconnectingServers: servers that connect to binding clients keep their
// pipes when a connection ends, unless IMMEDIATE, so what a pipe holds is
// still read and answered after the reconnect, and the answer reaches the
// client's next incarnation if the client restarted, which a plain REQ
// takes for the reply to its own request (F16); a pipe that is full when
// the next handshake ends stalls it, and the client's next message ends
// that connection for good (F21); with IMMEDIATE=1 the pipe ends with its
// connection and loses what it held (F22). Besides the checks of
// LockstepOrdering and LossOnRestart as they stand for connecting
// servers, the mirror judges every step; this property makes the steps
// that reach those states common: clients that mostly pipeline requests
// (REQ_RELAXED) into servers with small receive high-water marks, lost
// connections, disconnects and restarts.
//
//	rapid.Check(t, properties.ReconnectingServers)
func ReconnectingServers(t *rapid.T) { check("TestReconnectingServers", t) }

func reconnectingServers(t *rapid.T, mut model.Mutation) {
	cfg := drawConfig(t, mut)
	if !cfg.ServersConnect {
		serversConnect(t, &cfg)
	}
	cfg.Client.ReqRelaxed = rapid.IntRange(0, 3).Draw(t, "relaxed mostly") > 0
	cfg.Server.Immediate = rapid.IntRange(0, 3).Draw(t, "server immediate seldom") == 0
	cfg.Server.RcvHWM = rapid.IntRange(1, 3).Draw(t, "server rcvhwm")
	// Lost connections and restarts twice over, reads once: a pipe that
	// is full when a connection ends and still when the next one starts
	// stalls its handshake.
	kinds := []string{OpEnqueue, OpEnqueue, OpEnqueue, OpServe, OpCycle, OpReply, OpAdvance, OpAdvance, OpCut, OpCut, OpHeal,
		OpCrash, OpRestartClient, OpRestartClient, OpDisconnect, OpPollServer}
	run(t, cfg, kinds, func(t *rapid.T, m *machine, op Op, before snapshot) {
		m.checkMisuse(t)
		m.checkLockstep(t)
		m.checkLoss(t)
	})
}
