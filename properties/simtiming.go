package properties

import (
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/zeromq-lockstep/lockstep/app"
	"github.com/zeromq-lockstep/lockstep/model"
	"github.com/zeromq-lockstep/lockstep/sim"
	"github.com/zeromq-lockstep/lockstep/trace"

	"pgregory.net/rapid"
)

// simTiming judges a scenario's trace against the simulator's contracts on
// time: faults act exactly when scheduled (in scheduling order at one
// instant); every message takes at least the network's latency plus what
// slow links add; a reconnect timer waits RECONNECT_IVL plus rand() %
// RECONNECT_IVL, drawn from the seeded generator uniformly (F23), and a
// dial then takes a round trip; a client sends on its interval; a server
// answers when its policy says unless it dies first; sends and receives
// carry the application queue's length.
type simTiming struct {
	sc  app.Scenario
	cfg sim.Config
	net sim.Network
	end time.Duration
}

func newSimTiming(sc app.Scenario, cfg sim.Config) *simTiming {
	st := &simTiming{sc: sc, cfg: cfg, net: cfg.Network, end: cfg.For}
	if st.net == (sim.Network{}) {
		st.net = sim.DefaultNetwork
	}
	if st.end == 0 {
		st.end = sim.DefaultFor
	}
	return st
}

// extra is what slow links between a and b added by faults at or before t
// (before t only, when strict).
func (st *simTiming) extra(a, b string, t time.Duration, strict bool) time.Duration {
	var x time.Duration
	for _, f := range st.cfg.Faults {
		if s, ok := f.(sim.SlowLink); ok && (s.A == a && s.B == b || s.A == b && s.B == a) && (s.At < t || !strict && s.At == t) {
			x += s.Extra
		}
	}
	return x
}

// faultEvents is the trace lines the faults must make, in order: crashes
// and restarts of servers that are up and down then, cuts and heals.
func (st *simTiming) faultEvents() []trace.Event {
	type due struct {
		at   time.Duration
		kind model.EventKind
		a, b string
	}
	var dues []due
	for _, f := range st.cfg.Faults {
		switch f := f.(type) {
		case sim.Crash:
			dues = append(dues, due{f.At, model.EventCrash, f.Server, ""})
			if f.Down > 0 {
				dues = append(dues, due{f.At + f.Down, model.EventRestart, f.Server, ""})
			}
		case sim.CutLink:
			dues = append(dues, due{f.At, model.EventCut, f.A, f.B})
			if f.For > 0 {
				dues = append(dues, due{f.At + f.For, model.EventHeal, f.A, f.B})
			}
		}
	}
	// At one instant the agenda runs them in the order they were
	// scheduled, which is the order of the faults.
	slices.SortStableFunc(dues, func(x, y due) int { return int(x.at - y.at) })
	up := map[string]bool{}
	for _, s := range st.sc.Servers {
		up[s.Name] = true
	}
	var out []trace.Event
	for _, d := range dues {
		if d.at > st.end {
			break
		}
		switch {
		case d.kind == model.EventCrash && up[d.a]:
			up[d.a] = false
			out = append(out, trace.Event{At: d.at, Actor: d.a, Kind: d.kind})
		case d.kind == model.EventRestart && !up[d.a]:
			up[d.a] = true
			out = append(out, trace.Event{At: d.at, Actor: d.a, Kind: d.kind})
		case d.kind == model.EventCut || d.kind == model.EventHeal:
			out = append(out, trace.Event{At: d.at, Actor: d.a, Kind: d.kind, Peer: d.b})
		}
	}
	return out
}

func (st *simTiming) serverOf(endpoint string) string {
	for _, s := range st.sc.Servers {
		if s.Endpoint == endpoint {
			return s.Name
		}
	}
	return endpoint
}

func (st *simTiming) endpointOf(server string) string {
	for _, s := range st.sc.Servers {
		if s.Name == server {
			return s.Endpoint
		}
	}
	return server
}

