package realnet

import (
	"errors"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/benbjohnson/clock"

	"github.com/zeromq-lockstep/lockstep/app"
	"github.com/zeromq-lockstep/lockstep/model"
	"github.com/zeromq-lockstep/lockstep/simnet"
	"github.com/zeromq-lockstep/lockstep/trace"
)

// Crash kills Server at At (virtual time since the start) and, when Down is
// positive, starts a new REP on the same endpoint Down later.
type Crash struct {
	Server   string
	At, Down time.Duration
}

// Config is one run of a scenario on zmq4.
type Config struct {
	// Clock runs the application timers: clock.New() (the default) for a
	// live run, a *clock.Mock to follow the virtual schedule fast: the
	// runner then advances the mock itself, one timer at a time, once the
	// real sockets are quiet.
	Clock clock.Clock
	// For is how long to run; zero means 10s.
	For time.Duration
	// Crashes are the crash and restart schedule.
	Crashes []Crash
	// Bound bounds each blocking zmq4 call and each expected message;
	// zero means DefaultBound.
	Bound time.Duration
	// Ports pins the port a server binds (by server name); unset servers
	// get a free port chosen at run time.
	Ports map[string]int
	// Sink, when set, receives every trace event as it happens, and
	// Result.Trace stays empty, as in the simulator.
	Sink func(trace.Event)
	// Net, when set, runs the scenario on this simnet network instead of
	// loopback TCP: each server and client is a host of its own named
	// after it, a crash is its host's (connections reset, bytes in flight
	// lost, F22) before its socket closes, and Clock must be nil or the
	// real clock, which inside the network's synctest bubble is virtual.
	// Timers and socket results due at one instant are ordered: the
	// timers first, in the order they were set (network alarms), then
	// what the network delivers, as in the simulator, so one schedule
	// gives one trace. Clients dial in the background, so a crash at 0s
	// comes while their dials are under way. Ports must be unset.
	Net *simnet.Network
}

// Result is what a run produced.
type Result struct {
	Trace []trace.Event
	End   time.Duration
	// Endpoints maps each scenario endpoint to the real one it ran on.
	Endpoints map[string]string
}

// EndpointError is a server that could not bind: a busy or bad endpoint.
type EndpointError struct {
	Server, Endpoint string
	Err              error
}

func (e *EndpointError) Error() string {
	return fmt.Sprintf("server %s cannot bind %s: %v", e.Server, e.Endpoint, e.Err)
}

func (e *EndpointError) Unwrap() error { return e.Err }

type item struct {
	at  time.Duration
	seq uint64
	do  func()
}

type client struct {
	spec      app.Client
	queue     []model.Message // model.AppQueue semantics (F24)
	sent      int
	awaiting  bool
	request   string
	gen       int // socket generation: results of older sockets are ignored
	connected bool
}

type server struct {
	spec        app.Server
	real        string // the real endpoint
	up          bool
	count       int
	incarnation int
	holding     bool
	held        string
	heldFrom    string
}

type runner struct {
	cfg     Config
	clk     clock.Clock
	mock    *clock.Mock
	start   time.Time
	socks   *Sockets
	trace   []trace.Event
	agenda  []item
	seq     uint64
	events  chan func()
	done    chan struct{}
	clients []*client
	servers []*server
	// repliesInTransit counts replies sent and not yet received.
	repliesInTransit int
	unsettledSince   time.Time
	lost             map[string]bool
	// replied maps a request to the reply a server sent for it, until a
	// client reads that reply: a client whose recv fails then lost the
	// reply in flight, not the request (F22).
	replied  map[string]string
	stopping bool
}

