package properties

import (
	"fmt"
	"time"

	"github.com/zeromq-lockstep/lockstep/model"

	"pgregory.net/rapid"
)

// Op is one generated operation. Ops are data, so a run can be logged,
// replayed on a second system (Determinism) and printed by `lockstep replay`.
type Op struct {
	Kind   string
	Client int // index into System.Clients
	Server int // index into System.Servers
	D      time.Duration
	// Reverse: a cut or heal comes from the server's end of the link.
	Reverse bool
	// Shape is the frames of a raw request (RawShapes).
	Shape int
}

// The operation kinds.
const (
	OpEnqueue    = "enqueue"     // a client sends through its application queue
	OpSend       = "send"        // a client calls send on its socket (misuse while awaiting)
	OpRecv       = "recv"        // a client calls recv on its socket (misuse when idle)
	OpServe      = "serve"       // a server reads a request (misuse while holding)
	OpReply      = "reply"       // a server answers now (misuse with nothing read)
	OpReplyAfter = "reply-after" // a server answers after D
	OpAdvance    = "advance"     // D of virtual time passes
	OpCrash      = "crash"       // a server crashes and restarts after D
	OpCut        = "cut"         // the link between a client and a server is cut, healed after D
	OpHeal       = "heal"        // a cut link is healed now
	OpAddServer  = "add-server"  // a server joins (new clients connect to it)
	OpAddClient  = "add-client"  // a client joins, connected to every server
	// OpRestartClient: a client process dies, its queue with it, and starts
	// again under its own name with a new REQ.
	OpRestartClient = "restart-client"
	// The rogue peer (Config.Rogue) reads a request, sends a well-formed
	// reply of its own to its next pipe, or sends one without delimiter.
	OpRogueRead      = "rogue-read"
	OpRogueReply     = "rogue-reply"
	OpRogueMalformed = "rogue-malformed"
	OpRetry          = "retry" // a Lazy Pirate client resends after its timeout
	OpCycle          = "cycle" // a server answers what it holds, then reads the next request
	// The raw client (Config.RawClient), a DEALER connected to every
	// server (under Config.ServersConnect, bound, every server connected
	// to it), sends a request of one of RawShapes or reads a reply.
	OpRawRequest = "raw-request"
	OpRawRead    = "raw-read"
	// OpPoll, OpPollServer and OpPollRaw ask a client's, a server's or a
	// raw peer's socket for ZMQ_EVENTS (F3), which libzmq answers from
	// its rotations, taking the socket's commands first (World.Poll).
	// OpPollRaw's Client is 0 for the rogue peer, 1 for the raw client.
	OpPoll       = "poll"
	OpPollServer = "poll-server"
	OpPollRaw    = "poll-raw"
	// OpDisconnect: a client calls zmq_disconnect on a server's endpoint
	// and connects to it again after D (F10, F21, F22).
	OpDisconnect = "disconnect"
	// OpStrayConnect: a server connects to another server's endpoint, a
	// REP to a REP, which ZMTP refuses, and disconnects after D (RFC 28,
	// F23); where the servers bind.
	OpStrayConnect = "stray-connect"
)

func (o Op) String() string {
	switch o.Kind {
	case OpEnqueue, OpSend, OpRecv, OpRetry, OpRestartClient:
		return fmt.Sprintf("%s c%d", o.Kind, o.Client+1)
	case OpPoll:
		return fmt.Sprintf("poll c%d", o.Client+1)
	case OpPollServer:
		return fmt.Sprintf("poll s%d", o.Server+1)
	case OpPollRaw:
		return fmt.Sprintf("poll r%d", o.Client%2+1)
	case OpDisconnect:
		return fmt.Sprintf("%s c%d s%d %v", o.Kind, o.Client+1, o.Server+1, o.D)
	case OpServe, OpReply, OpCycle:
		return fmt.Sprintf("%s s%d", o.Kind, o.Server+1)
	case OpReplyAfter, OpCrash, OpStrayConnect:
		return fmt.Sprintf("%s s%d %v", o.Kind, o.Server+1, o.D)
	case OpAdvance:
		return fmt.Sprintf("%s %v", o.Kind, o.D)
	case OpCut, OpHeal:
		ends := fmt.Sprintf("c%d s%d", o.Client+1, o.Server+1)
		if o.Reverse {
			ends = fmt.Sprintf("s%d c%d", o.Server+1, o.Client+1)
		}
		if o.Kind == OpHeal {
			return o.Kind + " " + ends
		}
		return fmt.Sprintf("%s %s %v", o.Kind, ends, o.D)
	case OpRawRequest:
		return fmt.Sprintf("%s %s", o.Kind, RawShapes[o.Shape%len(RawShapes)].name)
	default:
		return o.Kind
	}
}

