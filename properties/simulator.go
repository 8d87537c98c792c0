package properties

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/zeromq-lockstep/lockstep/app"
	"github.com/zeromq-lockstep/lockstep/model"
	"github.com/zeromq-lockstep/lockstep/sim"
	"github.com/zeromq-lockstep/lockstep/trace"

	"pgregory.net/rapid"
)

// SimulatorScenarios puts the simulator itself under a property: a
// built-in scenario, a seed, a network and a fault schedule (crashes and
// restarts, cuts and heals in either direction, slow links) are drawn,
// and [sim.Run], with its own seeded choices, must keep the promises of
// REQ/REP and of its applications in the trace it prints: every client
// sends in lockstep and each reply answers its latest request (F1, F9);
// the application queue hands requests over in order, none skipped, and
// holds what was enqueued and not sent (F24); a request held by a crashed
// server is never read or answered again, and its client never receives
// again (F19); each server answers its n-th request after the delay its
// policy gives for n, counted from its last restart, and a crashed
// incarnation's timers never act; the same seed gives the same trace. And
// it must keep its own contracts on time (simTiming): faults act when
// scheduled, messages take the network's latency, reconnects wait
// RECONNECT_IVL plus a uniform jitter, clients send on their interval,
// servers answer when their policy says; and its documented defaults and
// streaming (simContracts).
//
//	rapid.Check(t, properties.SimulatorScenarios)
func SimulatorScenarios(t *rapid.T) { check("TestSimulatorScenarios", t) }

// simRun is one drawn simulator run, for replay.
type simRun struct {
	cfg   string
	trace []trace.Event
}

func (r *simRun) run() Run { return Run{Config: r.cfg, Trace: r.trace} }

func simulatorScenarios(t *rapid.T, mut model.Mutation) {
	scenarios := app.Scenarios()
	sc := rapid.SampledFrom(scenarios).Draw(t, "scenario")
	if rapid.IntRange(0, 9).Draw(t, "a silent client") == 0 {
		// A client without an interval connects and never sends.
		sc.Clients = slices.Clone(sc.Clients)
		sc.Clients[rapid.IntRange(0, len(sc.Clients)-1).Draw(t, "silent")].Interval = 0
	}
	// Times are drawn from sets, not ranges: rapid favours small numbers,
	// and the interesting crashes fall seconds into a run.
	cfg := sim.Config{
		Mutation: mut,
		Seed:     rapid.Uint64().Draw(t, "seed"),
		For:      rapid.SampledFrom([]time.Duration{0, time.Second, 2 * time.Second, 3 * time.Second, 5 * time.Second, 10 * time.Second, 30 * time.Second}).Draw(t, "for"),
	}
	length := cfg.For
	if length == 0 {
		length = sim.DefaultFor // zero For runs the default
	}
	if rapid.Bool().Draw(t, "own network") {
		lat := time.Duration(rapid.IntRange(10, 5000).Draw(t, "latency µs")) * time.Microsecond
		cfg.Network = sim.Network{Latency: lat, Jitter: time.Duration(rapid.Int64Range(0, int64(lat)).Draw(t, "jitter"))}
	}
	at := func(label string) time.Duration {
		tenth := rapid.IntRange(-1, 9).Draw(t, label+" tenth")
		if tenth < 0 {
			return 0 // at the very start, before the first dial completes
		}
		return length*time.Duration(tenth)/10 + time.Duration(rapid.IntRange(0, 99_999).Draw(t, label+" µs"))*time.Microsecond
	}
	span := func(label string) time.Duration {
		return rapid.SampledFrom([]time.Duration{0, time.Microsecond, time.Millisecond, 50 * time.Millisecond, 150 * time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second, 5 * time.Second}).Draw(t, label)
	}
	for i := rapid.SampledFrom([]int{0, 1, 1, 2, 3}).Draw(t, "faults"); i > 0; i-- {
		srv := rapid.SampledFrom(sc.Servers).Draw(t, "server").Name
		cl := rapid.SampledFrom(sc.Clients).Draw(t, "client").Name
		a, b := cl, srv
		if rapid.Bool().Draw(t, "from the server") {
			a, b = b, a
		}
		switch rapid.SampledFrom([]string{"crash", "cut", "slow"}).Draw(t, "fault") {
		case "crash":
			cfg.Faults = append(cfg.Faults, sim.Crash{Server: srv, At: at("crash at"), Down: span("down for")})
		case "cut":
			cfg.Faults = append(cfg.Faults, sim.CutLink{A: a, B: b, At: at("cut at"), For: span("cut for")})
		case "slow":
			cfg.Faults = append(cfg.Faults, sim.SlowLink{A: a, B: b, At: at("slow at"), Extra: span("extra")})
		}
	}
	desc := fmt.Sprintf("scenario=%s seed=%d for=%v network=%+v faults=%+v", sc.Name, cfg.Seed, cfg.For, cfg.Network, cfg.Faults)
	t.Logf("config: %s", desc)
	res, err := sim.Run(sc, cfg)
	if err != nil {
		t.Fatalf("simulator: %s: %v", desc, err)
	}
	setLastRun(&simRun{cfg: desc, trace: res.Trace})
	simContracts(t, sc, cfg, res)
	checkSimTrace(t, sc, res)
	newSimTiming(sc, cfg).check(t, res)
}

