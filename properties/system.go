package properties

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/zeromq-lockstep/lockstep/app"
	"github.com/zeromq-lockstep/lockstep/model"
	"github.com/zeromq-lockstep/lockstep/sim"
	"github.com/zeromq-lockstep/lockstep/trace"
)

// Config is what a run draws before its first operation.
type Config struct {
	Seed    uint64
	Client  model.Options // options of every client's REQ
	Server  model.Options // options of every server's REP
	Servers int           // servers at the start
	Clients int           // clients at the start
	Pirate  bool          // clients resend after a timeout (Lazy Pirate); needs ReqRelaxed and ReqCorrelate
	// Rogue adds a raw peer: a DEALER standing for a ROUTER, which sends
	// what it likes (F6, F9). It binds RogueEndpoint and every client
	// connects to it after the servers; under ServersConnect it connects
	// to every client's endpoint instead, after the servers.
	Rogue bool
	// RawClient adds a raw client: a DEALER standing for a ROUTER or
	// DEALER client, which sends requests of any shape (F5). It connects
	// to every server at the start; under ServersConnect it binds
	// RawEndpoint and every server connects to it.
	RawClient bool
	// ServersConnect: the clients bind and the servers connect to them,
	// so the REPs' pipes are a connect()'s and survive a lost connection
	// unless IMMEDIATE (F21). The raw peers then connect the other way
	// round too, as a deployment whose clients bind would.
	ServersConnect bool
	// RogueOptions are the raw peers' options (their high-water marks).
	RogueOptions model.Options
	// WrapChoices has the property answer the model's open choices out of
	// range, by whole multiples of their number of options: the model must
	// take the answer modulo that number (model.Chooser).
	WrapChoices bool
	Profile     model.Profile
	Mutation    model.Mutation
}

// PirateTimeout is how long a Lazy Pirate client waits before resending.
const PirateTimeout = 500 * time.Millisecond

// System is the system under test: REQ clients and REP servers on the
// simulator, driven by operations. Clients behave like the blog's Node.js
// binding (replies are read as soon as they arrive, the application queue
// is flushed whenever the socket can send); servers act only when an
// operation tells them to.
type System struct {
	Cfg     Config
	Sim     *sim.Sim
	W       *model.World
	Clients []*Client
	Servers []*Server
	// Misuse records every socket call made in a state where RFC 28 forbids
	// it, with its result, for the lockstep property.
	Misuse []MisuseResult

	rogueSent int // the rogue peer's replies so far
	// polled is the answer of the latest poll, readable and writable;
	// away is the endpoint of the latest disconnect (for the watcher).
	polled [2]bool
	away   string
	// rawSent is every raw request by its body, as the raw client sent it.
	rawSent map[string]model.Message
	// watch, when set, is told of every call the system makes on a socket
	// and of every simulator event, so that a property can follow the
	// model's pipes and judge each call (mirror.go).
	watch *mirror
}

// Client is one client process.
type Client struct {
	Name string
	// Endpoint is what it binds under Config.ServersConnect; Endpoints
	// what it connects to.
	Endpoint  string
	Endpoints []string
	Queue     model.AppQueue
	next      int           // counter of the next request
	lastSend  time.Duration // when the current request was last sent (pirate)
	// current is a Lazy Pirate's request that has no reply yet: the
	// application's own record, since a resend that blocks leaves the
	// socket with no request outstanding (F20).
	current  model.Message
	Enqueued []string // bodies handed to the application queue, in order
}

// Server is one server process.
type Server struct {
	Name     string
	Endpoint string // what it binds, unless Config.ServersConnect
	// Endpoints are the clients' endpoints it connects to under
	// Config.ServersConnect.
	Endpoints []string
	// Stray is the endpoint of another REP that it connects to for a
	// while (OpStrayConnect), which ZMTP refuses; "" when none.
	Stray   string
	Up      bool
	Holding bool
	held    string
	life    int // incarnation, so replies scheduled by a dead process are void
}

// MisuseResult is one forbidden call and what it returned.
type MisuseResult struct {
	Op          string
	Err         error
	StateBefore model.SocketState
	StateAfter  model.SocketState
}

