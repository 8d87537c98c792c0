//go:build libzmq && cgo

package libzmq

import (
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
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

// traceSequences: with LOCKSTEP_LIBZMQ_TRACE set, every sequence and each
// call's outcomes go to stderr as they run, so that a sequence that makes
// libzmq abort (which rapid cannot report) can be read afterwards.
var traceSequences = os.Getenv("LOCKSTEP_LIBZMQ_TRACE") != ""

// explicitChecks: the command line set -rapid.checks (looked at once,
// before this package sets it, which flag.Visit would count too).
var (
	explicitChecks bool
	explicitOnce   sync.Once
)

// defaultChecks sets -rapid.checks to n for the rest of the test unless
// the command line set it: the differential runs on real sockets in real
// time.
func defaultChecks(t *testing.T, n int) {
	explicitOnce.Do(func() {
		flag.Visit(func(f *flag.Flag) { explicitChecks = explicitChecks || f.Name == "rapid.checks" })
	})
	if explicitChecks {
		return
	}
	old := flag.Lookup("rapid.checks").Value.String()
	if err := flag.Set("rapid.checks", fmt.Sprint(n)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { flag.Set("rapid.checks", old) })
}

// TestModelAgreesWithLibzmq: rapid draws a world (one to three REQs, one
// to four REPs, the REQs binding or connecting, each REQ linked to some
// of the REPs, every REQ and REP option with high-water marks down to 1,
// and perhaps a raw peer that answers REQ c1 with stray and malformed
// replies) and a sequence of operations (sends, receives, polls,
// replies, disconnects and reconnects, closes and reopens), and every
// call returns the same on the model under its default profile and on
// real libzmq: results, errors, readiness, and what each peer receives
// (F1..F16, F18, F20, F21). TestModelAgreesWithLibzmqFaults adds crashes,
// restarts, cuts and heals.
//
// It runs on real sockets in real time, so by default it checks 12
// sequences; an explicit -rapid.checks wins.
func TestModelAgreesWithLibzmq(t *testing.T) { checkSequences(t, false, 12) }

// TestModelAgreesWithLibzmqFaults is TestModelAgreesWithLibzmq with
// crashes and restarts of servers, and cuts and heals of links (F16, F19,
// F21, F22, F23). Every socket reconnects every 20ms, so that a sequence
// does not wait for libzmq's default 100ms and its jitter.
func TestModelAgreesWithLibzmqFaults(t *testing.T) { checkSequences(t, true, 8) }

// checkSequences runs drawn sequences, with faults or without, checks of
// them unless -rapid.checks says otherwise.
func checkSequences(t *testing.T, faults bool, checks int) {
	defer goleak.VerifyNone(t)
	defaultChecks(t, checks)
	rapid.Check(t, func(rt *rapid.T) {
		if err := runSequence(sequenceOf(faults).Draw(rt, "sequence")); err != nil {
			rt.Fatal(err)
		}
	})
}

// BenchmarkModelAgreesWithLibzmq reports sequences of 20 operations run
// per second on both sides, without faults and with them. A sequence
// spends its time waiting on real time (handshakes, monitors, a message's
// way over loopback), not on a CPU, so sequences run side by side, 8 per
// GOMAXPROCS, each with its own context and ports; sequential is the
// same with one at a time.
func BenchmarkModelAgreesWithLibzmq(b *testing.B) {
	for _, faults := range []bool{false, true} {
		for _, par := range []int{0, 8} {
			name := "no-faults"
			if faults {
				name = "faults"
			}
			if par == 0 {
				name += "/sequential"
			} else {
				name += "/parallel"
			}
			b.Run(name, func(b *testing.B) {
				gen := sequenceOf(faults)
				var next atomic.Int64
				one := func() error {
					seq := gen.Example(int(next.Add(1)))
					seq.ops = seq.ops[:min(len(seq.ops), 20)]
					for len(seq.ops) < 20 {
						seq.ops = append(seq.ops, op{kind: opWait})
					}
					return runSequence(seq)
				}
				if par == 0 {
					for b.Loop() {
						if err := one(); err != nil {
							b.Fatal(err)
						}
					}
				} else {
					b.SetParallelism(par)
					b.RunParallel(func(pb *testing.PB) {
						for pb.Next() {
							if err := one(); err != nil {
								b.Error(err)
								return
							}
						}
					})
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "sequences/s")
			})
		}
	}
}

// opKind is one operation of a sequence.
type opKind int

const (
	opSend       opKind = iota // a client sends its next request
	opRecv                     // a client receives
	opPoll                     // a client or server polls
	opServe                    // a server receives a request
	opReply                    // a server answers the request it read
	opDisconnect               // a client disconnects from one endpoint
	opConnect                  // ... and connects to it again
	opReopen                   // a client closes and opens again
	opRawReply                 // the raw peer answers the last request it read
	opRawStray                 // the raw peer sends a well-formed reply nobody asked for
	opRawBad                   // the raw peer sends a reply without a delimiter (F6)
	opRawRecv                  // the raw peer receives
	opWait                     // time passes: 3ms, or long enough to reconnect
	opCrash                    // a server crashes
	opRestart                  // a crashed server restarts
	opCut                      // a link between a client and a server is cut
	opHeal                     // and healed
	nOpsNoFaults = opCrash
	nOps         = opHeal + 1
)

// op is one drawn operation; who indexes a client or a server, ep an
// endpoint of the client, long a long wait.
type op struct {
	kind    opKind
	who, ep int
	server  bool
	long    bool
}

// sequence is one drawn world and what happens in it.
type sequence struct {
	clients, servers int
	reqBinds         bool
	copts, sopts     []model.Options
	links            [][]bool // links[c][s]
	raw              bool
	ops              []op
}

func (q sequence) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d clients, %d servers, reqBinds=%v, raw=%v, links=%v\n", q.clients, q.servers, q.reqBinds, q.raw, q.links)
	for i, o := range q.copts {
		fmt.Fprintf(&b, "  c%d %+v\n", i+1, o)
	}
	for i, o := range q.sopts {
		fmt.Fprintf(&b, "  s%d %+v\n", i+1, o)
	}
	return b.String()
}

