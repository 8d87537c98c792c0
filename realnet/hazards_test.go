package realnet

// Regression tests that pin zmq4 v0.17.0's behaviour TODAY, hazards
// included (realnet/ZMQ4-FINDINGS.md H1..H12 and the fact table). Each name says what
// zmq4 does now; when zmq4 changes, the test that fails names the change,
// and the model's zmq4 profile should change with it.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-zeromq/zmq4"

	"github.com/zeromq-lockstep/lockstep/model"
)

const short = 300 * time.Millisecond

// pair is a REP bound to a free loopback port and a REQ dialled to it.
func pair(t *testing.T) (*Sockets, string) {
	t.Helper()
	s := NewSockets(0)
	t.Cleanup(s.CloseAll)
	if err := s.NewREP("server"); err != nil {
		t.Fatal(err)
	}
	ep, err := s.Bind("server", "tcp://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.NewREQ("client"); err != nil {
		t.Fatal(err)
	}
	if err := s.Connect("client", ep); err != nil {
		t.Fatal(err)
	}
	return s, ep
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func recvText(t *testing.T, s *Sockets, name string) string {
	t.Helper()
	m, err := s.Recv(name, time.Second)
	must(t, err)
	return m.Text()
}

// F1: no lockstep in REQ (Profile.ReqNotStrict).
func TestZMQ4Today_ReqSendsTwiceWithoutReply(t *testing.T) {
	s, _ := pair(t)
	must(t, s.Send("client", model.Message{"a"}))
	must(t, s.Send("client", model.Message{"b"}))
	for _, want := range []string{"a", "b"} {
		if got := recvText(t, s, "server"); got != want {
			t.Fatalf("server got %q, want %q", got, want)
		}
		must(t, s.Send("server", model.Message{"R" + want}))
	}
	if a, b := recvText(t, s, "client"), recvText(t, s, "client"); a != "Ra" || b != "Rb" {
		t.Fatalf("client got %q, %q", a, b)
	}
}

// F2: a REP send after a reply goes to the same requester again
// (Profile.RepNotStrict).
func TestZMQ4Today_RepSendsTwiceToTheSameRequester(t *testing.T) {
	s, _ := pair(t)
	must(t, s.Send("client", model.Message{"a"}))
	recvText(t, s, "server")
	must(t, s.Send("server", model.Message{"A1"}))
	must(t, s.Send("server", model.Message{"A2"}))
	if a, b := recvText(t, s, "client"), recvText(t, s, "client"); a != "A1" || b != "A2" {
		t.Fatalf("client got %q, %q", a, b)
	}
}

// F5: the envelope is split at the last empty frame
// (Profile.EnvelopeAtLastDelimiter).
func TestZMQ4Today_RepSplitsAtTheLastEmptyFrame(t *testing.T) {
	s, _ := pair(t)
	must(t, s.Send("client", model.Message{"a", "", "b"}))
	if got := recvText(t, s, "server"); got != "b" {
		t.Fatalf("server got %q, want b", got)
	}
	must(t, s.Send("server", model.Message{"R"}))
	if got := recvText(t, s, "client"); got != "a||R" {
		t.Fatalf("client got %q, want a||R", got)
	}
}

// F19: the REQ's receive ends with io.EOF when the REP dies
// (Profile.RecvEOFOnPeerLoss), and nothing reconnects after a new REP binds
// the same port (Profile.NoReconnect): sends fail at once
// (Profile.SendFailsWithoutPipe).
func TestZMQ4Today_RecvEOFWhenPeerDiesAndNoReconnect(t *testing.T) {
	s, ep := pair(t)
	must(t, s.Send("client", model.Message{"q1"}))
	recvText(t, s, "server")
	must(t, s.Crash("server"))
	_, err := s.Recv("client", time.Second)
	if !errors.Is(err, model.ErrPeerGone) {
		t.Fatalf("recv after the REP died: %v, want ErrPeerGone (io.EOF)", err)
	}
	must(t, s.NewREP("server"))
	if _, err := s.Bind("server", ep); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // time a reconnect would need
	if err := s.Send("client", model.Message{"q2"}); !errors.Is(err, model.ErrNoConnection) {
		t.Fatalf("send after restart: %v, want ErrNoConnection", err)
	}
}

// H1: with two connections, a send on a closed REQ panics inside zmq4
// (index out of range in reqWriter.write); the harness recovers it.
func TestZMQ4Today_PanicsOnSendAfterClose(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a, b := zmq4.NewRep(ctx, zmq4.WithLogger(quiet)), zmq4.NewRep(ctx, zmq4.WithLogger(quiet))
	defer a.Close()
	defer b.Close()
	must(t, a.Listen("tcp://127.0.0.1:0"))
	must(t, b.Listen("tcp://127.0.0.1:0"))
	req := zmq4.NewReq(ctx, zmq4.WithLogger(quiet))
	must(t, req.Dial("tcp://"+a.Addr().String()))
	must(t, req.Dial("tcp://"+b.Addr().String()))
	must(t, req.Send(zmq4.NewMsgString("x")))
	if _, err := a.Recv(); err != nil {
		t.Fatal(err)
	}
	must(t, a.Send(zmq4.NewMsgString("X")))
	if _, err := req.Recv(); err != nil {
		t.Fatal(err)
	}
	_ = req.Close()
	_, p, hung, err := call(time.Second, func() (struct{}, error) { return struct{}{}, req.Send(zmq4.NewMsgString("y")) })
	if p == nil || hung {
		t.Fatalf("send after close: err %v, hung %v; want a panic (H1)", err, hung)
	}
	t.Logf("zmq4 panicked, as today: %v", p)
}

// H6: a REQ receive abandoned after its bound keeps reading and steals the
// next reply, so Sockets closes the socket on a hang.
func TestZMQ4Today_AbandonedRecvStealsTheNextReply(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rep := zmq4.NewRep(ctx, zmq4.WithLogger(quiet))
	defer rep.Close()
	must(t, rep.Listen("tcp://127.0.0.1:0"))
	req := zmq4.NewReq(ctx, zmq4.WithLogger(quiet))
	defer req.Close()
	must(t, req.Dial("tcp://"+rep.Addr().String()))
	must(t, req.Send(zmq4.NewMsgString("q1")))
	stolen := make(chan string, 1)
	_, _, hung, _ := call(short, func() (struct{}, error) {
		m, err := req.Recv()
		if err == nil {
			stolen <- string(m.Bytes())
		}
		return struct{}{}, err
	})
	if !hung {
		t.Fatal("recv returned before the REP answered")
	}
	if _, err := rep.Recv(); err != nil {
		t.Fatal(err)
	}
	must(t, rep.Send(zmq4.NewMsgString("R1")))
	select {
	case got := <-stolen:
		if got != "R1" {
			t.Fatalf("abandoned recv got %q", got)
		}
	case <-time.After(time.Second):
		t.Fatal("the abandoned recv did not take the reply: H6 is gone")
	}
	_, _, hung, _ = call(short, func() (zmq4.Msg, error) { return req.Recv() })
	if !hung {
		t.Fatal("a new recv got a reply: H6 is gone")
	}
	_ = req.Close() // ends the second abandoned recv
}

// H4: a REQ receive ignores the cancellation of its context; only Close
// ends it (with net.ErrClosed).
func TestZMQ4Today_ReqRecvIgnoresContextCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	rep := zmq4.NewRep(context.Background(), zmq4.WithLogger(quiet))
	defer rep.Close()
	must(t, rep.Listen("tcp://127.0.0.1:0"))
	req := zmq4.NewReq(ctx, zmq4.WithLogger(quiet))
	must(t, req.Dial("tcp://"+rep.Addr().String()))
	must(t, req.Send(zmq4.NewMsgString("q")))
	done := make(chan error, 1)
	go func() { _, err := req.Recv(); done <- err }()
	cancel()
	select {
	case err := <-done:
		t.Fatalf("recv returned %v after cancel: H4 is gone", err)
	case <-time.After(short):
	}
	_ = req.Close()
	select {
	case err := <-done:
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("recv after close: %v, want net.ErrClosed", err)
		}
	case <-time.After(time.Second):
		t.Fatal("recv still blocked after Close")
	}
}

