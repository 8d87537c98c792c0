package simnet_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/go-zeromq/zmq4"

	"github.com/zeromq-lockstep/lockstep/internal/sendwalk"
	"github.com/zeromq-lockstep/lockstep/simnet"
)

// TestZMQ4Today_SendPanicsWhenTheSecondConnDied pins H1 of
// realnet/ZMQ4-FINDINGS.md, now deterministic: a REQ connected to two
// servers whose round robin points at the second, dead one panics with
// "index out of range" in reqWriter.write (it computes
// i + r.nextConn%len(r.conns), not (i+r.nextConn)%len). When zmq4 fixes
// it, this test fails: move the case to the facts.
func TestZMQ4Today_SendPanicsWhenTheSecondConnDied(t *testing.T) {
	simnet.Run(t, func(t *testing.T, n *simnet.Network) {
		for _, name := range []string{"a", "b"} {
			echo(n.Host(name), 0)
		}
		c := n.Host("client")
		req := zmq4.NewReq(context.Background())
		defer req.Close()
		for _, target := range []string{"a:5454", "b:5454"} {
			if err := req.Dial(c.Connect(target)); err != nil {
				t.Fatal(err)
			}
		}
		// One round trip on a: the rotation now points at b.
		if err := req.Send(zmq4.NewMsgString("1")); err != nil {
			t.Fatal(err)
		}
		if _, err := req.Recv(); err != nil {
			t.Fatal(err)
		}
		n.Crash("b") // nothing reads on REQ's conn to b, so zmq4 still lists it
		panicked := func() (p any) {
			defer func() { p = recover() }()
			_ = req.Send(zmq4.NewMsgString("2"))
			return nil
		}()
		if p := fmt.Sprint(panicked); !strings.Contains(p, "index out of range") {
			t.Fatalf("Send after b died: panic %v, want zmq4's index out of range (H1 fixed?)", panicked)
		}
	})
}

// TestZMQ4Today_SendWalksFromItsTurnToTheEnd runs, on real zmq4, the
// cases of internal/sendwalk/walks.txt, which the model's
// TestZMQ4SendWalksFromItsTurnToTheEnd runs too: a REQ dialled to a and
// then b notices a dead connection only when a write to it or a read on
// it fails, and a send tries from its turn to the end of the list, so a
// dead first connection is skipped and a dead last one whose turn it is
// makes the send panic (ZMQ4-FINDINGS H1,
// Profile.SendPanicsPastLastConnection).
func TestZMQ4Today_SendWalksFromItsTurnToTheEnd(t *testing.T) {
	t.Cleanup(func() {
		if t.Failed() {
			t.Log("rerun: go test ./simnet -run ZMQ4Today_SendWalks -v")
		}
	})
	sendwalk.Run(t, func(t *testing.T, reps []string, walk func(sendwalk.Client)) {
		simnet.Run(t, func(t *testing.T, n *simnet.Network) {
			for _, name := range reps {
				named(n.Host(name))
			}
			req := zmq4.NewReq(context.Background())
			defer req.Close()
			for _, name := range reps {
				if err := req.Dial(n.Host("client").Connect(name + ":5454")); err != nil {
					t.Fatal(err)
				}
			}
			walk(sendwalk.Client{
				Send:   func() string { return zmq4Send(req) },
				Recv:   func() string { return zmq4Recv(req) },
				Crash:  n.Crash,
				Settle: n.Settle, // zmq4's reaper removes what a failed write marked closed
			})
		})
	})
}

// named is a REP on h:5454 that answers every request with h's name.
func named(h *simnet.Host) {
	serve(h, 0, func(zmq4.Msg) zmq4.Msg { return zmq4.NewMsgString(h.Name()) })
}