// Run executes scenario sc on real zmq4 REQ and REP sockets over loopback
// TCP and returns its trace, in the simulator's events.
func Run(sc app.Scenario, cfg Config) (*Result, error) {
	if cfg.For < 0 {
		return nil, fmt.Errorf("realnet: negative duration %v", cfg.For)
	}
	if cfg.For == 0 {
		cfg.For = 10 * time.Second
	}
	if cfg.Bound <= 0 {
		cfg.Bound = DefaultBound
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.New()
	}
	if cfg.Net != nil {
		if _, mock := cfg.Clock.(*clock.Mock); mock || len(cfg.Ports) > 0 {
			return nil, fmt.Errorf("realnet: a run on simnet takes neither a mock clock nor ports")
		}
	}
	r := &runner{cfg: cfg, clk: cfg.Clock, events: make(chan func(), 64), done: make(chan struct{}), lost: map[string]bool{}, replied: map[string]string{}}
	r.mock, _ = cfg.Clock.(*clock.Mock)
	r.socks = NewSockets(cfg.Bound)
	r.socks.OnIncident = func(string, *CallError) {} // recorded by the caller
	r.start = r.clk.Now()
	defer func() {
		r.stopping = true
		close(r.done)
		r.socks.CloseAll()
	}()
	res := &Result{Endpoints: map[string]string{}}
	for _, spec := range sc.Servers {
		srv := &server{spec: spec}
		r.servers = append(r.servers, srv)
		ep := "tcp://127.0.0.1:0"
		if p, ok := cfg.Ports[spec.Name]; ok {
			ep = fmt.Sprintf("tcp://127.0.0.1:%d", p)
		}
		if cfg.Net != nil {
			ep = cfg.Net.Host(spec.Name).Bind(endpointPort(spec.Endpoint))
		}
		if err := r.socks.NewREP(spec.Name); err != nil {
			return nil, err
		}
		real, err := r.socks.Bind(spec.Name, ep)
		if err != nil {
			return nil, &EndpointError{Server: spec.Name, Endpoint: ep, Err: err}
		}
		srv.real, srv.up = real, true
		res.Endpoints[spec.Endpoint] = real
	}
	for _, spec := range sc.Clients {
		for _, ep := range spec.Connect {
			if res.Endpoints[ep] == "" {
				return nil, fmt.Errorf("realnet: client %s connects to %s, which no server binds", spec.Name, ep)
			}
		}
	}
	for _, srv := range r.servers {
		r.serve(srv)
	}
	for _, spec := range sc.Clients {
		c := &client{spec: spec}
		r.clients = append(r.clients, c)
		r.connect(c, res.Endpoints)
		if spec.Interval > 0 {
			r.at(spec.FirstSend(), func() { r.tick(c, spec.FirstSend()) })
		}
	}
	for _, f := range cfg.Crashes {
		srv := r.server(f.Server)
		if srv == nil {
			return nil, fmt.Errorf("realnet: crash: no server %q", f.Server)
		}
		if f.At < 0 || f.Down < 0 {
			return nil, fmt.Errorf("realnet: crash: negative time")
		}
		r.at(f.At, func() { r.crash(srv) })
		if f.Down > 0 {
			r.at(f.At+f.Down, func() { r.restart(srv) })
		}
	}
	r.loop()
	res.Trace, res.End = r.trace, r.now()
	return res, nil
}

func (r *runner) server(name string) *server {
	for _, s := range r.servers {
		if s.spec.Name == name {
			return s
		}
	}
	return nil
}

func (r *runner) now() time.Duration { return r.clk.Now().Sub(r.start) }

func (r *runner) record(e trace.Event) {
	e.At = r.now()
	if r.cfg.Sink != nil {
		r.cfg.Sink(e)
		return
	}
	r.trace = append(r.trace, e)
}

func (r *runner) recordErr(actor string, err error) {
	var ce *CallError
	if errors.As(err, &ce) {
		r.record(ce.TraceEvent(actor))
		return
	}
	r.record(trace.Event{Actor: actor, Kind: model.EventError, Reason: err.Error()})
}

// at schedules do at virtual time t; ties run in scheduling order, as in
// the simulator.
func (r *runner) at(t time.Duration, do func()) {
	r.seq++
	r.agenda = append(r.agenda, item{at: t, seq: r.seq, do: do})
	sort.SliceStable(r.agenda, func(i, j int) bool {
		a, b := r.agenda[i], r.agenda[j]
		return a.at < b.at || a.at == b.at && a.seq < b.seq
	})
}

// post hands a socket goroutine's result to the driver.
func (r *runner) post(f func()) {
	select {
	case r.events <- f:
	case <-r.done:
	}
}