// hwm draws a high-water mark: the default, or 1 to 3.
func hwm(t *rapid.T, label string) int {
	return rapid.SampledFrom([]int{0, 0, 1, 2, 3}).Draw(t, label)
}

// sequenceOf draws sequences, with faults or without.
func sequenceOf(faults bool) *rapid.Generator[sequence] {
	return rapid.Custom(func(t *rapid.T) sequence {
		q := sequence{
			clients:  rapid.IntRange(1, 3).Draw(t, "clients"),
			servers:  rapid.IntRange(1, 4).Draw(t, "servers"),
			reqBinds: rapid.Bool().Draw(t, "reqBinds"),
			raw:      rapid.Bool().Draw(t, "raw"),
		}
		ivl := time.Duration(0)
		if faults {
			ivl = 20 * time.Millisecond
		}
		for c := range q.clients {
			o := model.Options{
				ReqCorrelate: rapid.Bool().Draw(t, "correlate"),
				ReqRelaxed:   rapid.Bool().Draw(t, "relaxed"),
				Immediate:    rapid.Bool().Draw(t, "immediate"),
				SndHWM:       hwm(t, "sndhwm"),
				RcvHWM:       hwm(t, "rcvhwm"),
				ReconnectIvl: ivl,
			}
			q.copts = append(q.copts, o)
			row := make([]bool, q.servers)
			for s := range row {
				row[s] = rapid.Bool().Draw(t, fmt.Sprintf("link c%d s%d", c+1, s+1))
			}
			q.links = append(q.links, row)
		}
		for range q.servers {
			q.sopts = append(q.sopts, model.Options{SndHWM: hwm(t, "sndhwm"), RcvHWM: hwm(t, "rcvhwm"), ReconnectIvl: ivl})
		}
		kinds := nOpsNoFaults
		if faults {
			kinds = nOps
		}
		steps := rapid.IntRange(1, 20).Draw(t, "steps")
		for range steps {
			k := opKind(rapid.IntRange(0, int(kinds)-1).Draw(t, "op"))
			if !q.raw && k >= opRawReply && k <= opRawRecv {
				k = opWait
			}
			o := op{kind: k}
			switch k {
			case opSend, opRecv, opDisconnect, opConnect, opReopen:
				o.who = rapid.IntRange(0, q.clients-1).Draw(t, "client")
				o.ep = rapid.IntRange(0, q.servers-1).Draw(t, "endpoint")
			case opServe, opReply, opCrash, opRestart:
				o.who = rapid.IntRange(0, q.servers-1).Draw(t, "server")
			case opPoll:
				o.server = rapid.Bool().Draw(t, "of a server")
				if o.server {
					o.who = rapid.IntRange(0, q.servers-1).Draw(t, "server")
				} else {
					o.who = rapid.IntRange(0, q.clients-1).Draw(t, "client")
				}
			case opCut, opHeal:
				o.who = rapid.IntRange(0, q.clients-1).Draw(t, "client")
				o.ep = rapid.IntRange(0, q.servers-1).Draw(t, "server")
			case opWait:
				o.long = rapid.Bool().Draw(t, "long")
			}
			q.ops = append(q.ops, o)
		}
		return q
	})
}