// Apply performs o; indices out of range (a client that no longer fits)
// make it a no-op, so a shrunk sequence stays valid.
func (s *System) Apply(o Op) {
	var c *Client
	var srv *Server
	if o.Client < len(s.Clients) {
		c = s.Clients[o.Client]
	}
	if o.Server < len(s.Servers) {
		srv = s.Servers[o.Server]
	}
	switch {
	case o.Kind == OpEnqueue && c != nil:
		s.Enqueue(c)
	case o.Kind == OpSend && c != nil:
		_ = s.SendDirect(c)
	case o.Kind == OpRecv && c != nil:
		_ = s.RecvDirect(c)
	case o.Kind == OpRetry && c != nil:
		s.Retry(c)
	case o.Kind == OpRestartClient && c != nil:
		s.RestartClient(c)
	case o.Kind == OpRogueRead && s.Cfg.Rogue:
		s.RogueRead()
	case o.Kind == OpRogueReply && s.Cfg.Rogue:
		s.RogueSend(true)
	case o.Kind == OpRogueMalformed && s.Cfg.Rogue:
		s.RogueSend(false)
	case o.Kind == OpRawRequest && s.Cfg.RawClient:
		s.RawRequest(o.Shape)
	case o.Kind == OpRawRead && s.Cfg.RawClient:
		s.RawRead()
	case o.Kind == OpPoll && c != nil:
		s.Poll(c.Name)
	case o.Kind == OpPollServer && srv != nil && srv.Up:
		s.Poll(srv.Name)
	case o.Kind == OpPollRaw && o.Client%2 == 0 && s.Cfg.Rogue:
		s.Poll(RogueName)
	case o.Kind == OpPollRaw && o.Client%2 == 1 && s.Cfg.RawClient:
		s.Poll(RawName)
	case o.Kind == OpDisconnect && c != nil && srv != nil:
		s.Disconnect(c, srv, o.D)
	case o.Kind == OpServe && srv != nil:
		s.Serve(srv)
	case o.Kind == OpReply && srv != nil:
		s.Reply(srv)
	case o.Kind == OpCycle && srv != nil:
		if srv.Holding {
			s.Reply(srv)
		}
		s.Serve(srv)
	case o.Kind == OpStrayConnect && srv != nil:
		s.StrayConnect(srv, o.D)
	case o.Kind == OpReplyAfter && srv != nil:
		s.ReplyAfter(srv, o.D)
	case o.Kind == OpAdvance:
		s.Advance(o.D)
	case o.Kind == OpCrash && srv != nil:
		s.Crash(srv, o.D)
	case o.Kind == OpCut && c != nil && srv != nil:
		s.Cut(c, srv, o.D, o.Reverse)
	case o.Kind == OpHeal && c != nil && srv != nil:
		s.Heal(c, srv, o.Reverse)
	case o.Kind == OpAddServer && len(s.Servers) < MaxServers:
		s.AddServer()
	case o.Kind == OpAddClient && len(s.Clients) < MaxClients:
		s.AddClient()
	}
}

// Limits on a generated system, to keep sequences small and shrinkable.
const (
	MaxServers = 3
	MaxClients = 3
)

// drawOp draws one operation of the given kind.
func drawOp(t *rapid.T, kind string) Op {
	o := Op{Kind: kind}
	switch kind {
	case OpEnqueue, OpSend, OpRecv, OpRetry, OpRestartClient, OpPoll:
		o.Client = rapid.IntRange(0, MaxClients-1).Draw(t, "client")
	case OpPollRaw:
		o.Client = rapid.IntRange(0, 1).Draw(t, "raw peer")
	case OpDisconnect:
		o.Client = rapid.IntRange(0, MaxClients-1).Draw(t, "client")
		o.Server = rapid.IntRange(0, MaxServers-1).Draw(t, "server")
		o.D = time.Duration(rapid.IntRange(1, 3000).Draw(t, "away_ms")) * time.Millisecond
	case OpServe, OpReply, OpCycle, OpPollServer:
		o.Server = rapid.IntRange(0, MaxServers-1).Draw(t, "server")
	case OpReplyAfter:
		o.Server = rapid.IntRange(0, MaxServers-1).Draw(t, "server")
		o.D = time.Duration(rapid.IntRange(1, 2000).Draw(t, "delay_ms")) * time.Millisecond
	case OpStrayConnect:
		// Long enough for a few refusals and retries (F23), short enough
		// that the retries cost little.
		o.Server = rapid.IntRange(0, MaxServers-1).Draw(t, "server")
		o.D = time.Duration(rapid.IntRange(1, 1000).Draw(t, "stray_ms")) * time.Millisecond
	case OpAdvance:
		// Mostly milliseconds, sometimes days: the queue must not care.
		if rapid.IntRange(0, 9).Draw(t, "scale") == 0 {
			o.D = time.Duration(rapid.IntRange(1, 30).Draw(t, "days")) * 24 * time.Hour
		} else {
			o.D = time.Duration(rapid.IntRange(1, 1500).Draw(t, "ms")) * time.Millisecond
		}
	case OpCrash, OpCut:
		// Every fault ends by itself: a server that stayed down, or a link
		// that stayed cut, while days pass would retry every 100-199ms
		// (F23), millions of events that test nothing new.
		if kind == OpCrash {
			o.Server = rapid.IntRange(0, MaxServers-1).Draw(t, "server")
		} else {
			o.Client = rapid.IntRange(0, MaxClients-1).Draw(t, "client")
			o.Server = rapid.IntRange(0, MaxServers-1).Draw(t, "server")
			o.Reverse = rapid.Bool().Draw(t, "from the server")
		}
		o.D = time.Duration(rapid.IntRange(1, 3000).Draw(t, "down_ms")) * time.Millisecond
	case OpHeal:
		o.Client = rapid.IntRange(0, MaxClients-1).Draw(t, "client")
		o.Server = rapid.IntRange(0, MaxServers-1).Draw(t, "server")
		o.Reverse = rapid.Bool().Draw(t, "from the server")
	case OpRawRequest:
		o.Shape = rapid.IntRange(0, len(RawShapes)-1).Draw(t, "shape")
	}
	return o
}