// checkSimTrace judges a scenario's trace by the rules in
// SimulatorScenarios' doc.
func checkSimTrace(t *rapid.T, sc app.Scenario, res *sim.Result) {
	type client struct {
		enqueued, sent int
		outstanding    string // the request awaiting its reply, "" when none
		lost           bool   // its outstanding request died with a server (F19)
	}
	type server struct {
		spec     app.Server
		count    int // requests read since the last (re)start
		held     string
		heldFrom string
		heldAt   time.Duration
		up       bool
	}
	clients := map[string]*client{}
	for _, c := range sc.Clients {
		clients[c.Name] = &client{}
	}
	servers := map[string]*server{}
	for _, s := range sc.Servers {
		servers[s.Name] = &server{spec: s, up: true}
	}
	lostHeld := map[[2]string]bool{} // (client, request) held by a crashed server
	var last time.Duration
	for _, e := range res.Trace {
		if e.At < last {
			t.Fatalf("simulator: %s goes back in time from %v", e.Text(), last)
		}
		last = e.At
		c, srv := clients[e.Actor], servers[e.Actor]
		switch {
		case c != nil && e.Kind == model.EventEnqueue:
			if want := fmt.Sprint(c.enqueued); e.Msg != want {
				t.Fatalf("simulator: %s enqueued %s, want %s: the counter skipped (F24)", e.Actor, e.Msg, want)
			}
			c.enqueued++
		case c != nil && e.Kind == model.EventSend:
			if c.outstanding != "" {
				t.Fatalf("simulator: %s sent %s while %s awaits its reply (F1)", e.Actor, e.Msg, c.outstanding)
			}
			if want := fmt.Sprint(c.sent); e.Msg != want {
				t.Fatalf("simulator: %s's queue handed over %s, want %s: out of order or skipped (F24)", e.Actor, e.Msg, want)
			}
			c.sent++
			c.outstanding = e.Msg
		case c != nil && e.Kind == model.EventReceive:
			got, ok := answered(e.Msg)
			if !ok || got != c.outstanding {
				t.Fatalf("simulator: %s took %s while its request is %q (F9)", e.Actor, e.Msg, c.outstanding)
			}
			if c.lost {
				t.Fatalf("simulator: %s received %s after its request died with a server (F19)", e.Actor, e.Msg)
			}
			c.outstanding = ""
		case srv != nil && e.Kind == model.EventDeliver:
			if lostHeld[[2]string{e.Peer, e.Msg}] {
				t.Fatalf("simulator: %s read %s from %s again after it died with a server (F19)", e.Actor, e.Msg, e.Peer)
			}
			srv.count++
			srv.held, srv.heldFrom, srv.heldAt = e.Msg, e.Peer, e.At
		case srv != nil && e.Kind == model.EventReply:
			if !srv.up || srv.held == "" {
				t.Fatalf("simulator: %s replied %s holding no request: a dead incarnation's timer acted", e.Actor, e.Msg)
			}
			if got, _ := answered(e.Msg); got != srv.held || e.Peer != srv.heldFrom {
				t.Fatalf("simulator: %s replied %s to %s, but holds %s from %s (F15)", e.Actor, e.Msg, e.Peer, srv.held, srv.heldFrom)
			}
			delay, answer := srv.spec.Policy(srv.count)
			if !answer || e.At-srv.heldAt != delay {
				t.Fatalf("simulator: %s answered its request %d after %v; its policy says %v (answer=%v)", e.Actor, srv.count, e.At-srv.heldAt, delay, answer)
			}
			srv.held = ""
		case srv != nil && e.Kind == model.EventCrash:
			if srv.held != "" {
				lostHeld[[2]string{srv.heldFrom, srv.held}] = true
				if c := clients[srv.heldFrom]; c != nil && c.outstanding == srv.held {
					c.lost = true
				}
			}
			srv.up, srv.held = false, ""
		case srv != nil && e.Kind == model.EventRestart:
			srv.up, srv.count = true, 0
		case c != nil && e.Kind == model.EventDrop && e.Msg == c.outstanding:
			// The model reports the request lost on the wire (F22).
			c.lost = true
		}
	}
	for name, c := range clients {
		if q := res.Queues[name]; q != c.enqueued-c.sent {
			t.Fatalf("simulator: %s's queue holds %d, but %d were enqueued and %d sent (F24)", name, q, c.enqueued, c.sent)
		}
	}
}