// rawIvl is the raw peer's RECONNECT_IVL.
const rawIvl = 20 * time.Millisecond

// driver runs one sequence on both sides.
type driver struct {
	q    sequence
	sim  *sim.Backend
	real *Backend
	log  []string
	// per side: the request each server and the raw peer read last, the
	// first request id each client incarnation sent the raw peer
	served [2]map[int]model.Message
	rawGot [2]model.Message
	ids    [2]map[string]uint32
	next   []int  // per client, the next request number
	gen    []int  // per client, its incarnation
	down   []bool // per server: crashed
	linked [][]bool
	cut    [][]bool
	stray  int
}

func cli(i int) string { return fmt.Sprintf("c%d", i+1) }
func srv(i int) string { return fmt.Sprintf("s%d", i+1) }

// endpoint is where the link between client c and server s is made: the
// server's endpoint, or the client's when REQs bind.
func (d *driver) endpoint(c, s int) string {
	if d.q.reqBinds {
		return fmt.Sprintf("tcp://%s:5454", cli(c))
	}
	return fmt.Sprintf("tcp://%s:5454", srv(s))
}

// sides returns the two backends, model first.
func (d *driver) sides() [2]backend.Backend { return [2]backend.Backend{d.sim, d.real} }

// call runs f on both sides and compares what the calls return; norm,
// if set, rewrites each side's outcome before the comparison.
func (d *driver) call(what string, f func(side int, b backend.Backend) string) error {
	var got [2]string
	for i, b := range d.sides() {
		if i == 1 && (strings.HasPrefix(got[0], "[") || strings.HasPrefix(got[0], "in=true")) {
			d.real.wait = catchUp // the model has a message: libzmq may be a little later
		} else {
			d.real.wait = 0
		}
		got[i] = f(i, b)
	}
	d.log = append(d.log, fmt.Sprintf("%-16s model %-28s libzmq %s", what, got[0], got[1]))
	if traceSequences {
		fmt.Fprintln(os.Stderr, d.log[len(d.log)-1])
	}
	if got[0] != got[1] {
		return fmt.Errorf("%s: model %s, libzmq %s", what, got[0], got[1])
	}
	return nil
}

// catchUp bounds how long a receive or poll on libzmq waits for a message
// the model already has: it costs nothing when libzmq has it too, and
// under -race on a loaded machine 50ms was sometimes too short.
const catchUp = 250 * time.Millisecond

// rawOutcome renders what the raw peer received with REQ_CORRELATE ids
// written relative to the first id of the sending incarnation: libzmq
// starts them at random (F7).
func (d *driver) rawOutcome(side int, m model.Message, err error) string {
	if err != nil || len(m) < 3 || len(m[0]) != 4 || m[1] != "" {
		return outcome(m, err)
	}
	id := binary.LittleEndian.Uint32([]byte(m[0]))
	from := strings.SplitN(m[2], "-", 3)
	key := strings.Join(from[:min(2, len(from))], "-")
	first, ok := d.ids[side][key]
	if !ok {
		d.ids[side][key], first = id, id
	}
	return fmt.Sprintf("[<id+%d> %s]", id-first, spec.Frames(m[1:]))
}