// NewSystem builds the initial processes of cfg at virtual time zero.
func NewSystem(cfg Config) *System {
	if cfg.Profile.Name == "" {
		cfg.Profile = model.LibZMQ
	}
	s := &System{Cfg: cfg, Sim: sim.New(cfg.Seed, cfg.Profile, sim.DefaultNetwork)}
	s.W = s.Sim.World()
	if err := s.W.Mutate(cfg.Mutation); err != nil {
		panic(err) // a caller's mistake: only teeth builds set a Mutation
	}
	s.Sim.OnSettle(func() bool {
		s.touch() // a simulator event ran
		return s.react()
	})
	for i := 0; i < cfg.Servers; i++ {
		s.AddServer()
	}
	if cfg.Rogue {
		s.must(s.W.NewDEALER(RogueName, cfg.RogueOptions))
		if !cfg.ServersConnect {
			s.must(s.W.Bind(RogueName, RogueEndpoint))
		}
	}
	if cfg.RawClient {
		s.rawSent = map[string]model.Message{}
		s.must(s.W.NewDEALER(RawName, cfg.RogueOptions))
		if cfg.ServersConnect {
			s.must(s.W.Bind(RawName, RawEndpoint))
		}
		for _, srv := range s.Servers {
			if cfg.ServersConnect {
				srv.Endpoints = append(srv.Endpoints, RawEndpoint)
				s.must(s.W.Connect(srv.Name, RawEndpoint))
			} else {
				s.must(s.W.Connect(RawName, srv.Endpoint))
			}
		}
	}
	for i := 0; i < cfg.Clients; i++ {
		s.AddClient()
	}
	return s
}

// The rogue peer of Config.Rogue and the raw client of Config.RawClient,
// and the endpoints they bind: the rogue unless Config.ServersConnect,
// the raw client under it.
const (
	RogueName     = "r1"
	RogueEndpoint = "tcp://r1:5454"
	RawName       = "r2"
	RawEndpoint   = "tcp://r2:5454"
)

// rawShape is one shape of raw request: its name, and its frames around a
// body.
type rawShape struct {
	name   string
	frames func(b string) model.Message
}

// RawShapes are the raw client's requests, each around its body b: a REP
// reads the frames after the first empty frame that has frames after it,
// keeps those before it as the envelope of its reply, and drops a request
// without one (F5).
var RawShapes = []rawShape{
	{"plain", func(b string) model.Message { return model.Message{model.Delimiter, b} }},
	{"no-delimiter", func(b string) model.Message { return model.Message{b} }},
	{"envelope", func(b string) model.Message { return model.Message{"env", model.Delimiter, b} }},
	{"trailing-empty", func(b string) model.Message { return model.Message{b, model.Delimiter} }},
	{"two-delimiters", func(b string) model.Message { return model.Message{model.Delimiter, model.Delimiter, b} }},
	{"deep-envelope", func(b string) model.Message { return model.Message{"hop1", "hop2", model.Delimiter, b} }},
}

func (s *System) must(err error) {
	if err != nil {
		panic(fmt.Sprintf("properties: harness error: %v", err))
	}
}

// AddServer starts a new REP server; existing clients do not connect to
// it, but under Config.ServersConnect it connects to the raw client and
// to every client.
func (s *System) AddServer() *Server {
	n := len(s.Servers) + 1
	srv := &Server{Name: fmt.Sprintf("s%d", n), Endpoint: fmt.Sprintf("tcp://s%d:%d", n, app.ServerPort)}
	if s.Cfg.ServersConnect {
		if _, ok := s.W.Endpoint(RawEndpoint); ok { // the raw client is there
			srv.Endpoints = append(srv.Endpoints, RawEndpoint)
		}
		for _, c := range s.Clients {
			srv.Endpoints = append(srv.Endpoints, c.Endpoint)
		}
	}
	s.Servers = append(s.Servers, srv)
	s.startServer(srv)
	return srv
}