// answered is the request a scenario reply {"response":"k"} answers.
func answered(reply string) (string, bool) {
	var obj map[string]string
	if err := json.Unmarshal([]byte(reply), &obj); err != nil || len(obj) != 1 {
		return "", false
	}
	k, ok := obj["response"]
	return k, ok
}

// SimulatorAgenda: the simulator runs what is due at one instant in the
// order it was scheduled, never runs anything early, and moves a time in
// the past to now; events scheduled while others run obey the same rules.
// Its backend keeps the same time through Advance and Wait, restarts
// what crashed, and bounds a run (backendAgenda).
//
//	rapid.Check(t, properties.SimulatorAgenda)
func SimulatorAgenda(t *rapid.T) { check("TestSimulatorAgenda", t) }

func simulatorAgenda(t *rapid.T, _ model.Mutation) {
	s := sim.New(rapid.Uint64().Draw(t, "seed"), model.LibZMQ, sim.DefaultNetwork)
	type job struct {
		seq  int           // order of scheduling
		due  time.Duration // when it may run at the earliest
		ran  time.Duration
		done bool
	}
	var jobs []*job
	var order []int
	var add func(at time.Duration, children int)
	add = func(at time.Duration, children int) {
		j := &job{seq: len(jobs), due: max(at, s.Now())}
		jobs = append(jobs, j)
		s.At(at, func() {
			j.ran, j.done = s.Now(), true
			order = append(order, j.seq)
			for i := 0; i < children; i++ {
				// Few distinct times, so that ties are common; some in
				// the past.
				add(s.Now()+time.Duration(rapid.IntRange(-2, 3).Draw(t, "later"))*time.Millisecond, 0)
			}
		})
	}
	for i := rapid.IntRange(1, 40).Draw(t, "jobs"); i > 0; i-- {
		add(time.Duration(rapid.IntRange(0, 5).Draw(t, "at"))*time.Millisecond, rapid.IntRange(0, 2).Draw(t, "children"))
	}
	s.RunUntil(time.Second)
	for _, j := range jobs {
		if !j.done {
			t.Fatalf("simulator: job %d due at %v never ran", j.seq, j.due)
		}
		if j.ran != j.due {
			t.Fatalf("simulator: job %d due at %v ran at %v", j.seq, j.due, j.ran)
		}
	}
	sorted := slices.Clone(order)
	slices.SortStableFunc(sorted, func(a, b int) int {
		if jobs[a].due != jobs[b].due {
			return int(jobs[a].due - jobs[b].due)
		}
		return a - b
	})
	if !slices.Equal(order, sorted) {
		t.Fatalf("simulator: jobs ran in the order %v, want (time, scheduling order) %v", order, sorted)
	}
	backendAgenda(t)
	backendEventBound(t)
}
