package properties

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zeromq-lockstep/lockstep/app"
	"github.com/zeromq-lockstep/lockstep/backend"
	"github.com/zeromq-lockstep/lockstep/model"
	"github.com/zeromq-lockstep/lockstep/realnet"
	"github.com/zeromq-lockstep/lockstep/sim"
	"github.com/zeromq-lockstep/lockstep/simnet"
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
	// DiffWait is a client's receive that waits up to diffWait on both sides, as an
	// application's blocking receive with a timeout does. When nothing
	// comes, zmq4's Recv stays outstanding (H6), so the client sends
	// nothing until a receive returns (DiffSend is skipped on both sides).
	DiffWait = "wait"
	// DiffServeWait is DiffWait on a server's REP; while its zmq4 Recv is
	// outstanding the server sends no reply.
	DiffServeWait = "serve-wait"
	// DiffRestart: a client's process dies and a new REQ of that name
	// connects to every server again.
	DiffRestart = "restart"
	// DiffRawSend has the raw client, a DEALER connected to every
	// server, send a request of shape RawShapes[Index] (F5).
	DiffRawSend = "raw-send"
	// DiffRawRecv has the raw client read every reply that is there; the
	// sides' order of them may differ (the model's is an open choice), so
	// they are compared sorted.
	DiffRawRecv = "raw-recv"
)

// diffRaw is the raw client of the differential.
const diffRaw = "r1"

// diffWait is how long a DiffWait waits, on both sides' clocks.
const diffWait = 50 * time.Millisecond

// DiffOp is one operation of the differential property.
type DiffOp struct {
	Kind  string
	Index int // client or server
}

func (o DiffOp) String() string {
	switch o.Kind {
	case DiffRawSend:
		return fmt.Sprintf("%s %s", o.Kind, RawShapes[o.Index].name)
	case DiffRawRecv:
		return o.Kind
	}
	if o.onClient() {
		return fmt.Sprintf("%s c%d", o.Kind, o.Index+1)
	}
	return fmt.Sprintf("%s s%d", o.Kind, o.Index+1)
}

// onClient says whether Index is a client's.
func (o DiffOp) onClient() bool {
	return o.Kind == DiffSend || o.Kind == DiffRecv || o.Kind == DiffRestart || o.Kind == DiffWait
}

// diffSettle is how long both sides wait after each operation for what it
// set in motion to arrive: virtual time for the model, and for zmq4 on
// simnet; real time for zmq4 over loopback TCP (where a message takes tens
// of microseconds). A crash waits longer, for zmq4's reader to notice the
// closed connection.
const (
	diffSettle      = 3 * time.Millisecond
	diffCrashSettle = 30 * time.Millisecond
	diffBound       = time.Second
)

func serverName(server int) string    { return fmt.Sprintf("s%d", server+1) }
func clientName(client int) string    { return fmt.Sprintf("c%d", client+1) }
func modelEndpoint(server int) string { return fmt.Sprintf("tcp://s%d:%d", server+1, app.ServerPort) }

// differential drives two backends side by side, the model under the
// zmq4 profile (sim) and zmq4 (realnet, on simnet or loopback TCP), and
// compares what every call returned. Each server is a host of its own
// on simnet (s1, ...), so that a crash is the host's (its connections
// reset, bytes in flight lost), as in the model.
type differential struct {
	model    *sim.Backend
	real     *realnet.Backend
	net      *simnet.Network // nil on TCP
	clients  int
	servers  int
	raw      bool        // the raw client is there
	rawSent  int         // the raw client's requests so far
	next     map[int]int // client -> next request counter
	config   string
	ops      []DiffOp
	modelLog []string
	realLog  []string
	netTrace string
	// trace and realTrace are what each side traced.
	trace, realTrace []trace.Event
	// blocked: the socket's zmq4 Recv is outstanding since a DiffWait
	// or DiffServeWait that timed out; it sends nothing until a receive
	// returns.
	blocked map[string]bool
	// unread counts the requests sent and not yet served, as the model
	// has them (an upper bound with two servers).
	unread int
	// differs is the first operation (from 1) on which the sides
	// differed, 0 while they agree; saw is what each side said then.
	differs int
	saw     [2]string
}