func (s *System) startServer(srv *Server) {
	s.touch()
	s.must(s.W.NewREP(srv.Name, s.Cfg.Server))
	if s.Cfg.ServersConnect {
		for _, ep := range srv.Endpoints {
			s.must(s.W.Connect(srv.Name, ep))
		}
	} else {
		s.must(s.W.Bind(srv.Name, srv.Endpoint))
	}
	srv.Up, srv.Holding, srv.held = true, false, ""
	s.Sim.Settle()
}

// AddClient starts a new client connected to every server, in order, and
// to the rogue, or under Config.ServersConnect one bound that every
// server and then the rogue connect to.
func (s *System) AddClient() *Client {
	c := &Client{Name: fmt.Sprintf("c%d", len(s.Clients)+1)}
	c.Endpoint = fmt.Sprintf("tcp://%s:%d", c.Name, app.ServerPort)
	_ = c.Queue.Mutate(s.Cfg.Mutation) // the world's Mutate has checked it
	s.Clients = append(s.Clients, c)
	s.touch()
	s.must(s.W.NewREQ(c.Name, s.Cfg.Client))
	if s.Cfg.ServersConnect {
		s.must(s.W.Bind(c.Name, c.Endpoint))
		for _, srv := range s.Servers {
			srv.Endpoints = append(srv.Endpoints, c.Endpoint)
			if srv.Up {
				s.must(s.W.Connect(srv.Name, c.Endpoint))
			}
		}
	}
	for _, srv := range s.Servers {
		if s.Cfg.ServersConnect {
			break
		}
		c.Endpoints = append(c.Endpoints, srv.Endpoint)
		s.must(s.W.Connect(c.Name, srv.Endpoint))
	}
	switch {
	case s.Cfg.Rogue && s.Cfg.ServersConnect:
		s.must(s.W.Connect(RogueName, c.Endpoint))
	case s.Cfg.Rogue:
		c.Endpoints = append(c.Endpoints, RogueEndpoint)
		s.must(s.W.Connect(c.Name, RogueEndpoint))
	}
	s.settle()
	return c
}

// touch tells the watcher that the world changed outside a call it
// watches: a simulator event, time, or a socket opened or connected.
func (s *System) touch() {
	if s.watch != nil {
		s.watch.stale = true
	}
}

// settle schedules the model's effects and lets the applications react.
func (s *System) settle() {
	s.Sim.Settle()
	for s.react() {
		s.Sim.Settle()
	}
}

// RequestBody is client c's k-th request.
func RequestBody(client string, k int) string { return client + "#" + strconv.Itoa(k) }

// ParseRequest splits a request body into client and counter.
func ParseRequest(body string) (client string, k int, ok bool) {
	i := strings.LastIndexByte(body, '#')
	if i < 0 {
		return "", 0, false
	}
	k, err := strconv.Atoi(body[i+1:])
	return body[:i], k, err == nil
}

// Answers returns the request a reply payload answers.
func Answers(reply string) (string, bool) {
	var r struct{ Response string }
	if err := json.Unmarshal([]byte(reply), &r); err != nil {
		return "", false
	}
	return r.Response, true
}

func (s *System) record(actor string, event model.EventKind, msg string, queue int) {
	e := trace.Event{Actor: actor, Kind: event, Msg: msg, HasMsg: msg != ""}
	if queue >= 0 {
		e.Queue, e.HasQueue = queue, true
	}
	s.Sim.Record(e)
}

// react is the clients' binding: read whatever reply is there, then flush.
func (s *System) react() bool {
	if s.watch != nil && s.watch.stale {
		s.watch.sync()
	}
	progress := false
	for _, c := range s.Clients {
		for s.W.Readable(c.Name) {
			reply, err := s.recv(c.Name)
			if err != nil {
				break
			}
			progress = true
			c.current = nil
			s.record(c.Name, model.EventReceive, reply.Text(), c.Queue.Len())
		}
		// FlushOne sends only when there is something to send and the
		// socket is writable; asking first lets the watcher see the send.
		for s.mayFlush(c) && c.Queue.Len() > 0 && s.W.Writable(c.Name) {
			s.before(callSend, c.Name)
			m, ok := c.Queue.FlushOne(s.W, c.Name)
			var err error
			if !ok {
				err = model.ErrAgain
			}
			s.done(callSend, c.Name, nil, err)
			if !ok {
				break
			}
			if s.Cfg.Pirate {
				c.current = m
			}
			c.lastSend = s.Sim.Now()
			progress = true
		}
	}
	return progress
}