func runSequence(q sequence) (err error) {
	real, err := New()
	if err != nil {
		return err
	}
	d := &driver{q: q, sim: sim.NewBackend(), real: real,
		next: make([]int, q.clients), gen: make([]int, q.clients), down: make([]bool, q.servers)}
	for i := range 2 {
		d.served[i] = map[int]model.Message{}
		d.ids[i] = map[string]uint32{}
	}
	for c := range q.clients {
		d.linked = append(d.linked, append([]bool(nil), q.links[c]...))
		d.cut = append(d.cut, make([]bool, q.servers))
	}
	defer func() { err = errors.Join(err, real.Shutdown()) }()
	defer func() {
		if err != nil {
			var evs []string
			for _, e := range real.Events() {
				evs = append(evs, spec.EventLine(e))
			}
			err = fmt.Errorf("%w\n%s%s\nlibzmq's events:\n%s", err, q, strings.Join(d.log, "\n"), strings.Join(evs, "\n"))
		}
	}()
	if traceSequences {
		fmt.Fprintf(os.Stderr, "=== sequence\n%s%+v\n", q, q.ops)
	}
	if err := d.setUp(); err != nil {
		return err
	}
	for _, o := range q.ops {
		if err := d.step(o); err != nil {
			return err
		}
		if err := d.advance(3 * time.Millisecond); err != nil {
			return err
		}
		if err := d.afterProtocolErrors(); err != nil {
			return err
		}
	}
	return nil
}

func (d *driver) advance(t time.Duration) error {
	for _, b := range d.sides() {
		if err := b.Advance(t); err != nil {
			return err
		}
	}
	return nil
}

func (d *driver) each(what string, f func(b backend.Backend) error) error {
	return d.call(what, func(_ int, b backend.Backend) string { return outcome(nil, f(b)) })
}

func (d *driver) setUp() error {
	q := d.q
	// libzmq starts each REQ's request ids at random (F7), so two
	// incarnations of a client never share them; the model's first
	// answer would start every REQ at the same id, and a restarted REQ
	// would take its predecessor's reply as its own. Distinct starts, one
	// per REQ that sends (found by TestModelAgreesWithLibzmq).
	starts := make([]int, 64)
	for i := range starts {
		starts[i] = (i + 1) << 20
	}
	d.sim.Answer(model.ChoiceRequestID, starts...)
	for s := range q.servers {
		if err := d.each("open "+srv(s), func(b backend.Backend) error { return b.Open(srv(s), model.REP, q.sopts[s]) }); err != nil {
			return err
		}
		if !q.reqBinds {
			if err := d.each("bind "+srv(s), func(b backend.Backend) error { return b.Bind(srv(s), d.endpoint(0, s)) }); err != nil {
				return err
			}
		}
	}
	for c := range q.clients {
		if err := d.openClient(c); err != nil {
			return err
		}
	}
	if q.reqBinds {
		for s := range q.servers {
			for c := range q.clients {
				if q.links[c][s] {
					if err := d.connected("connect "+srv(s), srv(s), d.endpoint(c, s)); err != nil {
						return err
					}
				}
			}
		}
	}
	if q.raw {
		// The raw peer reconnects every 20ms (F23), so that waiting for
		// it after a protocol error (F6) is short.
		ro := model.Options{ReconnectIvl: rawIvl}
		if err := d.each("open r1", func(b backend.Backend) error { return b.Open("r1", model.DEALER, ro) }); err != nil {
			return err
		}
		if q.reqBinds {
			if err := d.connected("connect r1", "r1", d.endpoint(0, 0)); err != nil {
				return err
			}
		} else {
			if err := d.each("bind r1", func(b backend.Backend) error { return b.Bind("r1", "tcp://r1:5454") }); err != nil {
				return err
			}
			if err := d.connected("connect c1 r1", cli(0), "tcp://r1:5454"); err != nil {
				return err
			}
		}
	}
	return d.advance(3 * time.Millisecond)
}

// openClient opens client c and binds, or connects it to the servers it
// is linked to now.
func (d *driver) openClient(c int) error {
	q := d.q
	if err := d.each("open "+cli(c), func(b backend.Backend) error { return b.Open(cli(c), model.REQ, q.copts[c]) }); err != nil {
		return err
	}
	if q.reqBinds {
		return d.each("bind "+cli(c), func(b backend.Backend) error { return b.Bind(cli(c), d.endpoint(c, 0)) })
	}
	for s := range q.servers {
		if d.linked[c][s] {
			if err := d.connected("connect "+cli(c)+" "+srv(s), cli(c), d.endpoint(c, s)); err != nil {
				return err
			}
		}
	}
	return nil
}

