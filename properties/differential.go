package properties

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/zeromq-lockstep/lockstep/app"
	"github.com/zeromq-lockstep/lockstep/model"
	"github.com/zeromq-lockstep/lockstep/realnet"
	"github.com/zeromq-lockstep/lockstep/sim"
	"github.com/zeromq-lockstep/lockstep/trace"

	"pgregory.net/rapid"
)

// The operations of the differential property: socket calls both sides can
// make. A receive is made on zmq4 only when the model predicts a result,
// since a zmq4 receive that waits in vain must be abandoned with its
// socket (ZMQ4-FINDINGS H6) and the two sides would part ways for no reason.
const (
	DiffSend  = "send"  // a client sends its next request on its REQ
	DiffRecv  = "recv"  // a client receives on its REQ
	DiffServe = "serve" // a server receives on its REP
	DiffReply = "reply" // a server replies to the last request it read
	DiffCrash = "crash" // a server's process dies and a new REP binds the same port
)

// DiffOp is one operation of the differential property.
type DiffOp struct {
	Kind  string
	Index int // client or server
}

func (o DiffOp) String() string {
	if o.Kind == DiffSend || o.Kind == DiffRecv {
		return fmt.Sprintf("%s c%d", o.Kind, o.Index+1)
	}
	return fmt.Sprintf("%s s%d", o.Kind, o.Index+1)
}

// diffSettle is how long both sides wait after each operation for what it
// set in motion to arrive: virtual time for the model, real time for zmq4
// over loopback (where a message takes tens of microseconds). A crash waits
// longer, for zmq4's reader to notice the closed connection.
const (
	diffSettle      = 3 * time.Millisecond
	diffCrashSettle = 30 * time.Millisecond
	diffBound       = time.Second
)

// differential drives the model under the zmq4 profile and real zmq4 side
// by side and compares what every call returned.
type differential struct {
	model    *sim.Sim
	real     *realnet.Sockets
	clients  int
	servers  int
	realEP   map[string]string // model endpoint -> real endpoint
	next     map[int]int       // client -> next request counter
	config   string
	ops      []DiffOp
	modelLog []string
	realLog  []string
	incident []string
}

func modelEndpoint(server int) string {
	return fmt.Sprintf("tcp://s%d:%d", server+1, app.ServerPort)
}

func newDifferential(servers, clients int, mut model.Mutation) (*differential, error) {
	d := &differential{
		model:   sim.New(1, model.ZMQ4, sim.Network{Latency: 100 * time.Microsecond}),
		real:    realnet.NewSockets(diffBound),
		clients: clients, servers: servers,
		realEP: map[string]string{}, next: map[int]int{},
	}
	d.real.OnIncident = func(sock string, e *realnet.CallError) {
		d.incident = append(d.incident, sock+": "+e.Error())
	}
	w := d.model.World()
	if err := w.Mutate(mut); err != nil {
		return d, err
	}
	for s := 0; s < servers; s++ {
		name := fmt.Sprintf("s%d", s+1)
		if err := w.NewREP(name, model.Options{}); err != nil {
			return d, err
		}
		if err := w.Bind(name, modelEndpoint(s)); err != nil {
			return d, err
		}
		if err := d.real.NewREP(name); err != nil {
			return d, err
		}
		ep, err := d.real.Bind(name, "tcp://127.0.0.1:0")
		if err != nil {
			return d, err
		}
		d.realEP[modelEndpoint(s)] = ep
	}
	for c := 0; c < clients; c++ {
		name := fmt.Sprintf("c%d", c+1)
		if err := w.NewREQ(name, model.Options{}); err != nil {
			return d, err
		}
		if err := d.real.NewREQ(name); err != nil {
			return d, err
		}
		for s := 0; s < servers; s++ {
			if err := w.Connect(name, modelEndpoint(s)); err != nil {
				return d, err
			}
			if err := d.real.Connect(name, d.realEP[modelEndpoint(s)]); err != nil {
				return d, err
			}
		}
	}
	d.settle(diffSettle)
	return d, nil
}

func (d *differential) close() { d.real.CloseAll() }

func (d *differential) settle(wait time.Duration) {
	d.model.Settle()
	d.model.RunUntil(d.model.Now() + wait)
	time.Sleep(wait)
}

// kind names an error the way both sides can agree on.
func kind(err error) string {
	var ce *realnet.CallError
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &ce) && ce.Panic != nil:
		return "panic"
	case errors.As(err, &ce) && ce.Hang > 0:
		return "hang"
	}
	for _, e := range []error{model.ErrFSM, model.ErrAgain, model.ErrNoConnection, model.ErrPeerGone, model.ErrInvalidMessage} {
		if errors.Is(err, e) {
			k, _, _ := strings.Cut(e.Error(), ":")
			return k
		}
	}
	return "error: " + err.Error()
}

func result(m model.Message, err error) string {
	if err != nil {
		return kind(err)
	}
	return "got " + m.Text()
}