// check runs every timing rule over res.
func (st *simTiming) check(t *rapid.T, res *sim.Result) {
	fail := func(format string, args ...any) { t.Fatalf("simulator: "+format, args...) }
	if res.End != st.end {
		fail("the run ended at %v, want %v", res.End, st.end)
	}
	var faults []trace.Event
	for _, e := range res.Trace {
		switch e.Kind {
		case model.EventCrash, model.EventRestart, model.EventCut, model.EventHeal:
			faults = append(faults, trace.Event{At: e.At, Actor: e.Actor, Kind: e.Kind, Peer: cutPeer(e)})
		}
	}
	if want := st.faultEvents(); !slices.Equal(faults, want) {
		fail("the faults acted as %v, want %v: each exactly when scheduled", faults, want)
	}
	st.cuts(fail, res)
	st.ticks(fail, res)
	st.latencies(fail, res)
	st.reconnects(fail, res)
	st.replies(fail, res)
}

// cuts: while a link is cut no connection is made across it, and a
// restarted server binds its endpoint again.
func (st *simTiming) cuts(fail func(string, ...any), res *sim.Result) {
	cut := map[[2]string]bool{}
	pair := func(a, b string) [2]string {
		if a > b {
			a, b = b, a
		}
		return [2]string{a, b}
	}
	for _, e := range res.Trace {
		switch e.Kind {
		case model.EventCut:
			cut[pair(e.Actor, e.Peer)] = true
		case model.EventHeal:
			delete(cut, pair(e.Actor, e.Peer))
		case model.EventConnect:
			if cut[pair(e.Actor, e.Peer)] {
				fail("%s connected to %s at %v across a cut link", e.Actor, e.Peer, e.At)
			}
		case model.EventRestart:
			if want := st.endpointOf(e.Actor); e.Peer != want {
				fail("%s restarted bound to %q, want %q", e.Actor, e.Peer, want)
			}
		}
	}
}

// cutPeer keeps the peer of cut and heal lines only (a restart names its
// endpoint).
func cutPeer(e trace.Event) string {
	if e.Kind == model.EventCut || e.Kind == model.EventHeal {
		return e.Peer
	}
	return ""
}

// ticks: a client enqueues its k-th request at its k-th send time, every
// one due by the end, and its sends and receives carry its queue's length.
func (st *simTiming) ticks(fail func(string, ...any), res *sim.Result) {
	for _, c := range st.sc.Clients {
		due := c.FirstSend()
		k, sent := 0, 0
		for _, e := range res.Trace {
			if e.Actor != c.Name {
				continue
			}
			switch e.Kind {
			case model.EventEnqueue:
				if c.Interval <= 0 {
					fail("%s enqueued %s, but it has no interval to send on", c.Name, e.Msg)
				}
				if e.At != due || e.Msg != strconv.Itoa(k) {
					fail("%s enqueued %s at %v, want %d at %v: it sends every %v", c.Name, e.Msg, e.At, k, due, c.Interval)
				}
				k++
				due = c.NextSend(due)
			case model.EventSend, model.EventReceive:
				if e.Kind == model.EventSend {
					sent++
				}
				if !e.HasQueue || e.Queue != k-sent {
					fail("%s's %s of %s says its queue holds %d (%v), want %d (F24)", c.Name, e.Kind, e.Msg, e.Queue, e.HasQueue, k-sent)
				}
			}
		}
		if c.Interval > 0 && due <= st.end {
			fail("%s's send due at %v never came (the run ends at %v)", c.Name, due, st.end)
		}
	}
}

// latencies: a request reaches its server, and a reply its client, no
// sooner than the network's latency plus the slow links' extra.
func (st *simTiming) latencies(fail func(string, ...any), res *sim.Result) {
	sentAt := map[[2]string]time.Duration{}    // (client, body) -> when sent
	sentTo := map[[2]string]string{}           // (client, body) -> server
	repliedAt := map[[2]string]time.Duration{} // (client, reply) -> when the server sent it
	repliedBy := map[[2]string]string{}
	for _, e := range res.Trace {
		switch e.Kind {
		case model.EventSend:
			sentAt[[2]string{e.Actor, e.Msg}], sentTo[[2]string{e.Actor, e.Msg}] = e.At, st.serverOf(e.Peer)
		case model.EventDeliver:
			key := [2]string{e.Peer, e.Msg}
			if at, ok := sentAt[key]; ok && sentTo[key] == e.Actor {
				if min := st.net.Latency + st.extra(e.Peer, e.Actor, at, true); e.At-at < min {
					fail("%s's request %s reached %s after %v, less than the latency %v", e.Peer, e.Msg, e.Actor, e.At-at, min)
				}
			}
		case model.EventReply:
			repliedAt[[2]string{e.Peer, e.Msg}], repliedBy[[2]string{e.Peer, e.Msg}] = e.At, e.Actor
		case model.EventReceive:
			key := [2]string{e.Actor, e.Msg}
			if at, ok := repliedAt[key]; ok {
				if min := st.net.Latency + st.extra(e.Actor, repliedBy[key], at, true); e.At-at < min {
					fail("%s received %s after %v, less than the latency %v", e.Actor, e.Msg, e.At-at, min)
				}
			}
		}
	}
}