// serve has server s read a request on both sides, libzmq first: which
// ready client REP reads is the model's open choice (F14), resolved with
// the client libzmq read from (sim.Backend.AnswerPeer, a
// model.PeerChooser). That libzmq's pick is the model's default, in all
// but a millisecond's race, is what f14_fair_queue_rotation.txt pins.
func (d *driver) serve(s int) error {
	name := srv(s)
	d.real.wait = 0
	if d.sim.World().Readable(name) {
		d.real.wait = catchUp
	}
	mr, er := d.real.Recv(name)
	if er == nil && len(mr) > 0 {
		from := strings.SplitN(mr[len(mr)-1], "-", 2)[0] // the body is cN-incarnation-k
		peer := from
		if d.q.reqBinds {
			peer = fmt.Sprintf("tcp://%s:5454", from) // REP connected to the REQ's endpoint
		}
		d.sim.AnswerPeer(model.ChoiceFairQueue, peer)
	}
	ms, es := d.sim.Recv(name)
	if es == nil {
		d.served[0][s] = ms
	}
	if er == nil {
		d.served[1][s] = mr
	}
	a, b := outcome(ms, es), outcome(mr, er)
	d.log = append(d.log, fmt.Sprintf("%-16s model %-28s libzmq %s", "serve "+name, a, b))
	if traceSequences {
		fmt.Fprintln(os.Stderr, d.log[len(d.log)-1])
	}
	if a != b {
		return fmt.Errorf("serve %s: model %s, libzmq %s", name, a, b)
	}
	return nil
}

// commands lets libzmq's socket name process its commands twice: libzmq
// ends a pipe after a protocol error over two rounds of them, the session's term request and the pipe's term, and a
// send before the second still goes into the dying pipe and is lost
// (LIBZMQ-FINDINGS, F6); the model ends it at once. A poll (ZMQ_EVENTS)
// processes commands whenever it is called, a send at most once a
// millisecond.
func (d *driver) commands(name string) {
	for range 2 {
		time.Sleep(time.Millisecond)
		d.real.Poll(name)
	}
}

// afterProtocolErrors lets libzmq catch up with the connections that the
// model ended for a protocol error in the last step: a reply without
// delimiter (F6), a reply with a request id that waited for room in a
// full pipe (F6, F18), a message taken for a handshake command by a REP
// whose handshake stalled (F21). libzmq's REQ learns of the end when it
// next processes its commands, the model's at once, so the driver waits
// for the monitors to tell; libzmq tears the connection down in two
// rounds of the REQ's commands (LIBZMQ-FINDINGS.md), so two polls of each
// REQ on the real side let both happen before the next call. A side that
// connected and did not find the error reconnects (F6, F23) after its own
// jitter on each side: the driver waits until both have.
func (d *driver) afterProtocolErrors() error {
	var ends [][2]string
	for _, e := range d.sim.Events() {
		if e.Kind == model.EventDisconnect && e.Reason == "protocol error" {
			ends = append(ends, [2]string{e.Actor, e.Peer})
		}
	}
	if len(ends) == 0 {
		return nil
	}
	d.real.Advance(AdvanceMin)
	d.real.waitDown(func(key [2]string) bool {
		b := d.real.binderOf(key[1])
		return slices.ContainsFunc(ends, func(x [2]string) bool {
			return key[0] == x[0] && b == x[1] || key[0] == x[1] && b == x[0]
		})
	})
	var wait time.Duration
	for _, x := range ends {
		if strings.HasPrefix(x[0], "c") {
			d.commands(x[0])
			for range 2 {
				d.sim.World().Poll(x[0]) // what the two polls do on the model's side
			}
		}
		for _, t := range d.sim.World().PendingTimers() {
			if t.Owner == x[0] {
				wait = max(wait, 2*d.ivl(x[0])+50*time.Millisecond)
			}
		}
	}
	if wait > 0 {
		return d.advance(wait)
	}
	return nil
}

// ivl is the RECONNECT_IVL of the socket name (F23).
func (d *driver) ivl(name string) time.Duration {
	var o model.Options
	var i int
	switch _, err := fmt.Sscanf(name[1:], "%d", &i); {
	case name == "r1":
		return rawIvl
	case err != nil:
	case name[0] == 'c':
		o = d.q.copts[i-1]
	case name[0] == 's':
		o = d.q.sopts[i-1]
	}
	if o.ReconnectIvl == 0 {
		return model.DefaultReconnectIvl
	}
	return o.ReconnectIvl
}

