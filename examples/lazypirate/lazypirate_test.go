package lazypirate_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-zeromq/zmq4"
	"pgregory.net/rapid"

	"github.com/zeromq-lockstep/lockstep/examples/lazypirate"
	"github.com/zeromq-lockstep/lockstep/simnet"
)

// fault is one generated failure from At for For: the server host
// crashes, the client-server link is cut, or the server is slow (each
// request it reads then is answered For after it was read).
type fault struct {
	Kind string // "crash", "cut" or "slow"
	At   time.Duration
	For  time.Duration
}

func (f fault) String() string { return fmt.Sprintf("%s at %v for %v", f.Kind, f.At, f.For) }

// GoString makes rapid's report of the drawn faults readable.
func (f fault) GoString() string { return f.String() }

// scenario is what rapid draws: how many requests the client makes while
// faults happen, and the faults.
type scenario struct {
	Requests int
	Faults   []fault
}

func drawScenario(t *rapid.T) scenario {
	ms := func(lo, hi int) *rapid.Generator[time.Duration] {
		return rapid.Map(rapid.IntRange(lo, hi), func(v int) time.Duration { return time.Duration(v) * time.Millisecond })
	}
	f := rapid.Custom(func(t *rapid.T) fault {
		return fault{
			Kind: rapid.SampledFrom([]string{"crash", "cut", "slow"}).Draw(t, "kind"),
			At:   ms(0, 20000).Draw(t, "at"),
			For:  ms(1, 10000).Draw(t, "for"),
		}
	})
	return scenario{
		Requests: rapid.IntRange(0, 5).Draw(t, "requests"),
		Faults:   rapid.SliceOfN(f, 0, 3).Draw(t, "faults"),
	}
}

// quiet is when the last fault is over: the server is up, the link whole,
// and the last slow reply sent.
func (s scenario) quiet() time.Duration {
	var q time.Duration
	for _, f := range s.Faults {
		end := f.At + f.For
		if f.Kind == "slow" {
			end += f.For
		}
		q = max(q, end)
	}
	return q
}

// outcome is what one Request returned.
type outcome struct {
	body         string
	start, end   time.Duration
	reply        string
	err          error
	done, afterQ bool
}

// result is a simulated run: every request's outcome, the network's
// trace and the client's log.
type result struct {
	outcomes []outcome
	trace    string
	log      []string
}

// final is how many requests the client makes once faults have stopped;
// each must be answered.
const final = 2

// bound is the longest a Request may take: Retries attempts of Timeout,
// each after a dial that zmq4 retries for up to 2.5 s.
const bound = lazypirate.Retries * (lazypirate.Timeout + 2600*time.Millisecond)

// simulate runs s on simnet: an echo server on host "server" and the
// client made by newClient on host "client".
func simulate(t *testing.T, s scenario, newClient func(string, func(string)) *lazypirate.Client) result {
	var res result
	simnet.Run(t, func(t *testing.T, n *simnet.Network) {
		var (
			mu       sync.Mutex
			outcomes []outcome
			log      []string
		)
		q := s.quiet()
		server := n.Host("server")
		server.Start(func(ctx context.Context) {
			rep := zmq4.NewRep(ctx)
			defer rep.Close()
			if err := rep.Listen(server.Bind(5555)); err != nil {
				t.Errorf("server: %v", err)
				return
			}
			for {
				msg, err := rep.Recv()
				if err != nil {
					return
				}
				delay := time.Millisecond
				for _, f := range s.Faults {
					if now := n.Now(); f.Kind == "slow" && now >= f.At && now < f.At+f.For {
						delay = max(delay, f.For)
					}
				}
				select {
				case <-time.After(delay):
				case <-ctx.Done():
					return
				}
				if rep.Send(msg) != nil {
					return
				}
			}
		})
		client := n.Host("client")
		client.Start(func(ctx context.Context) {
			c := newClient(client.Connect("server:5555"), func(line string) {
				mu.Lock()
				// The scheme comes from a pool; keep it out of the trace.
				line = strings.ReplaceAll(line, n.Scheme(), "simnet")
				log = append(log, fmt.Sprintf("%11.6fs  client     %s", n.Now().Seconds(), line))
				mu.Unlock()
			})
			defer c.Close()
			for i := 0; i < s.Requests+final; i++ {
				if i == s.Requests {
					select {
					case <-time.After(q - n.Now()):
					case <-ctx.Done():
						return
					}
				}
				o := outcome{body: fmt.Sprintf("request %d", i), start: n.Now(), afterQ: i >= s.Requests}
				mu.Lock()
				outcomes = append(outcomes, o)
				mu.Unlock()
				o.reply, o.err = c.Request(ctx, o.body)
				o.end, o.done = n.Now(), true
				if ctx.Err() != nil {
					return
				}
				mu.Lock()
				outcomes[i] = o
				mu.Unlock()
			}
		})

		// Apply the crashes and cuts in time order; same-instant faults in
		// the order drawn.
		type step struct {
			at time.Duration
			do func()
		}
		var steps []step
		for _, f := range s.Faults {
			switch f.Kind {
			case "crash":
				steps = append(steps, step{f.At, func() { n.Crash("server") }}, step{f.At + f.For, func() { n.Restart("server") }})
			case "cut":
				steps = append(steps, step{f.At, func() { n.Cut("client", "server") }}, step{f.At + f.For, func() { n.Heal("client", "server") }})
			}
		}
		sort.SliceStable(steps, func(i, j int) bool { return steps[i].at < steps[j].at })
		for _, st := range steps {
			n.SleepUntil(st.at)
			st.do()
		}
		// Long enough for every request to end, if none hangs.
		n.SleepUntil(q + time.Duration(s.Requests+final+1)*bound)
		mu.Lock()
		res.outcomes = append(res.outcomes, outcomes...)
		res.log = append(res.log, log...)
		mu.Unlock()
		n.Close()
		res.trace = n.TraceText()
	})
	return res
}