// before and done tell the watcher of a call on a socket: before it, and
// once the system has recorded what it saw and the model's effects are
// settled, so that the call's trace lines are all there.
func (s *System) before(call, name string) {
	if s.watch != nil {
		s.watch.before(call, name)
	}
}

func (s *System) done(call, name string, m model.Message, err error) {
	s.Sim.Settle()
	if s.watch != nil {
		s.watch.after(call, name, m, err)
	}
}

func (s *System) recv(name string) (model.Message, error) {
	s.before(callRecv, name)
	m, err := s.W.Recv(name)
	s.done(callRecv, name, m, err)
	return m, err
}

func (s *System) crash(name string) {
	s.before(callClose, name)
	s.must(s.W.Crash(name))
	s.done(callClose, name, nil, nil)
}

// mayFlush: a Lazy Pirate application sends its next request only once the
// current one is answered; a plain binding relies on the socket's readiness.
func (s *System) mayFlush(c *Client) bool {
	return !s.Cfg.Pirate || c.current == nil
}

func (s *System) state(name string) model.SocketState {
	st, _ := s.W.State(name)
	return st
}

// Enqueue has client c send its next request through its queue.
func (s *System) Enqueue(c *Client) {
	body := RequestBody(c.Name, c.next)
	c.next++
	c.Enqueued = append(c.Enqueued, body)
	c.Queue.Enqueue(model.Message{body})
	s.record(c.Name, model.EventEnqueue, body, c.Queue.Len())
	s.settle()
}

// SendDirect has client c call send on its socket, bypassing the queue:
// a misuse when a reply is awaited (F1).
func (s *System) SendDirect(c *Client) error {
	before := s.state(c.Name)
	body := RequestBody(c.Name, c.next)
	s.before(callSend, c.Name)
	err := s.W.Send(c.Name, model.Message{body})
	if err == nil {
		c.next++
		c.Enqueued = append(c.Enqueued, body)
		c.lastSend = s.Sim.Now()
		if s.Cfg.Pirate {
			c.current = model.Message{body}
		}
	}
	if before.AwaitingReply && !s.W.Relaxed(c.Name) {
		s.Misuse = append(s.Misuse, MisuseResult{Op: c.Name + " send while awaiting a reply", Err: err, StateBefore: before, StateAfter: s.state(c.Name)})
	}
	if err != nil {
		s.Sim.Record(trace.Event{Actor: c.Name, Kind: model.EventError, Reason: "send: " + err.Error()})
	}
	s.done(callSend, c.Name, nil, err)
	s.settle()
	return err
}

// RecvDirect has client c call recv: a misuse when no request is
// outstanding (F1).
func (s *System) RecvDirect(c *Client) error {
	before := s.state(c.Name)
	s.before(callRecv, c.Name)
	reply, err := s.W.Recv(c.Name)
	if !before.AwaitingReply {
		s.Misuse = append(s.Misuse, MisuseResult{Op: c.Name + " recv with no request outstanding", Err: err, StateBefore: before, StateAfter: s.state(c.Name)})
	}
	if err == nil {
		c.current = nil
		s.record(c.Name, model.EventReceive, reply.Text(), c.Queue.Len())
	} else {
		s.Sim.Record(trace.Event{Actor: c.Name, Kind: model.EventError, Reason: "recv: " + err.Error()})
	}
	s.done(callRecv, c.Name, reply, err)
	s.settle()
	return err
}

// Retry is the Lazy Pirate's timeout: resend the current request if no
// reply came within PirateTimeout.
func (s *System) Retry(c *Client) {
	if !s.Cfg.Pirate || c.current == nil || s.Sim.Now()-c.lastSend < PirateTimeout {
		return
	}
	s.before(callSend, c.Name)
	err := s.W.Send(c.Name, c.current)
	if err == nil {
		c.lastSend = s.Sim.Now()
		s.record(c.Name, model.EventResend, c.current.Text(), -1)
	}
	s.done(callSend, c.Name, nil, err)
	s.settle()
}