// loop is the driver: it owns every application's state and runs timers
// and socket results one at a time.
func (r *runner) loop() {
	watch := time.NewTicker(r.cfg.Bound / 4)
	defer watch.Stop()
	for {
		if r.mock != nil {
			r.quiesce()
		}
		next := r.cfg.For
		if len(r.agenda) > 0 && r.agenda[0].at < next {
			next = r.agenda[0].at
		}
		d := max(next-r.now(), 0)
		// On simnet the timer is an alarm of the network's, so that the
		// timers of an instant run before the bytes that arrive then.
		var timer <-chan time.Time
		var alarm <-chan struct{}
		stop := func() {}
		if r.cfg.Net != nil {
			alarm = r.cfg.Net.Alarm(next)
		} else {
			t := r.clk.Timer(d)
			timer, stop = t.C, func() { t.Stop() }
		}
		if r.mock != nil {
			r.mock.Add(d)
		}
		fired := false
		for !fired {
			select {
			case f := <-r.events:
				f()
				r.checkSettled()
				if r.mock == nil && len(r.agenda) > 0 && r.agenda[0].at < next {
					// A result scheduled something sooner than the
					// timer we wait for (a server's 1ms reply): wait
					// for that instead.
					stop()
					fired = true
				}
			case <-timer:
				fired = true
			case <-alarm:
				fired = true
			case <-watch.C:
				r.checkSettled()
			}
		}
		for len(r.agenda) > 0 && r.agenda[0].at <= r.now() {
			it := r.agenda[0]
			r.agenda = r.agenda[1:]
			it.do()
			if r.mock != nil {
				break // let the sockets settle before the next timer
			}
		}
		if r.now() >= r.cfg.For {
			return
		}
	}
}

// endpointPort is the port of a scenario's endpoint (tcp://server:5454),
// or app.ServerPort when it names none.
func endpointPort(ep string) int {
	_, hp, _ := strings.Cut(ep, "://")
	if _, p, err := net.SplitHostPort(hp); err == nil {
		if n, err := strconv.Atoi(p); err == nil {
			return n
		}
	}
	return app.ServerPort
}

// settled says that no socket result is due: every client that awaits a
// reply waits on a server that holds a request (its own or one ahead of
// it), and no reply is on its way.
func (r *runner) settled() bool {
	if r.repliesInTransit > 0 {
		return false
	}
	holding := false
	for _, s := range r.servers {
		holding = holding || s.up && s.holding
	}
	for _, c := range r.clients {
		if c.awaiting && !holding {
			return false
		}
	}
	return true
}

// checkSettled notes since when results have been due, and declares the
// awaiting clients hung once that exceeds the bound.
func (r *runner) checkSettled() {
	if r.settled() {
		r.unsettledSince = time.Time{}
		return
	}
	if r.unsettledSince.IsZero() {
		r.unsettledSince = time.Now()
		return
	}
	if time.Since(r.unsettledSince) < r.cfg.Bound {
		return
	}
	r.unsettledSince = time.Time{}
	r.repliesInTransit = 0
	for _, c := range r.clients {
		if c.awaiting {
			r.record((&CallError{Op: "recv", Socket: c.spec.Name, Hang: r.cfg.Bound}).TraceEvent(c.spec.Name))
			r.replace(c)
		}
	}
}

// quiesce runs socket results until none is due, so that the mock clock
// only moves while the real sockets are quiet.
func (r *runner) quiesce() {
	for {
		if r.settled() {
			// A short grace for results nothing predicted.
			select {
			case f := <-r.events:
				f()
				continue
			case <-time.After(200 * time.Microsecond):
				return
			}
		}
		select {
		case f := <-r.events:
			f()
		case <-time.After(r.cfg.Bound / 8):
		}
		r.checkSettled()
	}
}

// connect opens the client's REQ and dials its servers in order (F8).
func (r *runner) connect(c *client, eps map[string]string) {
	name := c.spec.Name
	if err := r.socks.NewREQ(name); err != nil {
		r.recordErr(name, err)
		return
	}
	c.gen++
	if r.cfg.Net != nil {
		r.connectLater(c, eps)
		return
	}
	c.connected = true
	for _, ep := range c.spec.Connect {
		if err := r.socks.Connect(name, eps[ep]); err != nil {
			r.recordErr(name, err)
			continue
		}
		peer := ep
		for _, s := range r.servers {
			if s.spec.Endpoint == ep {
				peer = s.spec.Name
			}
		}
		r.record(trace.Event{Actor: name, Kind: model.EventConnect, Peer: peer})
	}
}