// violation says how a run breaks the Lazy Pirate's promises, or "".
func (r result) violation(s scenario) string {
	if len(r.outcomes) != s.Requests+final {
		return fmt.Sprintf("the client made %d requests, want %d: it hangs in request %d", len(r.outcomes), s.Requests+final, len(r.outcomes)-1)
	}
	for _, o := range r.outcomes {
		switch {
		case !o.done:
			return fmt.Sprintf("%s, started at %v, never returned", o.body, o.start)
		case o.end-o.start > bound:
			return fmt.Sprintf("%s took %v, more than %v", o.body, o.end-o.start, bound)
		case o.err == nil && o.reply != o.body:
			return fmt.Sprintf("%s got the reply %q: a reply taken for the wrong request", o.body, o.reply)
		case o.err != nil && !errors.Is(o.err, lazypirate.ErrAbandoned):
			return fmt.Sprintf("%s failed: %v", o.body, o.err)
		case o.err != nil && o.end-o.start < lazypirate.Retries*lazypirate.Timeout:
			return fmt.Sprintf("%s abandoned after %v, before its %d retries", o.body, o.end-o.start, lazypirate.Retries)
		case o.err != nil && o.afterQ:
			return fmt.Sprintf("%s, made at %v after the faults stopped, was abandoned: the client does not recover", o.body, o.start)
		}
	}
	return ""
}

func (r result) String() string {
	lines := strings.Split(strings.TrimSuffix(r.trace, "\n"), "\n")
	lines = append(lines, r.log...)
	sort.SliceStable(lines, func(i, j int) bool { return lines[i][:12] < lines[j][:12] })
	var b strings.Builder
	for _, o := range r.outcomes {
		fmt.Fprintf(&b, "%-10s  %v..%v reply=%q err=%v\n", o.body, o.start, o.end, o.reply, o.err)
	}
	b.WriteString(strings.Join(lines, "\n"))
	return b.String()
}

// property is the Lazy Pirate's promise under crashes, cuts and slow
// replies: every request is answered, with its own reply, or abandoned
// after its retries; no request hangs; and once the faults stop, requests
// are answered again.
func property(t *testing.T, newClient func(string, func(string)) *lazypirate.Client) func(*rapid.T) {
	return func(rt *rapid.T) {
		s := drawScenario(rt)
		r := simulate(t, s, newClient)
		if v := r.violation(s); v != "" {
			rt.Logf("trace:\n%s", r)
			rt.Fatal(v)
		}
	}
}

func TestLazyPirate(t *testing.T) {
	rapid.Check(t, property(t, lazypirate.New))
}

// TestSameScenarioSameTrace runs one scenario with every kind of fault
// ten times: the outcomes, the network's trace and the client's log must
// be the same each time, as rapid's shrinking and replays rely on.
func TestSameScenarioSameTrace(t *testing.T) {
	s := scenario{Requests: 4, Faults: []fault{
		{Kind: "slow", At: 0, For: 3 * time.Second},
		{Kind: "crash", At: 4 * time.Second, For: 2 * time.Second},
		{Kind: "cut", At: 9 * time.Second, For: 4 * time.Second},
	}}
	first := simulate(t, s, lazypirate.New)
	if v := first.violation(s); v != "" {
		t.Fatalf("%s\n%s", v, first)
	}
	for _, want := range []string{"server     crash", "client     cut", "no response from server", "reconnecting to server"} {
		if !strings.Contains(first.String(), want) {
			t.Errorf("the scenario never shows %q:\n%s", want, first)
		}
	}
	for i := 1; i < 10; i++ {
		if got := simulate(t, s, lazypirate.New); got.String() != first.String() {
			t.Fatalf("run %d differs:\n--- run 0\n%s\n--- run %d\n%s", i, first, i, got)
		}
	}
}