// Serve has server srv read one request, if one is there; reading while a
// reply is owed is a misuse (F2).
func (s *System) Serve(srv *Server) {
	if !srv.Up {
		return
	}
	before := s.state(srv.Name)
	s.before(callRecv, srv.Name)
	req, err := s.W.Recv(srv.Name)
	if before.OwesReply {
		s.Misuse = append(s.Misuse, MisuseResult{Op: srv.Name + " recv while a reply is owed", Err: err, StateBefore: before, StateAfter: s.state(srv.Name)})
	}
	if err == nil {
		srv.Holding, srv.held = true, req.Text()
		s.Sim.Record(trace.Event{Actor: srv.Name, Kind: model.EventDeliver, Msg: req.Text(), HasMsg: true, Peer: s.W.RequestFrom(srv.Name)})
	}
	s.done(callRecv, srv.Name, req, err)
	s.settle()
}

// Reply has server srv answer now; answering with no request read is a
// misuse (F2).
func (s *System) Reply(srv *Server) {
	if !srv.Up {
		return
	}
	before := s.state(srv.Name)
	rep := app.Reply(model.Message{srv.held})
	if !srv.Holding {
		rep = model.Message{"unsolicited"}
	}
	s.before(callSend, srv.Name)
	err := s.W.Send(srv.Name, rep)
	if !before.OwesReply {
		s.Misuse = append(s.Misuse, MisuseResult{Op: srv.Name + " send with no request read", Err: err, StateBefore: before, StateAfter: s.state(srv.Name)})
	}
	if err == nil {
		s.record(srv.Name, model.EventReply, rep.Text(), -1)
		srv.Holding, srv.held = false, ""
	}
	s.done(callSend, srv.Name, nil, err)
	s.settle()
}

// ReplyAfter has server srv answer its held request after d, unless the
// process dies first.
func (s *System) ReplyAfter(srv *Server, d time.Duration) {
	if !srv.Up || !srv.Holding {
		return
	}
	life, held := srv.life, srv.held
	s.later(d, func() {
		if srv.life == life && srv.Up && srv.Holding && srv.held == held {
			s.Reply(srv)
		}
	})
}

// later has the simulator run do d from now; the watcher checks that it
// runs then, neither early nor late (sim.Sim.After).
func (s *System) later(d time.Duration, do func()) {
	due := s.Sim.Now() + d
	s.Sim.After(d, func() {
		if s.watch != nil && s.Sim.Now() != due {
			s.watch.fail("simulator: an event due at %v ran at %v", due, s.Sim.Now())
		}
		do()
	})
}

// Advance lets d of virtual time pass.
func (s *System) Advance(d time.Duration) {
	s.Sim.RunUntil(s.Sim.Now() + d)
	if at, ok := s.Sim.Next(); ok && at <= s.Sim.Now() && s.watch != nil {
		s.watch.fail("simulator: RunUntil(%v) left an event due at %v", s.Sim.Now(), at)
	}
	s.touch() // the clock moved
	s.settle()
}

// Crash kills server srv; it comes back after down when down is positive.
func (s *System) Crash(srv *Server, down time.Duration) {
	if !srv.Up {
		return
	}
	s.Sim.Record(trace.Event{Actor: srv.Name, Kind: model.EventCrash})
	srv.Up, srv.Holding, srv.held = false, false, ""
	srv.life++
	s.crash(srv.Name)
	srv.Stray = "" // the connect() died with the socket
	s.settle()
	if down > 0 {
		life := srv.life
		s.later(down, func() {
			if srv.life == life && !srv.Up {
				s.Restart(srv)
			}
		})
	}
}