// stalled says whether a pipe of the socket name has a stalled handshake
// in the model (F21): a read that makes room there is where libzmq 4.3.4
// aborts (model.AbortStalledRead, TestStalledReadAborts), so the driver
// does not read from name then.
func (d *driver) stalled(name string) bool {
	st, err := d.sim.World().State(name)
	return err == nil && slices.ContainsFunc(st.Pipes, func(p model.PipeState) bool { return p.Stalled })
}

// drainRace says whether a send of the REQ name would drain a reply from
// a pipe whose engine holds more (F9, F18): libzmq's I/O thread refills
// the pipe during the drain or after it (model.ChoiceDrainRefill), and
// which it did shows only at later receives, so the driver cannot
// resolve the choice by what libzmq did; it does not send then.
func (d *driver) drainRace(name string) bool {
	st, err := d.sim.World().State(name)
	return err == nil && slices.ContainsFunc(st.Pipes, func(p model.PipeState) bool { return p.In > 0 && p.Waiting > 0 })
}

// peers counts what connects to client c when REQs bind: its servers and
// the raw peer.
func (d *driver) peers(c int) int {
	n := 0
	for _, l := range d.q.links[c] {
		if l {
			n++
		}
	}
	if c == 0 && d.q.raw {
		n++
	}
	return n
}

// reopenClient opens a closed client again with its options, bound or
// connected as it is now, the raw peer too.
func (d *driver) reopenClient(c int) error {
	if err := d.openClient(c); err != nil {
		return err
	}
	if c == 0 && d.q.raw && !d.q.reqBinds {
		return d.connected("connect c1 r1", cli(0), "tcp://r1:5454")
	}
	return nil
}

// connected connects name to ep on both sides and lets the handshake
// complete before anything else happens: with IMMEDIATE=1 libzmq attaches
// a pipe when its handshake completes, and handshakes begun together
// complete in any order (F13), where the model's complete in connect
// order.
func (d *driver) connected(what, name, ep string) error {
	if err := d.each(what, func(b backend.Backend) error { return b.Connect(name, ep) }); err != nil {
		return err
	}
	return d.advance(3 * time.Millisecond)
}