// apply performs op on both sides and returns what each saw.
func (d *differential) apply(op DiffOp) (modelSaw, realSaw string) {
	w := d.model.World()
	switch op.Kind {
	case DiffSend:
		name := fmt.Sprintf("c%d", op.Index+1)
		body := model.Message{RequestBody(name, d.next[op.Index])}
		d.next[op.Index]++
		modelSaw = "send " + body.Text() + ": " + kind(w.Send(name, body))
		realSaw = "send " + body.Text() + ": " + kind(d.real.Send(name, body))
	case DiffRecv, DiffServe:
		name := fmt.Sprintf("c%d", op.Index+1)
		if op.Kind == DiffServe {
			name = fmt.Sprintf("s%d", op.Index+1)
		}
		m, err := w.Recv(name)
		modelSaw = "recv: " + result(m, err)
		if errors.Is(err, model.ErrAgain) {
			// Nothing predicted: zmq4 is not asked (see DiffRecv).
			realSaw = modelSaw
			break
		}
		rm, rerr := d.real.Recv(name, diffBound)
		realSaw = "recv: " + result(rm, rerr)
	case DiffReply:
		name := fmt.Sprintf("s%d", op.Index+1)
		rep := model.Message{fmt.Sprintf("reply %d", len(d.ops))}
		modelSaw = "reply: " + kind(w.Send(name, rep))
		realSaw = "reply: " + kind(d.real.Send(name, rep))
	case DiffCrash:
		name := fmt.Sprintf("s%d", op.Index+1)
		ep := modelEndpoint(op.Index)
		_ = w.Crash(name)
		_ = w.NewREP(name, model.Options{})
		_ = w.Bind(name, ep)
		modelSaw = "crash and restart"
		realSaw = modelSaw
		if err := d.real.Crash(name); err != nil {
			realSaw = "crash: " + kind(err)
		}
		if err := d.real.NewREP(name); err != nil {
			realSaw = "restart: " + kind(err)
		} else if _, err := d.real.Bind(name, d.realEP[ep]); err != nil {
			realSaw = "restart: " + kind(err)
		}
		d.settle(diffCrashSettle)
	}
	d.settle(diffSettle)
	return modelSaw, realSaw
}

// ModelAgreesWithZMQ4: the same operations on the model under its zmq4
// profile and on real zmq4 v0.17.0 over 127.0.0.1 return the same thing,
// call by call, so every remaining difference is a finding (F1, F2, F5,
// F8, F11, F14, F19 as zmq4 departs from them; realnet/ZMQ4-FINDINGS.md).
//
//	rapid.Check(t, properties.ModelAgreesWithZMQ4)
//
// Crashes are drawn only with one server: with two connections zmq4 may
// panic on the next send (ZMQ4-FINDINGS H1, pinned by
// realnet.TestZMQ4Today_TwoServersSendMayPanicAfterLastPeerDies), which the
// profile does not model.
func ModelAgreesWithZMQ4(t *rapid.T) { check("TestModelAgreesWithZMQ4", t) }

func modelAgreesWithZMQ4(t *rapid.T, mut model.Mutation) {
	servers := rapid.IntRange(1, 2).Draw(t, "servers")
	clients := rapid.IntRange(1, 2).Draw(t, "clients")
	t.Logf("config: servers=%d clients=%d profile=zmq4", servers, clients)
	d, err := newDifferential(servers, clients, mut)
	d.config = fmt.Sprintf("servers=%d clients=%d profile=zmq4", servers, clients)
	setLastRun(d)
	defer d.close()
	if err != nil {
		t.Fatalf("differential: setting up real sockets: %v", err)
	}
	kinds := []string{DiffSend, DiffRecv, DiffServe, DiffReply}
	if servers == 1 {
		kinds = append(kinds, DiffCrash)
	}
	t.Repeat(map[string]func(*rapid.T){
		"op": func(t *rapid.T) {
			op := DiffOp{Kind: rapid.SampledFrom(kinds).Draw(t, "kind")}
			n := clients
			if op.Kind != DiffSend && op.Kind != DiffRecv {
				n = servers
			}
			op.Index = rapid.IntRange(0, n-1).Draw(t, "index")
			d.ops = append(d.ops, op)
			ms, rs := d.apply(op)
			d.modelLog = append(d.modelLog, fmt.Sprintf("%2d %-8v %s", len(d.ops), op, ms))
			d.realLog = append(d.realLog, fmt.Sprintf("%2d %-8v %s", len(d.ops), op, rs))
			if ms != rs {
				t.Logf("model (zmq4 profile):\n  %s", strings.Join(d.modelLog, "\n  "))
				t.Logf("zmq4:\n  %s", strings.Join(d.realLog, "\n  "))
				if len(d.incident) > 0 {
					t.Logf("zmq4 incidents: %s", strings.Join(d.incident, "; "))
				}
				tr, _ := trace.Render(d.model.Trace(), "text")
				t.Logf("model trace:\n%s", tr)
				t.Fatalf("differential: op %d (%v): model says %q, zmq4 says %q", len(d.ops), op, ms, rs)
			}
		},
	})
}

func (d *differential) run() Run {
	r := Run{Config: d.config, Trace: d.model.Trace()}
	for _, op := range d.ops {
		r.Ops = append(r.Ops, op.String())
	}
	r.Notes = append(r.Notes, "model (zmq4 profile):")
	r.Notes = append(r.Notes, d.modelLog...)
	r.Notes = append(r.Notes, "zmq4:")
	r.Notes = append(r.Notes, d.realLog...)
	return r
}