// zmq4Send sends on req and says how it went, in sendwalk's words.
func zmq4Send(req zmq4.Socket) string {
	var err error
	p := func() (p any) {
		defer func() { p = recover() }()
		err = req.Send(zmq4.NewMsgString("q"))
		return nil
	}()
	switch {
	case p != nil && strings.Contains(fmt.Sprint(p), "index out of range"):
		return "panic"
	case p != nil:
		return fmt.Sprint("panic: ", p)
	case err == nil:
		return "ok"
	case strings.Contains(err.Error(), "no connections available"):
		return "no connection"
	}
	return err.Error()
}

// zmq4Recv receives on req and says what came, in sendwalk's words.
func zmq4Recv(req zmq4.Socket) string {
	m, err := req.Recv()
	switch {
	case errors.Is(err, io.EOF):
		return "EOF"
	case err != nil:
		return err.Error()
	}
	return string(m.Bytes())
}

// TestZMQ4Today_RepLeaksAReaderWithElevenUnreadRequests pins H5: a REP
// closed with more than ten unread requests leaves its
// (*repReader).listen goroutine blocked for ever on the full channel, so
// the bubble cannot end and synctest panics. Isolated runs the case in a
// child process and reports the leak instead of dying with it.
func TestZMQ4Today_RepLeaksAReaderWithElevenUnreadRequests(t *testing.T) {
	o := simnet.Isolated(t, func(t *testing.T, n *simnet.Network) {
		server := n.Host("server")
		rep := zmq4.NewRep(context.Background())
		if err := rep.Listen(server.Bind(5454)); err != nil {
			t.Fatal(err)
		}
		req := zmq4.NewReq(context.Background())
		defer req.Close()
		if err := req.Dial(n.Host("client").Connect("server:5454")); err != nil {
			t.Fatal(err)
		}
		for i := range 11 { // zmq4's REQ is not strict (ReqNotStrict)
			if err := req.Send(zmq4.NewMsgString(fmt.Sprint(i))); err != nil {
				t.Fatal(err)
			}
		}
		n.Sleep(time.Millisecond)
		rep.Close()
	})
	if o.Passed || !o.Leaked() || !strings.Contains(o.Output, "repReader).listen") {
		t.Fatalf("want the child to die of a leaked (*repReader).listen (H5 fixed?); passed=%v:\n%s", o.Passed, o.Output)
	}
}

// TestIsolatedReportsAPassingChild checks the other side of Isolated: a
// case that ends cleanly passes in its child.
func TestIsolatedReportsAPassingChild(t *testing.T) {
	o := simnet.Isolated(t, func(t *testing.T, n *simnet.Network) {
		echo(n.Host("server"), 0)
		req := zmq4.NewReq(context.Background())
		defer req.Close()
		if err := req.Dial(n.Host("client").Connect("server:5454")); err != nil {
			t.Fatal(err)
		}
	})
	if !o.Passed || o.Leaked() || !strings.Contains(o.Output, "--- SKIP: TestIsolatedReportsAPassingChild") {
		t.Fatalf("a clean case did not pass in its child:\n%s", o.Output)
	}
}

// dialAsync dials endpoint from a REQ on a goroutine of its own, since
// zmq4's Dial blocks, and reports when (network time) it returned and
// with what. The REQ is closed when the bubble's test ends.
func dialAsync(t *testing.T, n *simnet.Network, endpoint string) <-chan dialed {
	req := zmq4.NewReq(context.Background())
	t.Cleanup(func() { req.Close() })
	ch := make(chan dialed, 1)
	go func() {
		err := req.Dial(endpoint)
		ch <- dialed{n.Now(), err}
	}()
	return ch
}

type dialed struct {
	at  time.Duration
	err error
}