func newDifferential(servers, clients int, raw bool, mut model.Mutation, n *simnet.Network) (*differential, error) {
	d := &differential{
		real:    realnet.NewBackendOn(n, diffBound),
		net:     n,
		clients: clients, servers: servers, raw: raw,
		next: map[int]int{}, blocked: map[string]bool{},
	}
	var err error
	d.model, err = sim.NewScenarioBackend(sim.Config{Seed: 1, Profile: model.ZMQ4, Network: sim.Network{Latency: simnet.DefaultLatency}, Mutation: mut})
	if err != nil {
		return d, err
	}
	sides := []backend.Backend{d.model, d.real}
	for s := 0; s < servers; s++ {
		for _, b := range sides {
			if err := b.Open(serverName(s), model.REP, model.Options{}); err != nil {
				return d, err
			}
			if err := b.Bind(serverName(s), modelEndpoint(s)); err != nil {
				return d, err
			}
		}
	}
	for _, b := range sides {
		if !raw {
			break
		}
		if err := b.Open(diffRaw, model.DEALER, model.Options{}); err != nil {
			return d, err
		}
		for s := 0; s < servers; s++ {
			if err := b.Connect(diffRaw, modelEndpoint(s)); err != nil {
				return d, err
			}
		}
	}
	for c := 0; c < clients; c++ {
		for _, b := range sides {
			if err := b.Open(clientName(c), model.REQ, model.Options{}); err != nil {
				return d, err
			}
			for s := 0; s < servers; s++ {
				if err := b.Connect(clientName(c), modelEndpoint(s)); err != nil {
					return d, err
				}
			}
		}
	}
	d.settle(diffSettle)
	return d, nil
}

func (d *differential) close() {
	for s := 0; s < d.servers; s++ {
		d.drainREP(serverName(s))
	}
	_ = d.real.Shutdown()
	if d.net != nil {
		d.netTrace = d.net.TraceText()
	}
}

// diffMaxUnread: the differential sends no request while this many are
// unread. zmq4's REP queues ten requests and a reader goroutine per
// connection holds one more, blocked (ZMQ4-FINDINGS H5); past that the
// order in which REP serves follows the readers' turns, not the arrival
// order the profile's RepArrivalOrder says (found on simnet: c1 sends 12,
// then c2 one; REP serves c1#10, c2#0, c1#11). The profile does not name
// this yet, so the property stays below it.
const diffMaxUnread = 10

// drainREP reads, on simnet, what zmq4's REP has queued before it closes,
// and throws it away, as the close would. A REP closed with more than ten
// requests unread leaves its reader goroutine blocked for ever
// (ZMQ4-FINDINGS H5), and in a synctest bubble a goroutine left behind
// ends the process. A wait of a virtual nanosecond lets the bubble settle,
// so it finds exactly what is queued.
func (d *differential) drainREP(name string) {
	if d.net == nil {
		return // on TCP the leak is only a goroutine, which goleak ignores by name
	}
	for range 64 {
		ready, err := d.real.Wait(d.real.Now()+time.Nanosecond, name)
		if err != nil || ready == "" {
			return
		}
		if _, err := d.real.Recv(name); err != nil && !errors.Is(err, model.ErrInvalidMessage) {
			return // (a raw request without a delimiter fails its receive, and the next one reads on)
		}
	}
}

// settle lets wait pass on both sides: what each operation set in motion
// arrives.
func (d *differential) settle(wait time.Duration) {
	_ = d.model.Advance(wait)
	_ = d.real.Advance(wait)
	d.trace = append(d.trace, d.model.Events()...)
	d.realTrace = append(d.realTrace, d.real.Events()...)
}

