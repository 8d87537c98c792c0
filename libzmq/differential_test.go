//go:build libzmq && cgo

package libzmq

import (
	"errors"
	"flag"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
	"pgregory.net/rapid"

	"github.com/zeromq-lockstep/lockstep/app"
	"github.com/zeromq-lockstep/lockstep/backend"
	"github.com/zeromq-lockstep/lockstep/model"
	"github.com/zeromq-lockstep/lockstep/sim"
	"github.com/zeromq-lockstep/lockstep/spec"
)

// outcome renders a socket call's result for comparison: ok, the frames
// received, or the model error it maps to.
func outcome(m model.Message, err error) string {
	if err == nil {
		if m == nil {
			return "ok"
		}
		return spec.Frames(m)
	}
	for _, e := range []error{model.ErrFSM, model.ErrAgain, model.ErrAddrInUse, model.ErrNoSocket} {
		if errors.Is(err, e) {
			return "error: " + strings.SplitN(e.Error(), ":", 2)[0]
		}
	}
	return "error: " + err.Error()
}

// explicitChecks: the command line set -rapid.checks (looked at once,
// before this package sets it, which flag.Visit would count too).
var (
	explicitChecks bool
	explicitOnce   sync.Once
)

// pair drives the model (the sim backend, default profile: libzmq's
// semantics) and real libzmq with the same calls.
type pair struct {
	sim  *sim.Backend
	real *Backend
	log  []string
}

func (p *pair) both(op string, f func(b backend.Backend) (model.Message, error)) (string, string) {
	ms, es := f(p.sim)
	mr, er := f(p.real)
	a, b := outcome(ms, es), outcome(mr, er)
	p.log = append(p.log, fmt.Sprintf("%-12s model %-22s libzmq %s", op, a, b))
	return a, b
}

// settle lets d pass on both sides.
func (p *pair) settle(d time.Duration) error {
	if err := p.sim.Advance(d); err != nil {
		return err
	}
	return p.real.Advance(d)
}

// TestModelAgreesWithLibzmq: rapid draws sequences of REQ sends and
// receives, REP receives and replies, and server crashes with restarts,
// and every call returns the same
// on the model under its default profile and on real libzmq (F1, F2, F8,
// F9, F15, F19, F21), with one REQ and one or two REPs. Two REQs are
// left out: the model's default fair-queue choice disagrees with libzmq
// (LIBZMQ-FINDINGS.md, F14). A REQ that connects to two REPs sends
// round-robin in connect order (F8).
//
// It runs on real sockets in real time, so by default it checks 8
// sequences; an explicit -rapid.checks wins.
func TestModelAgreesWithLibzmq(t *testing.T) {
	defer goleak.VerifyNone(t)
	explicitOnce.Do(func() {
		flag.Visit(func(f *flag.Flag) { explicitChecks = explicitChecks || f.Name == "rapid.checks" })
	})
	if !explicitChecks {
		old := flag.Lookup("rapid.checks").Value.String()
		if err := flag.Set("rapid.checks", "8"); err != nil {
			t.Fatal(err)
		}
		defer flag.Set("rapid.checks", old)
	}
	rapid.Check(t, func(rt *rapid.T) {
		servers := rapid.IntRange(1, 2).Draw(rt, "servers")
		// One client: with two, the model's default fair-queue choice
		// and libzmq part ways (LIBZMQ-FINDINGS, F14, still open).
		clients := 1
		real, err := New()
		if err != nil {
			rt.Fatal(err)
		}
		real.wait = 50 * time.Millisecond
		p := &pair{sim: sim.NewBackend(), real: real}
		defer func() {
			if err := real.Shutdown(); err != nil {
				rt.Error(err)
			}
		}()
		fail := func(format string, args ...any) {
			rt.Fatalf("%s\n%s", fmt.Sprintf(format, args...), strings.Join(p.log, "\n"))
		}
		check := func(op string, f func(b backend.Backend) (model.Message, error)) {
			if a, b := p.both(op, f); a != b {
				fail("%s: model %s, libzmq %s", op, a, b)
			}
		}
		srv := func(i int) string { return fmt.Sprintf("s%d", i+1) }
		cli := func(i int) string { return fmt.Sprintf("c%d", i+1) }
		ep := func(i int) string { return fmt.Sprintf("tcp://s%d:5454", i+1) }
		for i := range servers {
			check("open "+srv(i), func(b backend.Backend) (model.Message, error) { return nil, b.Open(srv(i), model.REP, model.Options{}) })
			check("bind "+srv(i), func(b backend.Backend) (model.Message, error) { return nil, b.Bind(srv(i), ep(i)) })
		}
		for i := range clients {
			check("open "+cli(i), func(b backend.Backend) (model.Message, error) { return nil, b.Open(cli(i), model.REQ, model.Options{}) })
			for j := range servers {
				check("connect "+cli(i), func(b backend.Backend) (model.Message, error) { return nil, b.Connect(cli(i), ep(j)) })
			}
		}
		if err := p.settle(2 * time.Millisecond); err != nil {
			rt.Fatal(err)
		}
		next := map[int]int{}
		last := map[int]model.Message{} // per server, the request it read
		steps := rapid.IntRange(1, 12).Draw(rt, "steps")
		for range steps {
			switch op := rapid.SampledFrom([]string{"send", "recv", "serve", "reply", "crash"}).Draw(rt, "op"); op {
			case "send":
				c := rapid.IntRange(0, clients-1).Draw(rt, "client")
				m := model.Message{fmt.Sprintf("%s-%d", cli(c), next[c])}
				next[c]++
				check("send "+cli(c), func(b backend.Backend) (model.Message, error) { return nil, b.Send(cli(c), m) })
			case "recv":
				c := rapid.IntRange(0, clients-1).Draw(rt, "client")
				check("recv "+cli(c), func(b backend.Backend) (model.Message, error) { return b.Recv(cli(c)) })
			case "serve":
				s := rapid.IntRange(0, servers-1).Draw(rt, "server")
				var got model.Message
				check("serve "+srv(s), func(b backend.Backend) (model.Message, error) {
					m, err := b.Recv(srv(s))
					if err == nil {
						got = m
					}
					return m, err
				})
				if got != nil {
					last[s] = got
				}
			case "reply":
				s := rapid.IntRange(0, servers-1).Draw(rt, "server")
				m := app.Reply(last[s])
				check("reply "+srv(s), func(b backend.Backend) (model.Message, error) { return nil, b.Send(srv(s), m) })
			case "crash":
				s := rapid.IntRange(0, servers-1).Draw(rt, "server")
				check("crash "+srv(s), func(b backend.Backend) (model.Message, error) { return nil, b.Crash(srv(s)) })
				check("restart "+srv(s), func(b backend.Backend) (model.Message, error) { return nil, b.Restart(srv(s)) })
				delete(last, s)
				// The clients reconnect: RECONNECT_IVL plus jitter (F23).
				if err := p.settle(200 * time.Millisecond); err != nil {
					rt.Fatal(err)
				}
			}
			if err := p.settle(2 * time.Millisecond); err != nil {
				rt.Fatal(err)
			}
		}
	})
}