// reconnects: after a failed dial or a lost connection, the next attempt
// of that connect() completes RECONNECT_IVL plus a jitter below it plus a
// round trip later (F23); over many retries on clean links the jitter
// falls in both halves of its range, as a uniform draw does (a run that
// has 40 of them misses a half with odds below 1e-8).
func (st *simTiming) reconnects(fail func(string, ...any), res *sim.Result) {
	ivl := map[string]time.Duration{}
	for _, c := range st.sc.Clients {
		ivl[c.Name] = c.Options.ReconnectIvl
		if ivl[c.Name] == 0 {
			ivl[c.Name] = model.DefaultReconnectIvl
		}
	}
	from := map[[2]string]time.Duration{}
	clean, low, high := 0, 0, 0
	for _, e := range res.Trace {
		base, isClient := ivl[e.Actor]
		if !isClient {
			continue
		}
		var ep string
		switch e.Kind {
		case model.EventRetry:
			ep = e.Peer
		case model.EventConnect, model.EventDisconnect:
			ep = st.endpointOf(e.Peer)
		default:
			continue
		}
		key := [2]string{e.Actor, ep}
		if t0, ok := from[key]; ok && e.Kind != model.EventDisconnect {
			x := st.extra(e.Actor, st.serverOf(ep), e.At, false)
			gap := e.At - t0
			lo, hi := base+2*st.net.Latency, 2*base-time.Millisecond+2*(st.net.Latency+st.net.Jitter+x)
			if gap < lo || gap > hi {
				fail("%s's attempt to %s came %v after the last failure, want in [%v, %v]: RECONNECT_IVL, its jitter, a round trip (F23)", e.Actor, ep, gap, lo, hi)
			}
			if x == 0 {
				clean++
				if gap-base-2*(st.net.Latency+st.net.Jitter) >= base/2 {
					high++
				}
				if gap-base-2*st.net.Latency < base/2 {
					low++
				}
			}
			delete(from, key)
		}
		if e.Kind != model.EventConnect {
			from[key] = e.At
		}
	}
	if clean >= 40 && (low == 0 || high == 0) {
		fail("of %d reconnect jitters, %d fell in the lower half of [0, RECONNECT_IVL) and %d in the upper: not a uniform draw (F23)", clean, low, high)
	}
}

// replies: a server that reads a request its policy answers replies after
// the policy's delay, unless it crashes first.
func (st *simTiming) replies(fail func(string, ...any), res *sim.Result) {
	type pending struct {
		due time.Duration
		req string
	}
	policy := map[string]app.ReplyPolicy{}
	for _, s := range st.sc.Servers {
		policy[s.Name] = s.Policy
	}
	owed := map[string]pending{}
	count := map[string]int{}
	check := func(now time.Duration) {
		for srv, p := range owed {
			if now > p.due {
				fail("%s's reply to %s was due at %v and has not come at %v", srv, p.req, p.due, now)
			}
		}
	}
	for _, e := range res.Trace {
		check(e.At)
		if policy[e.Actor] == nil {
			continue
		}
		switch e.Kind {
		case model.EventDeliver:
			count[e.Actor]++
			if d, answer := policy[e.Actor](count[e.Actor]); answer {
				owed[e.Actor] = pending{e.At + d, e.Peer + " " + e.Msg}
			}
		case model.EventReply:
			delete(owed, e.Actor)
		case model.EventCrash:
			delete(owed, e.Actor)
			count[e.Actor] = 0
		}
	}
	check(st.end)
}