// kind names an error the way both sides can agree on.
func kind(err error) string {
	var ce *realnet.CallError
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &ce) && ce.Panic != nil, errors.Is(err, model.ErrSendPanic):
		return "panic" // H1, the profile's SendPanicsPastLastConnection
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

// result says what a receive returned, frame by frame: Text would show
// a message of one empty frame as it shows one of none.
func result(m model.Message, err error) string {
	if err != nil {
		return kind(err)
	}
	return fmt.Sprintf("got %q", []string(m))
}

// apply performs op on both sides and returns what each saw.
func (d *differential) apply(op DiffOp) (modelSaw, realSaw string) {
	switch op.Kind {
	case DiffSend:
		name := clientName(op.Index)
		if d.unread >= diffMaxUnread {
			modelSaw = "send skipped: ten requests unread (H5)"
			realSaw = modelSaw
			break
		}
		if d.blocked[name] {
			modelSaw = "send skipped: blocked in a receive (H6)"
			realSaw = modelSaw
			break
		}
		body := model.Message{RequestBody(name, d.next[op.Index])}
		d.next[op.Index]++
		merr := d.model.Send(name, body)
		modelSaw = "send " + body.Text() + ": " + kind(merr)
		realSaw = "send " + body.Text() + ": " + kind(d.real.Send(name, body))
		if merr == nil {
			d.unread++
		}
	case DiffRecv, DiffServe:
		name := clientName(op.Index)
		if op.Kind == DiffServe {
			name = serverName(op.Index)
		}
		m, err := d.model.Recv(name)
		modelSaw = "recv: " + result(m, err)
		if op.Kind == DiffServe && err == nil {
			d.unread = max(d.unread-1, 0)
		}
		if errors.Is(err, model.ErrAgain) {
			// Nothing predicted: zmq4 is not asked (see DiffRecv).
			realSaw = modelSaw
			break
		}
		if ready, werr := d.real.Wait(d.real.Now()+diffBound, name); werr != nil || ready == "" {
			// A zmq4 receive that waits in vain is a hang (H6).
			realSaw = "recv: hang"
			if werr != nil {
				realSaw = "recv: " + kind(werr)
			}
			break
		}
		rm, rerr := d.real.Recv(name)
		realSaw = "recv: " + result(rm, rerr)
		d.blocked[name] = false
	case DiffWait:
		modelSaw, realSaw = d.wait(clientName(op.Index))
	case DiffServeWait:
		modelSaw, realSaw = d.wait(serverName(op.Index))
		if strings.HasPrefix(modelSaw, "recv: got") {
			d.unread = max(d.unread-1, 0)
		}
	case DiffRawSend:
		if d.unread >= diffMaxUnread {
			modelSaw = "send skipped: ten requests unread (H5)"
			realSaw = modelSaw
			break
		}
		body := RequestBody(diffRaw, d.rawSent)
		d.rawSent++
		m := RawShapes[op.Index].frames(body)
		merr := d.model.Send(diffRaw, m)
		modelSaw = "send " + m.Text() + ": " + kind(merr)
		realSaw = "send " + m.Text() + ": " + kind(d.real.Send(diffRaw, m))
		if merr == nil {
			d.unread += d.servers // an upper bound
		}
	case DiffRawRecv:
		modelSaw, realSaw = "raw-recv:"+d.drain(d.model), "raw-recv:"+d.drain(d.real)
	case DiffReply:
		name := serverName(op.Index)
		if d.blocked[name] {
			modelSaw = "reply skipped: blocked in a receive (H6)"
			realSaw = modelSaw
			break
		}
		rep := model.Message{fmt.Sprintf("reply %d", len(d.ops))}
		modelSaw = "reply: " + kind(d.model.Send(name, rep))
		realSaw = "reply: " + kind(d.real.Send(name, rep))
	case DiffRestart:
		name := clientName(op.Index)
		delete(d.blocked, name) // the process and its receive are gone
		_ = d.model.Crash(name)
		_ = d.model.Restart(name)
		modelSaw = "crash and restart"
		realSaw = modelSaw
		if err := d.real.Crash(name); err != nil {
			realSaw = "crash: " + kind(err)
		}
		if err := d.real.Restart(name); err != nil {
			realSaw = "restart: " + kind(err)
		}
		d.settle(diffCrashSettle)
	case DiffCrash:
		name := serverName(op.Index)
		delete(d.blocked, name)
		d.unread = 0 // the crash loses them
		_ = d.model.Crash(name)
		_ = d.model.Restart(name)
		modelSaw = "crash and restart"
		realSaw = modelSaw
		d.drainREP(name)
		if err := d.real.Crash(name); err != nil {
			realSaw = "crash: " + kind(err)
		}
		if err := d.real.Restart(name); err != nil {
			realSaw = "restart: " + kind(err)
		}
		d.settle(diffCrashSettle)
	}
	d.settle(diffSettle)
	return modelSaw, realSaw
}