// connectLater dials the client's servers in order on a goroutine of its
// own, as a program whose Dial blocks while its timers run on: zmq4 dials
// synchronously and retries a refused dial (10 times, 250ms apart, F23),
// and on simnet the scenario's timers, a crash at 0s or a restart, must
// not wait for that. The client sends once its dials have returned.
func (r *runner) connectLater(c *client, eps map[string]string) {
	name, gen := c.spec.Name, c.gen
	type dialed struct {
		peer string
		err  error
	}
	go func() {
		var out []dialed
		for _, ep := range c.spec.Connect {
			_, hp, _ := strings.Cut(eps[ep], "://")
			err := r.socks.Connect(name, r.cfg.Net.Host(name).Connect(hp))
			peer := ep
			for _, s := range r.servers {
				if s.spec.Endpoint == ep {
					peer = s.spec.Name
				}
			}
			out = append(out, dialed{peer, err})
		}
		r.post(func() {
			if gen != c.gen || r.stopping {
				return
			}
			for _, d := range out {
				if d.err != nil {
					r.recordErr(name, d.err)
					continue
				}
				r.record(trace.Event{Actor: name, Kind: model.EventConnect, Peer: d.peer})
			}
			c.connected = true
			r.flush(c, nil)
		})
	}()
}

// replace abandons a client's hung socket and gives it a fresh one.
func (r *runner) replace(c *client) {
	r.socks.Abandon(c.spec.Name)
	c.awaiting = false
	eps := map[string]string{}
	for _, s := range r.servers {
		eps[s.spec.Endpoint] = s.real
	}
	r.connect(c, eps)
}

// tick is the client's setInterval: enqueue the next counter and send if
// no reply is awaited.
// due is when the tick was planned: the next one is planned from it, not
// from now, so that a live run keeps the 100ms rhythm of setInterval
// instead of drifting by each tick's lateness.
func (r *runner) tick(c *client, due time.Duration) {
	m := app.Request(c.sent)
	c.sent++
	c.queue = append(c.queue, m)
	r.flush(c, func() {
		r.record(trace.Event{Actor: c.spec.Name, Kind: model.EventEnqueue, Msg: m.Text(), HasMsg: true, Queue: len(c.queue), HasQueue: true})
	})
	next := c.spec.NextSend(due)
	r.at(next, func() { r.tick(c, next) })
}

// flush sends the head of the queue unless a reply is awaited: zmq4 has
// no poller, so the application keeps lockstep itself, as the Node binding
// does (F24). A failed send leaves the message queued. before runs after
// the send and before its trace line, as in the simulator.
func (r *runner) flush(c *client, before func()) {
	name := c.spec.Name
	var head model.Message
	var err error
	sent := false
	if !c.awaiting && len(c.queue) > 0 && c.connected {
		head = c.queue[0]
		if err = r.socks.Send(name, head); err == nil {
			c.queue = c.queue[1:]
			sent = true
		}
	}
	if before != nil {
		before()
	}
	if sent {
		r.sent(c, head)
		return
	}
	if err != nil {
		r.recordErr(name, err)
		var ce *CallError
		if errors.As(err, &ce) && ce.Hang > 0 {
			r.replace(c)
		}
	}
}

// sent records a request on its way and starts the wait for its reply.
func (r *runner) sent(c *client, m model.Message) {
	c.awaiting, c.request = true, m.Text()
	r.record(trace.Event{Actor: c.spec.Name, Kind: model.EventSend, Msg: m.Text(), HasMsg: true, Queue: len(c.queue), HasQueue: true})
	gen, name := c.gen, c.spec.Name
	go func() {
		m, err := r.socks.recvUnbounded(name)
		r.post(func() { r.onReply(c, gen, m, err) })
	}()
}