// RestartClient kills client c's process and starts it again under the
// same name: the REQ dies with what its pipes hold (F22), the application
// queue dies with the process, and a new REQ connects to every server.
// Its counter goes on, so the new incarnation's requests are new bodies.
func (s *System) RestartClient(c *Client) {
	s.Sim.Record(trace.Event{Actor: c.Name, Kind: model.EventCrash})
	for _, m := range c.Queue.Items() {
		s.Sim.Record(trace.Event{Actor: c.Name, Kind: model.EventDrop, Msg: m.Text(), HasMsg: true, Reason: "queued when the client process died"})
	}
	c.Queue = model.AppQueue{}
	_ = c.Queue.Mutate(s.Cfg.Mutation)
	c.current = nil
	s.crash(c.Name)
	s.settle()
	s.touch()
	s.must(s.W.NewREQ(c.Name, s.Cfg.Client))
	s.Sim.Record(trace.Event{Actor: c.Name, Kind: model.EventRestart})
	if s.Cfg.ServersConnect {
		s.must(s.W.Bind(c.Name, c.Endpoint)) // the servers and the rogue reconnect (F23)
	}
	for _, ep := range c.Endpoints {
		s.must(s.W.Connect(c.Name, ep))
	}
	s.settle()
}

// RogueRead has the rogue peer read one message, if one is there.
func (s *System) RogueRead() {
	s.before(callRecv, RogueName)
	m, err := s.W.Recv(RogueName)
	if err == nil {
		s.record(RogueName, model.EventDeliver, m[len(m)-1], -1)
	}
	s.done(callRecv, RogueName, m, err)
	s.settle()
}

// RogueSend has the rogue peer send a reply of its own invention to the
// next pipe of its rotation: well-formed (["", "r1#k"]), which a REQ
// takes only as the answer to a request it sent that peer (F9), or
// without the delimiter (["malformed#k"]), a protocol error that ends the
// connection for good and is never taken (F6).
func (s *System) RogueSend(wellFormed bool) {
	body := "malformed#" + strconv.Itoa(s.rogueSent)
	m := model.Message{body}
	if wellFormed {
		body = RequestBody(RogueName, s.rogueSent)
		m = model.Message{model.Delimiter, body}
	}
	s.rogueSent++
	s.before(callSend, RogueName)
	err := s.W.Send(RogueName, m)
	if err == nil {
		s.record(RogueName, model.EventReply, body, -1)
	}
	s.done(callSend, RogueName, nil, err)
	s.settle()
}

// RawRequest has the raw client send its next request, of the given shape,
// to the next pipe of its rotation.
func (s *System) RawRequest(shape int) {
	body := RequestBody(RawName, len(s.rawSent))
	m := RawShapes[shape%len(RawShapes)].frames(body)
	s.before(callSend, RawName)
	err := s.W.Send(RawName, m)
	if err == nil {
		s.rawSent[body] = m
		s.record(RawName, model.EventSend, body, -1)
	}
	s.done(callSend, RawName, nil, err)
	s.settle()
}

// RawRead has the raw client read one reply, if one is there.
func (s *System) RawRead() {
	s.before(callRecv, RawName)
	m, err := s.W.Recv(RawName)
	if err == nil {
		s.Sim.Record(trace.Event{Actor: RawName, Kind: model.EventReceive, Msg: m[len(m)-1], HasMsg: true, Reason: "frames " + strconv.Quote(m.Text())})
	}
	s.done(callRecv, RawName, m, err)
	s.settle()
}

// Poll asks the named socket for ZMQ_EVENTS; the watcher judges the
// answer and what the poll did to the socket's rotations (F3, F8, F14).
func (s *System) Poll(name string) {
	s.before(callPoll, name)
	s.polled[0], s.polled[1] = s.W.Poll(name)
	s.done(callPoll, name, nil, nil)
	s.settle()
}

// Disconnect has client c call zmq_disconnect on server srv's endpoint,
// if it is connected to it, and connect to it again after away unless a
// new incarnation of the client has by then; under Config.ServersConnect
// the server disconnects from the client.
func (s *System) Disconnect(c *Client, srv *Server, away time.Duration) {
	if !s.Cfg.ServersConnect {
		s.disconnect(c.Name, &c.Endpoints, srv.Endpoint, away, func() bool { return true })
	} else if srv.Up {
		s.disconnect(srv.Name, &srv.Endpoints, c.Endpoint, away, func() bool { return srv.Up })
	}
}