// drain reads on b what the raw client has, sorted: each receive waits
// up to diffSettle on b's clock (over TCP a zmq4 Recv returns a moment
// after the reply has come), on both sides, so their clocks stay equal.
func (d *differential) drain(b backend.Backend) string {
	var got []string
	for range 64 {
		if ready, err := b.Wait(b.Now()+diffSettle, diffRaw); err != nil || ready == "" {
			break
		}
		m, err := b.Recv(diffRaw)
		if errors.Is(err, model.ErrAgain) {
			break
		}
		got = append(got, result(m, err))
	}
	slices.Sort(got)
	return " [" + strings.Join(got, "; ") + "]"
}

// wait is DiffWait on a client or DiffServeWait on a server, the socket
// called name: each side receives, waiting up to
// diffWait for something to come, the model by its readiness
// (World.Readable, which the simulator's Wait follows) and zmq4 by a Recv
// that returns. A receive the model says would find nothing is asked of
// zmq4 too (DiffRecv asks only when the model predicts a result), and the
// model's readiness must agree with its own receive: readable when a
// receive returns a message, or the EOF of F19's departure while a reply
// is awaited; one that fails at once (for want of a connection or a
// request, F11's departure and F1, or with the EOF of a peer lost since a
// reply was read) returns without waiting on both sides.
func (d *differential) wait(name string) (modelSaw, realSaw string) {
	readable, err := d.model.Wait(d.model.Now(), name)
	if err != nil {
		modelSaw = "wait: " + kind(err)
	} else {
		m, err := d.model.Recv(name)
		immediate := errors.Is(err, model.ErrNoConnection) || errors.Is(err, model.ErrFSM) || errors.Is(err, model.ErrPeerGone)
		switch got := !errors.Is(err, model.ErrAgain); {
		case got && (readable != "" || immediate):
			modelSaw = "recv: " + result(m, err)
		case got:
			modelSaw = "not readable, but recv: " + result(m, err)
		case readable != "":
			modelSaw = "readable, but recv: " + kind(err)
		default:
			switch ready, err := d.model.Wait(d.model.Now()+diffWait, name); {
			case err != nil:
				modelSaw = "wait: " + kind(err)
			case ready == "":
				modelSaw = "wait: nothing"
			default:
				m, err := d.model.Recv(name)
				modelSaw = "recv: " + result(m, err)
			}
		}
	}
	switch ready, err := d.real.Wait(d.real.Now()+diffWait, name); {
	case err != nil:
		realSaw = "wait: " + kind(err)
	case ready == "":
		realSaw = "wait: nothing"
		d.blocked[name] = true
	default:
		m, err := d.real.Recv(name)
		realSaw = "recv: " + result(m, err)
		d.blocked[name] = false
	}
	return modelSaw, realSaw
}