// TestZMQ4Today_DialRetriesARefusedConnectTenTimes pins what
// model.Profile.ConnectBlocks names: zmq4's Dial blocks its caller and
// tries a refused TCP connect again 250 ms later, ten times, then fails
// (socket.go, defaultRetry and defaultMaxRetries); a server that comes up
// meanwhile is reached by the next try. lockstep's simulator dials so
// under the zmq4 profile (sim.ZMQ4DialRetries, sim.ZMQ4DialRetry).
func TestZMQ4Today_DialRetriesARefusedConnectTenTimes(t *testing.T) {
	simnet.Run(t, func(t *testing.T, n *simnet.Network) {
		rtt := 2 * simnet.DefaultLatency
		server, c := n.Host("server"), n.Host("client")
		refused := dialAsync(t, n, c.Connect("server:5454"))
		n.Sleep(3 * time.Second)
		got := <-refused
		// Eleven connects of a round trip each, ten waits between them.
		if want := 11*rtt + 10*250*time.Millisecond; got.at != want || got.err == nil || !strings.Contains(got.err.Error(), "connection refused") {
			t.Fatalf("Dial to nothing returned at %v with %v, want ECONNREFUSED at %v (zmq4's retries changed?)", got.at, got.err, want)
		}
		start := n.Now()
		reached := dialAsync(t, n, c.Connect("server:5454"))
		n.Sleep(time.Second)
		echo(server, 0)
		n.Sleep(time.Second)
		got = <-reached
		// The fifth try (after four refusals) finds the server; then the
		// ZMTP handshake takes another round trip.
		if want := start + 4*(rtt+250*time.Millisecond) + 2*rtt; got.at != want || got.err != nil {
			t.Fatalf("Dial to a server that comes up after 1s returned at %v with %v, want success at %v", got.at, got.err, want)
		}
	})
}

// TestZMQ4Today_DialFailsForGoodWhenTheHandshakeIsLost pins the other
// half of model.Profile.ConnectBlocks: a server that dies during the ZMTP
// handshake (after the TCP connect) makes Dial fail at once with EOF, and
// Dial does not try again, though the server is back.
func TestZMQ4Today_DialFailsForGoodWhenTheHandshakeIsLost(t *testing.T) {
	simnet.Run(t, func(t *testing.T, n *simnet.Network) {
		echo(n.Host("server"), 0)
		ch := dialAsync(t, n, n.Host("client").Connect("server:5454"))
		crashAt := 2*simnet.DefaultLatency + simnet.DefaultLatency/2 // inside the greeting
		n.SleepUntil(crashAt)
		n.Crash("server")
		n.Restart("server")
		n.Sleep(time.Second)
		got := <-ch
		if got.at != crashAt || !errors.Is(got.err, io.EOF) {
			t.Fatalf("Dial whose server died in the handshake returned at %v with %v, want EOF at %v", got.at, got.err, crashAt)
		}
		if tr := n.TraceText(); strings.Count(tr, " connect ") != 1 {
			t.Fatalf("Dial connected again after the lost handshake:\n%s", tr)
		}
	})
}

// TestZMQ4Today_AListenerHandshakesOneConnectionAtATime pins what
// model.Profile.SerialHandshakes names: zmq4's accept loop runs each
// connection's ZMTP handshake before it accepts the next (socket.go,
// accept calls Open), so of two clients whose TCP connects complete
// together, the second's Dial returns a latency after the first's.
func TestZMQ4Today_AListenerHandshakesOneConnectionAtATime(t *testing.T) {
	simnet.Run(t, func(t *testing.T, n *simnet.Network) {
		echo(n.Host("server"), 0)
		first := dialAsync(t, n, n.Host("client-1").Connect("server:5454"))
		second := dialAsync(t, n, n.Host("client-2").Connect("server:5454"))
		n.Sleep(time.Millisecond)
		a, b := <-first, <-second
		l := simnet.DefaultLatency
		if a.err != nil || b.err != nil || a.at != 4*l || b.at != 5*l {
			t.Fatalf("two Dials at once returned at %v (%v) and %v (%v), want %v and %v", a.at, a.err, b.at, b.err, 4*l, 5*l)
		}
	})
}