func (d *driver) step(o op) error {
	c, s := o.who, o.who
	switch o.kind {
	case opSend:
		if d.drainRace(cli(c)) {
			return nil
		}
		m := model.Message{fmt.Sprintf("%s-%d-%d", cli(c), d.gen[c], d.next[c])}
		d.next[c]++
		return d.each("send "+cli(c), func(b backend.Backend) error { return b.Send(cli(c), m) })
	case opRecv:
		return d.call("recv "+cli(c), func(_ int, b backend.Backend) string { return outcome(b.Recv(cli(c))) })
	case opPoll:
		name := cli(o.who)
		if o.server {
			name = srv(o.who)
		}
		if o.server && d.stalled(name) {
			return nil // a REP's poll reads ahead (World.Poll): see stalled
		}
		return d.call("poll "+name, func(side int, b backend.Backend) string {
			if side == 0 {
				// ZMQ_EVENTS takes the socket's commands (World.Poll;
				// the simulator's Poll answers without taking them).
				d.sim.World().Poll(name)
			}
			r, w, err := b.Poll(name)
			if err != nil {
				return outcome(nil, err)
			}
			return fmt.Sprintf("in=%v out=%v", r, w)
		})
	case opServe:
		if d.down[s] || d.stalled(srv(s)) {
			return nil
		}
		return d.serve(s)
	case opReply:
		if d.down[s] {
			return nil
		}
		return d.call("reply "+srv(s), func(side int, b backend.Backend) string {
			return outcome(nil, b.Send(srv(s), app.Reply(d.served[side][s])))
		})
	case opDisconnect, opConnect:
		if d.q.reqBinds || !d.q.links[c][o.ep] || d.linked[c][o.ep] == (o.kind == opConnect) {
			return nil
		}
		d.linked[c][o.ep] = o.kind == opConnect
		ep := d.endpoint(c, o.ep)
		if o.kind == opConnect {
			return d.connected("connect "+cli(c)+" "+srv(o.ep), cli(c), ep)
		}
		if err := d.each("disconnect "+cli(c)+" "+srv(o.ep), func(b backend.Backend) error { return b.Disconnect(cli(c), ep) }); err != nil {
			return err
		}
		// libzmq ends the pipe over a round of commands between the REQ
		// and the session's I/O thread (with IMMEDIATE=1 the session
		// ends it), the model at once: let the REQ take them on both
		// sides before the next call (found under -race).
		d.real.Advance(AdvanceMin)
		d.commands(cli(c))
		for range 2 {
			d.sim.World().Poll(cli(c))
		}
		return nil
	case opReopen:
		if d.q.reqBinds && d.peers(c) > 1 {
			// Its peers reconnect each after its own jitter (F23), drawn
			// apart on the two sides, and the order they come back in is
			// the new REQ's rotation (F8): not comparable.
			return nil
		}
		if err := d.each("close "+cli(c), func(b backend.Backend) error { return b.Close(cli(c)) }); err != nil {
			return err
		}
		d.gen[c]++
		d.next[c] = 0
		// Opened again one connect at a time, as at the start (see
		// connected), and only to the endpoints it is linked to now.
		if err := d.reopenClient(c); err != nil {
			return err
		}
		if d.q.reqBinds {
			// The peers connected to c reconnect after RECONNECT_IVL plus
			// jitter (F23), at other times on the two sides: wait until
			// both have.
			ivl := d.q.copts[c].ReconnectIvl
			if ivl == 0 {
				ivl = model.DefaultReconnectIvl
			}
			return d.advance(2*ivl + 50*time.Millisecond)
		}
		return nil
	case opRawReply, opRawStray, opRawBad:
		var m [2]model.Message
		for side := range 2 {
			switch o.kind {
			case opRawReply:
				if got := d.rawGot[side]; got != nil {
					i := 0
					for i < len(got) && got[i] != "" {
						i++
					}
					m[side] = append(append(model.Message(nil), got[:min(i+1, len(got))]...), "re:"+got[len(got)-1])
				}
			case opRawStray:
				m[side] = model.Message{"", fmt.Sprintf("stray-%d", d.stray)}
			case opRawBad:
				m[side] = model.Message{fmt.Sprintf("bad-%d", d.stray)}
			}
		}
		d.stray++
		if m[0] == nil || m[1] == nil {
			return nil
		}
		if err := d.call("raw send", func(side int, b backend.Backend) string { return outcome(nil, b.Send("r1", m[side])) }); err != nil {
			return err
		}
		return nil // a reply without delimiter ends the connection (F6): afterProtocolErrors
	case opRawRecv:
		if d.stalled("r1") {
			return nil
		}
		return d.call("raw recv", func(side int, b backend.Backend) string {
			m, err := b.Recv("r1")
			if err == nil {
				d.rawGot[side] = m
			}
			return d.rawOutcome(side, m, err)
		})
	case opWait:
		if o.long {
			// Long enough for a 20ms reconnect with its jitter (F23).
			return d.advance(45 * time.Millisecond)
		}
		return nil
	case opCrash:
		if d.down[s] {
			return nil
		}
		d.down[s] = true
		delete(d.served[0], s)
		delete(d.served[1], s)
		return d.each("crash "+srv(s), func(b backend.Backend) error { return b.Crash(srv(s)) })
	case opRestart:
		if !d.down[s] {
			return nil
		}
		d.down[s] = false
		if err := d.each("restart "+srv(s), func(b backend.Backend) error { return b.Restart(srv(s)) }); err != nil {
			return err
		}
		return d.advance(60 * time.Millisecond) // RECONNECT_IVL 20ms plus jitter (F23)
	case opCut, opHeal:
		if !d.q.links[c][o.ep] || d.cut[c][o.ep] == (o.kind == opCut) {
			return nil
		}
		d.cut[c][o.ep] = o.kind == opCut
		if o.kind == opCut {
			return d.each("cut "+cli(c)+" "+srv(o.ep), func(b backend.Backend) error { return b.Cut(cli(c), srv(o.ep)) })
		}
		if err := d.each("heal "+cli(c)+" "+srv(o.ep), func(b backend.Backend) error { return b.Heal(cli(c), srv(o.ep)) }); err != nil {
			return err
		}
		return d.advance(60 * time.Millisecond)
	}
	return nil
}