// ModelAgreesWithZMQ4: the same operations on the model under its zmq4
// profile and on real zmq4 v0.17.0 return the same thing, call by call, so
// every remaining difference is a finding (F1, F2, F5, F8, F11, F14, F19 as
// zmq4 departs from them; realnet/ZMQ4-FINDINGS.md).
//
//	rapid.Check(t, properties.ModelAgreesWithZMQ4)
//
// zmq4 runs on simnet, in a synctest bubble of its own per sequence
// (simnet.RunProgram), so a sequence takes a fraction of a millisecond and
// replays by its draws. rapid draws the whole sequence before the bubble
// starts and judges it after the bubble has ended: a rapid failure inside a
// bubble would leave zmq4's goroutines behind, which ends the process.
//
// Up to three servers and two clients; a server's crash and restart
// (with several connections zmq4 may panic on the next send, ZMQ4-FINDINGS
// H1, which the profile's SendPanicsPastLastConnection models), a client's
// restart, and receives that wait, so the model's readiness and its
// predictions that nothing comes are checked against zmq4 too.
func ModelAgreesWithZMQ4(t *rapid.T) { check("TestModelAgreesWithZMQ4", t) }

// ModelAgreesWithZMQ4OverTCP is ModelAgreesWithZMQ4 with zmq4 on loopback
// TCP in real time: a few sequences a second, run as a smoke set that
// keeps the simulated network honest.
func ModelAgreesWithZMQ4OverTCP(t *rapid.T) { check("TestModelAgreesWithZMQ4OverTCP", t) }

func modelAgreesWithZMQ4(t *rapid.T, mut model.Mutation) { differentialProperty(t, mut, false) }

func modelAgreesWithZMQ4OverTCP(t *rapid.T, mut model.Mutation) {
	differentialProperty(t, mut, true)
}

// drawDiffOps draws a configuration and a whole sequence of operations.
func drawDiffOps(t *rapid.T) (servers, clients int, raw bool, ops []DiffOp) {
	servers = rapid.IntRange(1, 3).Draw(t, "servers")
	clients = rapid.IntRange(1, 2).Draw(t, "clients")
	raw = rapid.Bool().Draw(t, "raw client")
	kinds := []string{DiffSend, DiffRecv, DiffServe, DiffReply, DiffCrash, DiffWait, DiffServeWait, DiffRestart}
	if raw {
		kinds = append(kinds, DiffRawSend, DiffRawRecv)
	}
	// Repeat's steps (about thirty on average) draw the operations; none
	// runs yet.
	t.Repeat(map[string]func(*rapid.T){
		"op": func(t *rapid.T) {
			op := DiffOp{Kind: rapid.SampledFrom(kinds).Draw(t, "kind")}
			n := servers
			switch {
			case op.Kind == DiffRawSend:
				n = len(RawShapes)
			case op.Kind == DiffRawRecv:
				n = 1
			case op.onClient():
				n = clients
			}
			op.Index = rapid.IntRange(0, n-1).Draw(t, "index")
			ops = append(ops, op)
		},
	})
	return servers, clients, raw, ops
}

func differentialProperty(t *rapid.T, mut model.Mutation, tcp bool) {
	servers, clients, raw, ops := drawDiffOps(t)
	network := "simnet"
	if tcp {
		network = "tcp"
	}
	config := fmt.Sprintf("servers=%d clients=%d raw=%v profile=zmq4 net=%s", servers, clients, raw, network)
	t.Logf("config: %s", config)
	var d *differential
	var err error
	if tcp {
		d, err = runDifferential(servers, clients, raw, mut, nil, ops)
	} else {
		d, err = runOnSimnet(servers, clients, raw, mut, ops)
	}
	if d != nil {
		d.config = config
		setLastRun(d)
	}
	if err != nil {
		t.Fatalf("differential: setting up zmq4 on %s: %v", network, err)
	}
	if d.differs == 0 {
		return
	}
	op := d.ops[d.differs-1]
	t.Logf("model (zmq4 profile):\n  %s", strings.Join(d.modelLog, "\n  "))
	t.Logf("zmq4:\n  %s", strings.Join(d.realLog, "\n  "))
	tr, _ := trace.Render(d.trace, "text")
	t.Logf("model trace:\n%s", tr)
	tr, _ = trace.Render(d.realTrace, "text")
	t.Logf("zmq4 trace (its calls' results):\n%s", tr)
	if d.netTrace != "" {
		t.Logf("simnet trace:\n%s", d.netTrace)
	}
	t.Fatalf("differential: op %d (%v): model says %q, zmq4 says %q", d.differs, op, d.saw[0], d.saw[1])
}