// simContracts runs sc again as the simulator documents its defaults and
// its streaming: the zero For, Network and Profile are DefaultFor,
// DefaultNetwork and libzmq, a Sink receives every event and leaves the
// trace empty, and the same seed and schedule give the same run; the
// world follows the profile asked for; under the zmq4 one a client's
// connect()s block before it sends. A negative duration and a scenario
// without processes are refused; one with servers or clients only runs.
func simContracts(t *rapid.T, sc app.Scenario, cfg sim.Config, res *sim.Result) {
	again := cfg
	if again.For == 0 {
		again.For = sim.DefaultFor
	}
	if again.Network == (sim.Network{}) {
		again.Network = sim.DefaultNetwork
	}
	if again.Profile.Name == "" {
		again.Profile = model.LibZMQ
	}
	var streamed []trace.Event
	again.Sink = func(e trace.Event) { streamed = append(streamed, e) }
	r, err := sim.Run(sc, again)
	switch {
	case err != nil:
		t.Fatalf("simulator: with its defaults spelt out the run failed: %v", err)
	case len(r.Trace) > 0:
		t.Fatalf("simulator: a run with a Sink kept %d trace events", len(r.Trace))
	case !slices.Equal(streamed, res.Trace):
		t.Fatalf("simulator: the same seed and schedule, with the defaults spelt out, gave another trace")
	case r.End != res.End || fmt.Sprint(r.Queues) != fmt.Sprint(res.Queues):
		t.Fatalf("simulator: the same run ended at %v with queues %v, then at %v with %v", res.End, res.Queues, r.End, r.Queues)
	}
	for _, p := range []model.Profile{{}, model.LibZMQ, model.ZMQ4} {
		want := p
		if want.Name == "" {
			want = model.LibZMQ
		}
		_, b, err := sim.RunOn(sc, sim.Config{Profile: p, For: time.Millisecond})
		if err != nil {
			t.Fatalf("simulator: Profile %q: %v", p.Name, err)
		}
		if got := b.World().Profile(); got != want {
			t.Fatalf("simulator: Profile %q gave a world that follows %q, want %q", p.Name, got.Name, want.Name)
		}
	}
	// Under the zmq4 profile a client's connect()s block, one after
	// another (Profile.ConnectBlocks): its application hands nothing to
	// the REQ before they have all returned, and then it sends.
	z, err := sim.Run(sc, sim.Config{Seed: cfg.Seed, Profile: model.ZMQ4, For: time.Second})
	if err != nil {
		t.Fatalf("simulator: the zmq4 profile: %v", err)
	}
	for _, c := range sc.Clients {
		if c.Interval == 0 || c.FirstSend() > 500*time.Millisecond {
			continue
		}
		connects, sent := 0, false
		for _, e := range z.Trace {
			switch {
			case e.Actor != c.Name:
			case e.Kind == model.EventConnect:
				connects++
			case e.Kind == model.EventSend && connects < len(c.Connect):
				t.Fatalf("simulator: under the zmq4 profile %s sent %s with %d of its %d connect()s returned", c.Name, e.Msg, connects, len(c.Connect))
			case e.Kind == model.EventSend:
				sent = true
			}
			if sent {
				break
			}
		}
		if !sent {
			t.Fatalf("simulator: under the zmq4 profile %s, whose first send is due at %v, sent nothing in a second", c.Name, c.FirstSend())
		}
	}
	if _, err := sim.Run(sc, sim.Config{For: -time.Nanosecond}); err == nil {
		t.Fatalf("simulator: a negative duration was accepted")
	}
	if _, err := sim.Run(app.Scenario{Name: "empty"}, cfg); err == nil {
		t.Fatalf("simulator: a scenario without processes was accepted")
	}
	servers := app.Scenario{Name: sc.Name + "-servers", Servers: sc.Servers}
	var crashes []sim.Fault
	for _, f := range cfg.Faults {
		if _, ok := f.(sim.Crash); ok {
			crashes = append(crashes, f)
		}
	}
	only := cfg
	only.Faults = crashes
	if _, err := sim.Run(servers, only); err != nil {
		t.Fatalf("simulator: a scenario with servers only failed: %v", err)
	}
	clients := app.Scenario{Name: sc.Name + "-clients", Clients: sc.Clients}
	if _, err := sim.Run(clients, sim.Config{Seed: cfg.Seed, For: time.Second}); err != nil {
		t.Fatalf("simulator: a scenario with clients only failed: %v", err)
	}
}