// The harness side of H6: a bounded Recv that overruns is recorded as a
// hang and the socket is gone, so the next reply cannot be stolen.
func TestSocketsHangAbandonsTheSocket(t *testing.T) {
	s, _ := pair(t)
	var incidents []*CallError
	s.OnIncident = func(_ string, e *CallError) { incidents = append(incidents, e) }
	must(t, s.Send("client", model.Message{"q"}))
	_, err := s.Recv("client", short)
	var ce *CallError
	if !errors.As(err, &ce) || ce.Hang == 0 || ce.Event() != model.EventHang {
		t.Fatalf("recv with no reply: %v, want a hang", err)
	}
	if s.Has("client") || len(incidents) != 1 {
		t.Fatalf("client still open (%v) or incidents %v", s.Has("client"), incidents)
	}
}

// stacks returns the stack of every goroutine, by goroutine id; each
// stack starts with its header line, "goroutine N [state]:".
func stacks() map[string]string {
	buf := make([]byte, 1<<16)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	out := map[string]string{}
	for _, g := range strings.Split(string(buf), "\n\n") {
		id, _, _ := strings.Cut(strings.TrimPrefix(g, "goroutine "), " ")
		out[id] = g
	}
	return out
}

// goroutinesIn returns the ids of the goroutines whose stack contains
// every one of parts.
func goroutinesIn(parts ...string) map[string]bool {
	ids := map[string]bool{}
next:
	for id, g := range stacks() {
		for _, p := range parts {
			if !strings.Contains(g, p) {
				continue next
			}
		}
		ids[id] = true
	}
	return ids
}