// runDifferential applies ops to both sides until they first differ.
func runDifferential(servers, clients int, raw bool, mut model.Mutation, n *simnet.Network, ops []DiffOp) (*differential, error) {
	d, err := newDifferential(servers, clients, raw, mut, n)
	defer d.close()
	if err != nil {
		return d, err
	}
	for _, op := range ops {
		d.ops = append(d.ops, op)
		ms, rs := d.apply(op)
		d.modelLog = append(d.modelLog, diffLine(len(d.ops), op, ms))
		d.realLog = append(d.realLog, diffLine(len(d.ops), op, rs))
		if ms != rs {
			d.differs, d.saw = len(d.ops), [2]string{ms, rs}
			break
		}
	}
	return d, nil
}

// DiffResult is what one sequence of the differential did.
type DiffResult struct {
	// Model and ZMQ4 are what each side said, an operation a line.
	Model, ZMQ4 []string
	// Differs is the first operation (from 1) on which they differed; 0
	// when they agree throughout.
	Differs int
	// Net is simnet's trace of the zmq4 side (empty on TCP).
	Net string
}

// RunDifferential runs one sequence of the differential property on the
// model under the zmq4 profile and on zmq4, on simnet (in a bubble of its
// own) or, with tcp, on loopback TCP, and stops at the first difference;
// the raw client is there if an operation is its. The regression and
// determinism tests use it.
func RunDifferential(servers, clients int, ops []DiffOp, tcp bool) (DiffResult, error) {
	var d *differential
	var err error
	raw := slices.ContainsFunc(ops, func(o DiffOp) bool { return o.Kind == DiffRawSend || o.Kind == DiffRawRecv })
	if tcp {
		d, err = runDifferential(servers, clients, raw, model.Mutation{}, nil, ops)
	} else {
		d, err = runOnSimnet(servers, clients, raw, model.Mutation{}, ops)
	}
	if err != nil {
		return DiffResult{}, err
	}
	return DiffResult{Model: d.modelLog, ZMQ4: d.realLog, Differs: d.differs, Net: d.netTrace}, nil
}

// runOnSimnet is runDifferential on a simnet network in a bubble.
func runOnSimnet(servers, clients int, raw bool, mut model.Mutation, ops []DiffOp) (*differential, error) {
	var d *differential
	var err error
	ok, berr := simnet.RunProgram(func(_ *testing.T, n *simnet.Network) {
		d, err = runDifferential(servers, clients, raw, mut, n, ops)
	})
	switch {
	case berr != nil:
		return d, berr
	case err == nil && !ok:
		return d, errors.New("the simnet bubble failed")
	}
	return d, err
}

func diffLine(i int, op DiffOp, saw string) string { return fmt.Sprintf("%2d %-8v %s", i, op, saw) }

func (d *differential) run() Run {
	r := Run{Config: d.config, Trace: d.trace}
	for _, op := range d.ops {
		r.Ops = append(r.Ops, op.String())
	}
	r.Notes = append(r.Notes, "model (zmq4 profile):")
	r.Notes = append(r.Notes, d.modelLog...)
	r.Notes = append(r.Notes, "zmq4:")
	r.Notes = append(r.Notes, d.realLog...)
	if d.netTrace != "" {
		r.Notes = append(r.Notes, "simnet trace:")
		r.Notes = append(r.Notes, strings.Split(strings.TrimSuffix(d.netTrace, "\n"), "\n")...)
	}
	return r
}

// RawShape is the index in RawShapes of the shape called name, -1 for none.
func RawShape(name string) int {
	return slices.IndexFunc(RawShapes, func(s rawShape) bool { return s.name == name })
}