func (r *runner) onReply(c *client, gen int, m model.Message, err error) {
	if gen != c.gen || !c.awaiting || r.stopping {
		return // an abandoned socket's call
	}
	name := c.spec.Name
	c.awaiting = false
	if err != nil {
		if errors.Is(err, model.ErrPeerGone) {
			r.record(trace.Event{Actor: name, Kind: model.EventDisconnect, Reason: "EOF"})
		}
		r.recordErr(name, err)
		if rep, ok := r.replied[c.request]; ok {
			delete(r.replied, c.request)
			if !r.lost[rep] {
				r.lost[rep] = true
				r.record(trace.Event{Actor: name, Kind: model.EventDrop, Msg: rep, HasMsg: true, Reason: "reply lost with its connection"})
			}
		} else if !r.lost[c.request] {
			r.lost[c.request] = true
			r.record(trace.Event{Actor: name, Kind: model.EventDrop, Msg: c.request, HasMsg: true, Reason: "request lost with its connection"})
		}
		c.request = ""
		r.flush(c, nil)
		return
	}
	r.repliesInTransit = max(r.repliesInTransit-1, 0)
	delete(r.replied, c.request)
	c.request = ""
	r.record(trace.Event{Actor: name, Kind: model.EventReceive, Msg: m.Text(), HasMsg: true, Queue: len(c.queue), HasQueue: true})
	r.flush(c, nil)
}

// serve starts the server application's next receive.
func (r *runner) serve(s *server) {
	if !s.up || s.holding {
		return
	}
	inc, name := s.incarnation, s.spec.Name
	go func() {
		m, err := r.socks.recvUnbounded(name)
		r.post(func() { r.onRequest(s, inc, m, err) })
	}()
}

func (r *runner) onRequest(s *server, inc int, m model.Message, err error) {
	if inc != s.incarnation || !s.up || r.stopping {
		return
	}
	name := s.spec.Name
	if err != nil {
		r.recordErr(name, err)
		var ce *CallError
		if errors.As(err, &ce) && ce.Panic == nil {
			r.serve(s)
		}
		return
	}
	s.count++
	s.holding, s.held = true, m.Text()
	// REP hides who sent a request; name the client when only one awaits
	// this payload.
	s.heldFrom = ""
	for _, c := range r.clients {
		if c.awaiting && c.request == s.held {
			if s.heldFrom != "" {
				s.heldFrom = ""
				break
			}
			s.heldFrom = c.spec.Name
		}
	}
	r.record(trace.Event{Actor: name, Kind: model.EventDeliver, Msg: s.held, HasMsg: true, Peer: s.heldFrom})
	delay, answer := s.spec.Policy(s.count)
	if !answer {
		return
	}
	r.at(r.now()+delay, func() { r.reply(s, inc, m) })
}

func (r *runner) reply(s *server, inc int, req model.Message) {
	if inc != s.incarnation || !s.up || !s.holding {
		return
	}
	rep := app.Reply(req)
	r.record(trace.Event{Actor: s.spec.Name, Kind: model.EventReply, Msg: rep.Text(), HasMsg: true, Peer: s.heldFrom})
	if err := r.socks.Send(s.spec.Name, rep); err != nil {
		r.recordErr(s.spec.Name, err)
	} else {
		r.repliesInTransit++
		r.replied[req.Text()] = rep.Text()
	}
	s.holding = false
	r.serve(s)
}

func (r *runner) crash(s *server) {
	if !s.up {
		return
	}
	r.record(trace.Event{Actor: s.spec.Name, Kind: model.EventCrash})
	if s.holding {
		r.lost[s.held] = true
		r.record(trace.Event{Actor: s.spec.Name, Kind: model.EventDrop, Msg: s.held, HasMsg: true, Reason: "request held by server that crashed"})
	}
	s.up, s.holding = false, false
	s.incarnation++
	if r.cfg.Net != nil {
		r.cfg.Net.CrashNow(s.spec.Name)
	}
	if err := r.socks.Crash(s.spec.Name); err != nil {
		r.recordErr(s.spec.Name, err)
	}
}

func (r *runner) restart(s *server) {
	if s.up {
		return
	}
	name := s.spec.Name
	if r.cfg.Net != nil {
		r.cfg.Net.Restart(name)
	}
	if err := r.socks.NewREP(name); err != nil {
		r.recordErr(name, err)
		return
	}
	if _, err := r.socks.Bind(name, s.real); err != nil {
		r.recordErr(name, err)
		r.socks.Abandon(name)
		return
	}
	s.up, s.count, s.holding = true, 0, false
	r.record(trace.Event{Actor: name, Kind: model.EventRestart, Peer: s.spec.Endpoint})
	r.serve(s)
}
