package simnet_test

import (
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-zeromq/zmq4"

	"github.com/zeromq-lockstep/lockstep/simnet"
)

// echo is a REP server on host h, port 5454, that answers every request
// with itself after delay.
func echo(h *simnet.Host, delay time.Duration) {
	serve(h, delay, func(m zmq4.Msg) zmq4.Msg { return m })
}

// serve is a REP server on host h, port 5454, that answers every request
// with answer's reply after delay.
func serve(h *simnet.Host, delay time.Duration, answer func(zmq4.Msg) zmq4.Msg) {
	h.Start(func(ctx context.Context) {
		rep := zmq4.NewRep(ctx)
		defer rep.Close()
		if err := rep.Listen(h.Bind(5454)); err != nil {
			panic(err)
		}
		for {
			msg, err := rep.Recv()
			if err != nil {
				return
			}
			time.Sleep(delay)
			if err := rep.Send(answer(msg)); err != nil {
				return
			}
		}
	})
}

func TestRoundTripTakesTheLinksLatency(t *testing.T) {
	simnet.Run(t, func(t *testing.T, n *simnet.Network) {
		n.SetLatency("client", "server", 10*time.Millisecond)
		echo(n.Host("server"), 0)
		req := zmq4.NewReq(context.Background())
		defer req.Close()
		start := time.Now()
		if err := req.Dial(n.Host("client").Connect("server:5454")); err != nil {
			t.Fatal(err)
		}
		// The handshake: one round trip to connect, then ZMTP's greeting
		// and READY exchanges.
		if d := time.Since(start); d < 20*time.Millisecond {
			t.Errorf("dial took %v, want at least one round trip (20ms)", d)
		}
		start = time.Now()
		if err := req.Send(zmq4.NewMsgString("hi")); err != nil {
			t.Fatal(err)
		}
		msg, err := req.Recv()
		if err != nil || string(msg.Bytes()) != "hi" {
			t.Fatalf("Recv = %q, %v", msg.Bytes(), err)
		}
		if d := time.Since(start); d != 20*time.Millisecond {
			t.Errorf("round trip took %v, want exactly 20ms of virtual time", d)
		}
	})
}

func TestCrashLosesTheHeldRequestAndRefusesDials(t *testing.T) {
	simnet.Run(t, func(t *testing.T, n *simnet.Network) {
		echo(n.Host("server"), time.Second)
		req := zmq4.NewReq(context.Background(), zmq4.WithDialerMaxRetries(0))
		defer req.Close()
		ep := n.Host("client").Connect("server:5454")
		if err := req.Dial(ep); err != nil {
			t.Fatal(err)
		}
		if err := req.Send(zmq4.NewMsgString("held")); err != nil {
			t.Fatal(err)
		}
		got := make(chan error, 1)
		go func() { _, err := req.Recv(); got <- err }()
		n.SleepUntil(500 * time.Millisecond)
		n.Crash("server")
		// zmq4 reports the loss as io.EOF (lockstep's RecvEOFOnPeerLoss).
		if err := <-got; !errors.Is(err, io.EOF) {
			t.Errorf("Recv after crash = %v, want io.EOF", err)
		}
		req2 := zmq4.NewReq(context.Background(), zmq4.WithDialerMaxRetries(0))
		defer req2.Close()
		if err := req2.Dial(ep); err == nil {
			t.Errorf("dial to a crashed host succeeded")
		}
		n.SleepUntil(1500 * time.Millisecond)
		n.Restart("server")
		if err := req2.Dial(ep); err != nil {
			t.Errorf("dial after restart: %v", err)
		}
		trace := n.TraceText()
		for _, want := range []string{
			"0.500000s  server     crash",
			"0.500000s  client     disconnect peer=server:5454 reason=\"server crashed\"",
			"0.500000s  server     disconnect peer=client reason=\"server crashed\"",
			"0.500200s  client     refused    peer=server:5454 reason=\"host down\"",
			"1.500000s  server     restart",
			"1.500200s  client     connect    peer=server:5454",
		} {
			if !strings.Contains(trace, want) {
				t.Errorf("trace lacks %q:\n%s", want, trace)
			}
		}
	})
}

// TestSchemesArePooled: registration with zmq4 is global and permanent,
// so a network's scheme serves the next network once its bubble has
// ended, while networks alive at once get schemes of their own.
func TestSchemesArePooled(t *testing.T) {
	var first, second, inner string
	m := simnet.New() // in real time, outside any bubble
	inner = m.Scheme()
	defer m.Close()
	simnet.Run(t, func(t *testing.T, n *simnet.Network) { first = n.Scheme() })
	simnet.Run(t, func(t *testing.T, n *simnet.Network) { second = n.Scheme() })
	if inner == first {
		t.Errorf("two live networks share the scheme %s", first)
	}
	if second != first {
		t.Errorf("the scheme %s was not reused (got %s)", first, second)
	}
	if !slices.Contains(zmq4.Transports(), first) {
		t.Errorf("zmq4 does not list %s among %v", first, zmq4.Transports())
	}
}
