package app

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/zeromq-lockstep/lockstep/backend"
	"github.com/zeromq-lockstep/lockstep/model"
	"github.com/zeromq-lockstep/lockstep/trace"
)

// RunConfig is one run of a scenario on a backend.
type RunConfig struct {
	// For is how long the run lasts, in the backend's time.
	For time.Duration
	// Faults are injected at their times.
	Faults []Fault
	// Sink, when set, receives every trace event as it happens, and
	// Result.Trace stays empty: a long run prints without holding its
	// trace in memory.
	Sink func(trace.Event)
	// Checkpoint, when set, is called at every whole minute of the run
	// with the time and each client's queue length, in the scenario's
	// order; when it returns false the run stops there. A long streamed
	// run stops on its first failed write this way.
	Checkpoint func(now time.Duration, queues []int) bool
}

// CheckpointEvery is how often RunConfig.Checkpoint is called.
const CheckpointEvery = time.Minute

// Result is what a run produced.
type Result struct {
	Trace []trace.Event
	// End is the time the run stopped at.
	End time.Duration
	// Queues is each client's application queue length at the end.
	Queues map[string]int
	// Timers is how many application timers fired (sends and replies).
	Timers int
}

// Run runs scenario sc on b for cfg.For and returns its trace: the one
// implementation of the blog's client and server, whatever the backend.
//
//	b, _ := backend.Open("sim")
//	res, err := app.Run(b, app.Scenarios()[0], app.RunConfig{For: 10 * time.Second})
//
// Each client is a REQ behind the Node binding's queue (F24,
// [backend.Queuer]): every Interval it enqueues [Request] of its counter,
// and it reads each reply as soon as one is there. Each server is a REP
// that reads one request at a time and answers it with [Reply] after the
// delay its Policy gives, counting from 1 in each incarnation. The run
// waits on the backend ([backend.Backend.Wait]) between its timers, so it
// follows virtual time on the simulator and real time on a real library.
// A crash kills a server's process: the request its application held is
// lost (F19), traced as a drop by the backend when it observes one and
// by the run when it does not. Run leaves b open; the caller shuts it
// down.
func Run(b backend.Backend, sc Scenario, cfg RunConfig) (*Result, error) {
	if cfg.For < 0 {
		return nil, fmt.Errorf("app: negative duration %v", cfg.For)
	}
	if len(sc.Servers) == 0 && len(sc.Clients) == 0 {
		return nil, errors.New("app: scenario has no servers and no clients")
	}
	q, ok := b.(backend.Queuer)
	if !ok && len(sc.Clients) > 0 {
		return nil, fmt.Errorf("%w: app: clients need the binding's queue (backend.Queuer)", backend.ErrUnsupported)
	}
	r := &runner{b: b, q: q, cfg: cfg, res: &Result{Queues: map[string]int{}}}
	if o, ok := b.(backend.Observer); ok {
		r.observes = o.Observes()
	} else {
		r.observes = true
	}
	if s, ok := b.(backend.Streamer); ok {
		s.StreamEvents(r.record)
	}
	if err := r.start(sc); err != nil {
		return nil, err
	}
	if err := r.loop(); err != nil && !errors.Is(err, errStopped) {
		return nil, err
	}
	r.emit()
	r.res.End = b.Now()
	for _, c := range r.clients {
		n, err := q.QueueLen(c.Name)
		if err != nil {
			return nil, err
		}
		r.res.Queues[c.Name] = n
	}
	return r.res, nil
}

// runner is one run: the applications' state and their timers.
type runner struct {
	b        backend.Backend
	q        backend.Queuer
	cfg      RunConfig
	res      *Result
	observes bool
	clients  []*clientApp
	servers  []*serverApp
	timers   timers
	watch    []string  // the sockets whose messages the applications await
	one      [1]string // the socket react asks Wait about, without an allocation
	request  [1]string // the frame of the request a client enqueues (Enqueue copies it)
}

type clientApp struct {
	Client
	sent int // requests enqueued so far: the next one's counter
}