// H7: zmq4's Dial has no handshake timeout. Against a peer that accepts TCP
// and never speaks ZMTP, Dial blocks in the greeting; Sockets.Connect comes
// back at its bound as a hang and abandons the socket, closing its TCP
// connection, which is what ends the stuck Dial.
func TestZMQ4Today_DialHangsOnSilentPeer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	var (
		mu    sync.Mutex
		conns []net.Conn
	)
	acceptDone := make(chan struct{})
	go func() {
		defer close(acceptDone)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	silenced := false
	silence := func() { // the peer goes away: the stuck Dial returns
		if silenced {
			return
		}
		silenced = true
		_ = ln.Close()
		<-acceptDone
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	}
	defer silence()

	s := NewSockets(short)
	defer s.CloseAll()
	var incidents []*CallError
	s.OnIncident = func(_ string, e *CallError) { incidents = append(incidents, e) }
	must(t, s.NewREQ("client"))
	start := time.Now()
	err = s.Connect("client", "tcp://"+ln.Addr().String())
	took := time.Since(start)
	var ce *CallError
	if !errors.As(err, &ce) || ce.Hang == 0 || ce.Op != "connect" || ce.Event() != model.EventHang {
		t.Fatalf("connect to a silent peer: %v (%T), want a hang: H7 is gone", err, err)
	}
	if took < ce.Hang || took > ce.Hang+2*time.Second {
		t.Fatalf("connect came back after %v, bound %v", took, ce.Hang)
	}
	if s.Has("client") || len(incidents) != 1 {
		t.Fatalf("client still open (%v) or incidents %v", s.Has("client"), incidents)
	}
	mu.Lock()
	n := len(conns)
	mu.Unlock()
	if n != 1 {
		t.Fatalf("the silent peer accepted %d TCP connections, want 1", n)
	}
	// zmq4's Dial stays stuck in the greeting until its TCP connection
	// closes. realnet abandons the socket on the hang and closes the
	// connections it tracks for it (conntrack.go), so the Dial ends
	// without the peer's help.
	deadline := time.Now().Add(5 * time.Second)
	for len(goroutinesIn("zmq4.(*greeting).read", "zmq4.(*socket).Dial")) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("Dial still stuck in the greeting 5s after the socket was abandoned")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// H5: a REP reader goroutine that read a request while REP's 10-slot queue
// was full stays blocked in its channel send after rep.Close(), forever.
// One client and 11 unread requests suffice: 10 fill the queue, the 11th
// blocks the connection's (*repReader).listen. TestMain ignores exactly
// that goroutine (top function (*repReader).listen) for this reason.
func TestZMQ4Today_RepReaderLeaksAfterCloseWithFullQueue(t *testing.T) {
	const listen = "github.com/go-zeromq/zmq4.(*repReader).listen("
	before := goroutinesIn("[chan send", listen)
	blocked := func() map[string]bool {
		ids := goroutinesIn("[chan send", listen)
		for id := range before {
			delete(ids, id)
		}
		return ids
	}
	s, _ := pair(t)
	for i := range 11 {
		must(t, s.Send("client", model.Message{fmt.Sprint("q", i)}))
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(blocked()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no (*repReader).listen blocked in a channel send with 11 requests queued")
		}
		time.Sleep(time.Millisecond)
	}
	must(t, s.Close("server"))
	time.Sleep(50 * time.Millisecond) // time a reader would need to end
	if got := blocked(); len(got) != 1 {
		t.Fatalf("%d (*repReader).listen goroutines blocked after rep.Close(), want 1: H5 is gone", len(got))
	}
}
