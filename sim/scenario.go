package sim

import (
	"errors"
	"fmt"
	"time"

	"github.com/zeromq-lockstep/lockstep/app"
	"github.com/zeromq-lockstep/lockstep/model"
	"github.com/zeromq-lockstep/lockstep/trace"
)

// Config is one simulated run of a scenario.
type Config struct {
	Seed uint64
	// For is how much virtual time to run; zero means DefaultFor.
	For time.Duration
	// Profile is the implementation the model follows; the zero value is
	// model.LibZMQ.
	Profile model.Profile
	// Network is the network's timing; the zero value is DefaultNetwork.
	Network Network
	// Faults are injected at their virtual times.
	Faults []Fault
	// NoTrace skips recording, for benchmarks.
	NoTrace bool
	// Mutation installs deliberate defects in the model (a build with
	// -tags teeth only), so that properties of the simulator show their
	// teeth.
	Mutation model.Mutation
	// Sink, when set, receives every trace event as it happens, and
	// Result.Trace stays empty: a long run prints without holding its
	// trace in memory.
	Sink func(trace.Event)
}

// DefaultFor is how long a run lasts when Config.For is zero.
const DefaultFor = 10 * time.Second

// Result is what a run produced.
type Result struct {
	Trace []trace.Event
	// End is the virtual time the run stopped at.
	End time.Duration
	// Queues is each client's application queue length at the end.
	Queues map[string]int
}

// Run runs scenario sc under cfg and returns its trace.
func Run(sc app.Scenario, cfg Config) (*Result, error) {
	r, err := Start(sc, cfg)
	if err != nil {
		return nil, err
	}
	r.Sim.RunUntil(r.end)
	return r.Result(), nil
}

// Running is a scenario in progress, for callers that step it themselves.
type Running struct {
	Sim     *Sim
	Clients []*ClientApp
	Servers []*ServerApp
	end     time.Duration
}

// ClientApp is the blog's client process: a REQ socket with an application
// queue in front (F24), sending an incrementing counter every Interval.
type ClientApp struct {
	Spec  app.Client
	Queue model.AppQueue
	sent  int
}

// ServerApp is the blog's server process: a REP socket whose application
// answers each request after the delay its policy gives.
type ServerApp struct {
	Spec app.Server
	Up   bool
	// Count is the number of requests this incarnation has read; the
	// policy's "every third" counts from here, and a restart resets it.
	Count       int
	incarnation int
	holding     bool
	// req and from are the request the application holds and the client
	// it came from, while holding: what its pending reply answers.
	req  model.Message
	from string
}