// disconnect has the socket called name disconnect from ep, one of the
// endpoints *eps its application connects to, and connect to it again
// after away unless the application has by then; up says whether the
// process runs (one that is down connects when it restarts).
func (s *System) disconnect(name string, eps *[]string, ep string, away time.Duration, up func() bool) {
	i := slices.Index(*eps, ep)
	if i < 0 {
		return
	}
	*eps = slices.Delete(*eps, i, i+1)
	s.away = ep
	s.before(callDisconnect, name)
	s.must(s.W.Disconnect(name, ep))
	s.done(callDisconnect, name, nil, nil)
	s.settle()
	s.later(away, func() {
		if slices.Contains(*eps, ep) {
			return
		}
		*eps = append(*eps, ep)
		if up() {
			s.touch()
			s.must(s.W.Connect(name, ep))
			s.settle()
		}
	})
}

// StrayConnect has server srv connect to the endpoint of the next server
// (its own if it is the only one), a REP to a REP, which ZMTP refuses
// (RFC 28): the model must refuse every attempt and retry (F23) until
// srv disconnects after d; a crash ends it sooner. Only where the servers
// bind, and one at a time per server.
func (s *System) StrayConnect(srv *Server, d time.Duration) {
	if s.Cfg.ServersConnect || !srv.Up || srv.Stray != "" {
		return
	}
	i := slices.Index(s.Servers, srv)
	ep := s.Servers[(i+1)%len(s.Servers)].Endpoint
	srv.Stray = ep
	s.touch()
	s.must(s.W.Connect(srv.Name, ep))
	s.settle()
	life := srv.life
	s.later(d, func() {
		if srv.life != life || srv.Stray != ep {
			return
		}
		s.away = ep
		s.before(callDisconnect, srv.Name)
		srv.Stray = ""
		s.must(s.W.Disconnect(srv.Name, ep))
		s.done(callDisconnect, srv.Name, nil, nil)
		s.settle()
	})
}

// Restart brings a crashed server back on the same endpoint.
func (s *System) Restart(srv *Server) {
	if srv.Up {
		return
	}
	s.startServer(srv)
	if s.Cfg.ServersConnect {
		s.Sim.Record(trace.Event{Actor: srv.Name, Kind: model.EventRestart})
	} else {
		s.Sim.Record(trace.Event{Actor: srv.Name, Kind: model.EventRestart, Peer: srv.Endpoint})
	}
	s.settle()
}

// Cut cuts the link between client c and server srv, from the server's
// end when reverse, and heals it after d from the same end.
func (s *System) Cut(c *Client, srv *Server, d time.Duration, reverse bool) {
	a, b := ends(c, srv, reverse)
	s.touch()
	s.Sim.Cut(a, b)
	s.settle()
	s.later(d, func() { s.Sim.Heal(a, b) })
}

// Heal heals it, from the server's end when reverse.
func (s *System) Heal(c *Client, srv *Server, reverse bool) {
	a, b := ends(c, srv, reverse)
	s.Sim.Heal(a, b)
	s.settle()
}

func ends(c *Client, srv *Server, reverse bool) (string, string) {
	if reverse {
		return srv.Name, c.Name
	}
	return c.Name, srv.Name
}

// Quiesce ends a run the way the liveness checks need: every link healed,
// every server up, and every server serving and answering at once, for
// long enough that whatever can still arrive has arrived.
func (s *System) Quiesce() {
	for _, c := range s.Clients {
		for _, srv := range s.Servers {
			s.Heal(c, srv, false)
		}
	}
	for _, srv := range s.Servers {
		s.Restart(srv)
	}
	for round := 0; round < 400; round++ {
		busy := false
		for _, srv := range s.Servers {
			if srv.Holding {
				s.Reply(srv)
				busy = true
			}
			if s.W.Readable(srv.Name) {
				s.Serve(srv)
				busy = true
			}
		}
		for _, c := range s.Clients {
			s.Retry(c)
			if s.Cfg.Pirate && (c.Queue.Len() > 0 || s.state(c.Name).AwaitingReply) {
				busy = true
			}
		}
		if !busy && s.Sim.Pending() == 0 {
			break
		}
		s.Advance(50 * time.Millisecond)
	}
}

// Trace is everything the system recorded.
func (s *System) Trace() []trace.Event { return s.Sim.Trace() }