// The values drawn for RECONNECT_IVL and RECONNECT_IVL_MAX (zero: the
// default of 100ms, and no maximum).
var (
	reconnectIvls    = []time.Duration{0, 0, 20 * time.Millisecond, 300 * time.Millisecond}
	reconnectIvlMaxs = []time.Duration{0, 0, 100 * time.Millisecond, time.Second}
)

// drawConfig draws a run's options: every socket option the model knows
// (ReqRelaxed, ReqCorrelate, Immediate, both high-water marks down to 1
// and up to 3, the least whose LWM of (HWM+1)/2 is not 1, so that a
// writer's lag in learning of reads shows (F18); the reconnect interval
// and its maximum; the raw peers' high-water marks), which side binds
// (the servers' IMMEDIATE and reconnect options when they connect),
// whether the property answers choices out of range, and the number of
// processes. RECONNECT_IVL=-1 is drawn by mayGiveUp, for the
// properties whose rules say what it leaves undone.
func drawConfig(t *rapid.T, mut model.Mutation) Config {
	cfg := Config{
		Mutation: mut,
		Seed:     rapid.Uint64().Draw(t, "seed"),
		Servers:  rapid.IntRange(1, 2).Draw(t, "servers"),
		Clients:  rapid.IntRange(1, 2).Draw(t, "clients"),
	}
	cfg.Client.ReqRelaxed = rapid.Bool().Draw(t, "relaxed")
	cfg.Client.ReqCorrelate = rapid.Bool().Draw(t, "correlate")
	cfg.Client.Immediate = rapid.Bool().Draw(t, "immediate")
	cfg.Client.SndHWM = rapid.SampledFrom([]int{0, 1, 2, 3}).Draw(t, "sndhwm")
	cfg.Client.RcvHWM = rapid.SampledFrom([]int{0, 1, 2, 3}).Draw(t, "rcvhwm")
	cfg.Client.ReconnectIvl = rapid.SampledFrom(reconnectIvls).Draw(t, "reconnect ivl")
	cfg.Client.ReconnectIvlMax = rapid.SampledFrom(reconnectIvlMaxs).Draw(t, "reconnect ivl max")
	cfg.Server.SndHWM = rapid.SampledFrom([]int{0, 1, 2, 3}).Draw(t, "server sndhwm")
	cfg.Server.RcvHWM = rapid.SampledFrom([]int{0, 1, 2, 3}).Draw(t, "server rcvhwm")
	// A third of the runs have the servers connect: their REPs' pipes
	// then survive a lost connection (IMMEDIATE=0) and may be full when
	// the next handshake ends (F21).
	if rapid.IntRange(0, 2).Draw(t, "servers connect") == 0 {
		serversConnect(t, &cfg)
	}
	cfg.RogueOptions.SndHWM = rapid.SampledFrom([]int{0, 1, 2, 3}).Draw(t, "raw sndhwm")
	cfg.RogueOptions.RcvHWM = rapid.SampledFrom([]int{0, 1, 2, 3}).Draw(t, "raw rcvhwm")
	cfg.WrapChoices = rapid.Bool().Draw(t, "wrap choices")
	return cfg
}

// serversConnect has the clients bind and the servers connect, and draws
// the options that then matter on the servers' side: IMMEDIATE and the
// reconnect interval and its maximum (F21, F23).
func serversConnect(t *rapid.T, cfg *Config) {
	cfg.ServersConnect = true
	cfg.Server.Immediate = rapid.Bool().Draw(t, "server immediate")
	cfg.Server.ReconnectIvl = rapid.SampledFrom(reconnectIvls).Draw(t, "server reconnect ivl")
	cfg.Server.ReconnectIvlMax = rapid.SampledFrom(reconnectIvlMaxs).Draw(t, "server reconnect ivl max")
}

// mayGiveUp sometimes sets RECONNECT_IVL=-1: a connect() that fails or
// loses its connection never tries again (F23).
func mayGiveUp(t *rapid.T, cfg *Config) {
	if rapid.IntRange(0, 4).Draw(t, "give up") == 0 {
		cfg.Client.ReconnectIvl = model.NoReconnect
	}
}