type serverApp struct {
	Server
	up bool
	// count is the number of requests this incarnation has read; the
	// policy's "every third" counts from here, and a restart resets it.
	count       int
	incarnation int
	holding     bool
	held        model.Message // the request the application holds
	// broken is set by a receive that failed other than with EAGAIN:
	// the application stops reading until the process restarts, rather
	// than spin on the error.
	broken bool
}

func (r *runner) start(sc Scenario) error {
	for _, s := range sc.Servers {
		srv := &serverApp{Server: s}
		r.servers = append(r.servers, srv)
		if err := r.b.Open(s.Name, model.REP, s.Options); err != nil {
			return fmt.Errorf("app: server %s: %w", s.Name, err)
		}
		if err := r.b.Bind(s.Name, s.Endpoint); err != nil {
			return &EndpointError{Server: s.Name, Endpoint: s.Endpoint, Err: err}
		}
		srv.up = true
	}
	for i, c := range sc.Clients {
		r.clients = append(r.clients, &clientApp{Client: c})
		if err := r.b.Open(c.Name, model.REQ, c.Options); err != nil {
			return fmt.Errorf("app: client %s: %w", c.Name, err)
		}
		for _, ep := range c.Connect {
			if err := r.b.Connect(c.Name, ep); err != nil {
				return fmt.Errorf("app: client %s: connect %s: %w", c.Name, ep, err)
			}
		}
		if c.Interval > 0 {
			r.timers.push(timer{at: c.FirstSend(), kind: timerTick, id: i})
		}
	}
	r.emit()
	if r.cfg.Checkpoint != nil {
		r.at(CheckpointEvery, r.checkpoint)
	}
	for _, f := range r.cfg.Faults {
		if err := f.schedule(r); err != nil {
			return err
		}
	}
	return nil
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

// emit hands what the backend traced since the last call to the run's
// trace.
func (r *runner) emit() {
	for _, e := range r.b.Events() {
		r.record(e)
	}
}

// record adds an event; one the run makes itself is stamped with now.
func (r *runner) record(e trace.Event) {
	if r.cfg.Sink != nil {
		r.cfg.Sink(e)
		return
	}
	if len(r.res.Trace) == cap(r.res.Trace) {
		// Double, rather than let append grow a long trace by 1.25x: an
		// hour of the seed scenario is 80k events, and the copies and
		// garbage of 1.25x growth were almost a third of its bytes.
		r.res.Trace = slices.Grow(r.res.Trace, max(cap(r.res.Trace), 256))
	}
	r.res.Trace = append(r.res.Trace, e)
}

// loop waits for the next timer or a message, whichever comes first, and
// lets the applications act on it, until For.
func (r *runner) loop() error {
	end := r.cfg.For
	for {
		next := end
		if t, ok := r.timers.peek(); ok && t.at < next {
			next = t.at
		}
		ready, err := r.b.Wait(next, r.watching()...)
		r.emit()
		if err != nil {
			return err
		}
		if ready != "" {
			if err := r.react(); err != nil {
				return err
			}
			continue
		}
		t, ok := r.timers.peek()
		if !ok || t.at > r.b.Now() || t.at > end {
			if r.b.Now() >= end {
				return nil
			}
			continue // a real clock woke a little early
		}
		r.timers.pop()
		if err := r.fire(t); err != nil {
			return err
		}
		r.emit()
		if err := r.react(); err != nil {
			return err
		}
	}
}

// watching lists the sockets a message is awaited on: every client (its
// reply), every server that is up and holds no request (the next one).
func (r *runner) watching() []string {
	w := r.watch[:0]
	for _, c := range r.clients {
		w = append(w, c.Name)
	}
	for _, s := range r.servers {
		if s.up && !s.holding && !s.broken {
			w = append(w, s.Name)
		}
	}
	r.watch = w
	return w
}

// react reads what has arrived, until nothing more is there: replies on
// the clients, one request per idle server, as the blog's applications'
// message handlers do.
func (r *runner) react() error {
	for {
		progress := false
		for _, c := range r.clients {
			for r.readable(c.Name) {
				_, err := r.b.Recv(c.Name)
				r.emit()
				if err != nil {
					break
				}
				progress = true
			}
		}
		for i, s := range r.servers {
			if !s.up || s.holding || s.broken || !r.readable(s.Name) {
				continue
			}
			req, err := r.b.Recv(s.Name)
			r.emit()
			if err != nil {
				s.broken = !errors.Is(err, model.ErrAgain)
				continue
			}
			progress = true
			s.count++
			s.holding, s.held = true, req
			if delay, answer := s.Policy(s.count); answer {
				// At most one reply is pending per incarnation: the
				// server reads no other request while it holds this one.
				r.timers.push(timer{at: r.b.Now() + delay, kind: timerReply, id: i, aux: s.incarnation})
			}
		}
		if !progress {
			return nil
		}
	}
}

// readable says whether a message is there for socket name now.
func (r *runner) readable(name string) bool {
	r.one[0] = name
	ready, err := r.b.Wait(r.b.Now(), r.one[:]...)
	return err == nil && ready != ""
}

// fire runs one timer.
func (r *runner) fire(t timer) error {
	switch t.kind {
	case timerTick:
		r.res.Timers++
		c := r.clients[t.id]
		r.request[0] = Request(c.sent)[0]
		m := model.Message(r.request[:])
		c.sent++
		if _, err := r.q.Enqueue(c.Name, m); err != nil {
			return err
		}
		r.timers.push(timer{at: c.NextSend(t.at), kind: timerTick, id: t.id})
	case timerReply:
		r.res.Timers++
		s := r.servers[t.id]
		if s.incarnation != t.aux || !s.up || !s.holding {
			return nil // the process that read the request has died since
		}
		rep := Reply(s.held)
		s.holding, s.held = false, nil
		_ = r.b.Send(s.Name, rep) // a failed send is the backend's error line
	case timerFault:
		return t.do()
	}
	return nil
}

// errStopped ends a run that its Checkpoint stopped.
var errStopped = errors.New("stopped")

func (r *runner) checkpoint() error {
	queues := make([]int, len(r.clients))
	for i, c := range r.clients {
		n, err := r.q.QueueLen(c.Name)
		if err != nil {
			return err
		}
		queues[i] = n
	}
	now := r.b.Now()
	if !r.cfg.Checkpoint(now, queues) {
		return errStopped
	}
	r.at(now+CheckpointEvery, r.checkpoint)
	return nil
}

// crash kills a server's process now (F19); it does nothing if the server
// is down.
func (r *runner) crash(name string) error {
	s := r.server(name)
	if !s.up {
		return nil
	}
	held, holding := s.held, s.holding
	s.up, s.holding, s.held = false, false, nil
	s.incarnation++
	err := r.b.Crash(name)
	r.emit()
	if err := r.failed(name, "crash", err); err != nil {
		return err
	}
	if holding && !r.observes {
		r.record(trace.Event{At: r.b.Now(), Actor: name, Kind: model.EventDrop, Msg: held.Text(), HasMsg: true,
			Reason: "request held by server that crashed"})
	}
	return nil
}

// restart starts a crashed server's process again: a new REP binds its
// endpoint, and its request count starts from zero.
func (r *runner) restart(name string) error {
	s := r.server(name)
	if s.up {
		return nil
	}
	err := r.b.Restart(name)
	r.emit()
	if err != nil {
		return r.failed(name, "restart", err)
	}
	s.up, s.count, s.holding, s.held, s.broken = true, 0, false, nil, false
	return nil
}

// failed ends the run on a failure of the backend itself; a process that
// cannot crash or restart (a port still in use, say) is an outcome of
// the run, traced as an error.
func (r *runner) failed(name, op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, backend.ErrBackend) {
		return err
	}
	r.record(trace.Event{At: r.b.Now(), Actor: name, Kind: model.EventError, Reason: op + ": " + err.Error()})
	return nil
}

func (r *runner) server(name string) *serverApp {
	for _, s := range r.servers {
		if s.Name == name {
			return s
		}
	}
	return nil
}