// Start sets a scenario up at virtual time zero without running it.
func Start(sc app.Scenario, cfg Config) (*Running, error) {
	if cfg.For < 0 {
		return nil, fmt.Errorf("sim: negative duration %v", cfg.For)
	}
	if cfg.For == 0 {
		cfg.For = DefaultFor
	}
	if cfg.Profile.Name == "" {
		cfg.Profile = model.LibZMQ
	}
	if cfg.Network == (Network{}) {
		cfg.Network = DefaultNetwork
	}
	if len(sc.Servers) == 0 && len(sc.Clients) == 0 {
		return nil, errors.New("sim: scenario has no servers and no clients")
	}
	s := New(cfg.Seed, cfg.Profile, cfg.Network)
	if err := s.World().Mutate(cfg.Mutation); err != nil {
		return nil, err
	}
	if cfg.NoTrace {
		s.DisableTrace()
	}
	if cfg.Sink != nil {
		s.StreamTrace(cfg.Sink)
	}
	r := &Running{Sim: s, end: cfg.For}
	w := s.World()
	for _, spec := range sc.Servers {
		srv := &ServerApp{Spec: spec}
		r.Servers = append(r.Servers, srv)
		if err := r.startServer(srv); err != nil {
			return nil, err
		}
	}
	for i, spec := range sc.Clients {
		c := &ClientApp{Spec: spec}
		r.Clients = append(r.Clients, c)
		if err := w.NewREQ(spec.Name, spec.Options); err != nil {
			return nil, fmt.Errorf("sim: client %s: %w", spec.Name, err)
		}
		for _, ep := range spec.Connect {
			if err := w.Connect(spec.Name, ep); err != nil {
				return nil, fmt.Errorf("sim: client %s: %w", spec.Name, err)
			}
		}
		if spec.Interval > 0 {
			s.scheduleApp(spec.FirstSend(), appTick, i, 0)
		}
	}
	s.observe = r.annotate
	s.app = r.appEvent
	s.react = r.react
	s.Settle()
	for _, f := range cfg.Faults {
		if err := f.schedule(r); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// Result summarises the run so far.
func (r *Running) Result() *Result {
	res := &Result{Trace: r.Sim.Trace(), End: r.Sim.Now(), Queues: map[string]int{}}
	for _, c := range r.Clients {
		res.Queues[c.Spec.Name] = c.Queue.Len()
	}
	return res
}

func (r *Running) client(name string) *ClientApp {
	for _, c := range r.Clients {
		if c.Spec.Name == name {
			return c
		}
	}
	return nil
}

func (r *Running) server(name string) *ServerApp {
	for _, srv := range r.Servers {
		if srv.Spec.Name == name {
			return srv
		}
	}
	return nil
}

// annotate gives the application queue's length for a client's send.
func (r *Running) annotate(o model.Observation) (queue int, ok bool) {
	if o.Kind != model.EventSend {
		return 0, false
	}
	if c := r.client(o.Actor); c != nil {
		return c.Queue.Len(), true
	}
	return 0, false
}

// appEvent performs a typed application event: a client's tick or a
// server's reply, by index into Clients or Servers.
func (r *Running) appEvent(kind netEvent, i, aux int) {
	switch kind {
	case appTick:
		r.tick(r.Clients[i], i)
	case appReply:
		srv := r.Servers[i]
		r.reply(srv, aux, srv.req, srv.from)
	}
}

// tick is the client's setInterval: send the next counter through the
// queue and print its length, as the blog's client does.
func (r *Running) tick(c *ClientApp, i int) {
	s := r.Sim
	m := app.Request(c.sent)
	c.sent++
	c.Queue.Enqueue(m)
	r.flush(c, func() {
		s.Record(trace.Event{Actor: c.Spec.Name, Kind: model.EventEnqueue, Msg: m.Text(), HasMsg: true, Queue: c.Queue.Len(), HasQueue: true})
	})
	s.scheduleApp(c.Spec.NextSend(s.Now()), appTick, i, 0)
}

// flush hands queued requests to the socket one at a time, so that each
// send is traced with the queue length it left. before runs after the first
// hand-over and before its trace lines, so that an enqueue that is sent at
// once reads "enqueue, send" with the queue it left.
func (r *Running) flush(c *ClientApp, before func()) bool {
	s := r.Sim
	progress := false
	for {
		_, ok := c.Queue.FlushOne(s.World(), c.Spec.Name)
		if before != nil {
			before()
			before = nil
		}
		if !ok {
			return progress
		}
		progress = true
		s.Settle()
	}
}

// react lets every application respond to what the last event changed.
func (r *Running) react() bool {
	s := r.Sim
	w := s.World()
	progress := false
	for _, c := range r.Clients {
		for w.Readable(c.Spec.Name) {
			reply, err := w.Recv(c.Spec.Name)
			s.Settle()
			if err != nil {
				if !errors.Is(err, model.ErrAgain) {
					s.Record(trace.Event{Actor: c.Spec.Name, Kind: model.EventError, Reason: "recv: " + err.Error()})
				}
				break
			}
			progress = true
			s.Record(trace.Event{Actor: c.Spec.Name, Kind: model.EventReceive, Msg: reply.Text(), HasMsg: true, Queue: c.Queue.Len(), HasQueue: true})
		}
		if r.flush(c, nil) {
			progress = true
		}
	}
	for i, srv := range r.Servers {
		if !srv.Up || srv.holding || !w.Readable(srv.Spec.Name) {
			continue
		}
		req, err := w.Recv(srv.Spec.Name)
		s.Settle()
		if err != nil {
			if !errors.Is(err, model.ErrAgain) {
				s.Record(trace.Event{Actor: srv.Spec.Name, Kind: model.EventError, Reason: "recv: " + err.Error()})
			}
			continue
		}
		progress = true
		srv.Count++
		srv.holding = true
		from := w.RequestFrom(srv.Spec.Name)
		s.Record(trace.Event{Actor: srv.Spec.Name, Kind: model.EventDeliver, Msg: req.Text(), HasMsg: true, Peer: from})
		delay, answer := srv.Spec.Policy(srv.Count)
		if !answer {
			continue
		}
		// At most one reply is pending per incarnation: the server reads
		// no other request while holding this one, so the event needs
		// only the incarnation, and req and from wait on the server.
		srv.req, srv.from = req, from
		s.scheduleApp(s.Now()+delay, appReply, i, srv.incarnation)
	}
	return progress
}

// reply is the server application's timer: answer req unless the process
// that read it has died since.
func (r *Running) reply(srv *ServerApp, incarnation int, req model.Message, to string) {
	if srv.incarnation != incarnation || !srv.Up || !srv.holding {
		return
	}
	s := r.Sim
	rep := app.Reply(req)
	s.Record(trace.Event{Actor: srv.Spec.Name, Kind: model.EventReply, Msg: rep.Text(), HasMsg: true, Peer: to})
	if err := s.World().Send(srv.Spec.Name, rep); err != nil {
		s.Record(trace.Event{Actor: srv.Spec.Name, Kind: model.EventError, Reason: "send: " + err.Error()})
	}
	srv.holding = false
	srv.req, srv.from = nil, ""
}

func (r *Running) startServer(srv *ServerApp) error {
	w := r.Sim.World()
	if err := w.NewREP(srv.Spec.Name, srv.Spec.Options); err != nil {
		return fmt.Errorf("sim: server %s: %w", srv.Spec.Name, err)
	}
	if err := w.Bind(srv.Spec.Name, srv.Spec.Endpoint); err != nil {
		return fmt.Errorf("sim: server %s: %w", srv.Spec.Name, err)
	}
	srv.Up, srv.Count, srv.holding = true, 0, false
	srv.req, srv.from = nil, ""
	return nil
}

// Crash kills a server process now: its socket closes and everything it
// held is lost (F19). It does nothing if the server is already down.
func (r *Running) Crash(name string) error {
	srv := r.server(name)
	if srv == nil {
		return fmt.Errorf("sim: no server %q", name)
	}
	if !srv.Up {
		return nil
	}
	s := r.Sim
	s.Record(trace.Event{Actor: name, Kind: model.EventCrash})
	srv.Up, srv.holding = false, false
	srv.incarnation++
	if err := s.World().Crash(name); err != nil {
		return err
	}
	s.Settle()
	return nil
}

// Restart starts a crashed server process again: a new REP binds the same
// endpoint, and its request count starts from zero.
func (r *Running) Restart(name string) error {
	srv := r.server(name)
	if srv == nil {
		return fmt.Errorf("sim: no server %q", name)
	}
	if srv.Up {
		return nil
	}
	if err := r.startServer(srv); err != nil {
		return err
	}
	r.Sim.Record(trace.Event{Actor: name, Kind: model.EventRestart, Peer: srv.Spec.Endpoint})
	r.Sim.Settle()
	return nil
}
