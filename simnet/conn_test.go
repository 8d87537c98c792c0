package simnet

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
	"testing/synctest"
	"time"
)

// pair listens on server:7 and dials it from client, through the
// transport as zmq4 would, and returns both ends.
func pair(t *testing.T, n *Network) (dialer, acceptor net.Conn, l net.Listener) {
	t.Helper()
	n.Host("server")
	n.Host("client")
	tr := transport{n.slot}
	l, err := tr.Listen(context.Background(), "server:7")
	if err != nil {
		t.Fatal(err)
	}
	dialer, err = tr.Dial(context.Background(), nil, "client@server:7")
	if err != nil {
		t.Fatal(err)
	}
	acceptor, err = l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	return dialer, acceptor, l
}

func inBubbleNet(t *testing.T, f func(t *testing.T, n *Network)) {
	synctest.Test(t, func(t *testing.T) {
		n := New()
		defer n.Close()
		f(t, n)
	})
}

func TestWriteNeverBlocksAndBytesArriveAfterTheLatencyInOrder(t *testing.T) {
	inBubbleNet(t, func(t *testing.T, n *Network) {
		n.SetLatency("client", "server", 10*time.Millisecond)
		d, a, l := pair(t, n)
		defer l.Close()
		start := time.Now()
		big := make([]byte, 8<<20) // far beyond any socket buffer
		if k, err := d.Write(big); k != len(big) || err != nil {
			t.Fatalf("Write = %d, %v", k, err)
		}
		if time.Since(start) != 0 {
			t.Fatalf("Write took %v of virtual time", time.Since(start))
		}
		n.SetLatency("client", "server", time.Millisecond) // later bytes must not overtake
		d.Write([]byte("tail"))
		if _, err := io.ReadFull(a, big); err != nil {
			t.Fatal(err)
		}
		if got := time.Since(start); got != 10*time.Millisecond {
			t.Errorf("bytes arrived after %v, want the 10ms latency", got)
		}
		tail := make([]byte, 4)
		if _, err := io.ReadFull(a, tail); err != nil || string(tail) != "tail" {
			t.Errorf("tail = %q, %v", tail, err)
		}
		if got := time.Since(start); got != 10*time.Millisecond {
			t.Errorf("tail arrived after %v, want with the earlier bytes (10ms): bytes never overtake", got)
		}
	})
}

func TestAcceptBlocksUntilClosedOrCancelled(t *testing.T) {
	inBubbleNet(t, func(t *testing.T, n *Network) {
		n.Host("server")
		tr := transport{n.slot}
		ctx, cancel := context.WithCancel(context.Background())
		l, err := tr.Listen(ctx, "server:7")
		if err != nil {
			t.Fatal(err)
		}
		errc := make(chan error, 1)
		go func() { _, err := l.Accept(); errc <- err }()
		n.Sleep(time.Hour)
		select {
		case err := <-errc:
			t.Fatalf("Accept returned %v while the socket lives", err)
		default:
		}
		cancel()
		if err := <-errc; !errors.Is(err, net.ErrClosed) {
			t.Errorf("Accept after cancel = %v, want net.ErrClosed", err)
		}
		l.Close()
	})
}

func TestCloseDeliversInFlightBytesThenEOF(t *testing.T) {
	inBubbleNet(t, func(t *testing.T, n *Network) {
		d, a, l := pair(t, n)
		defer l.Close()
		d.Write([]byte("bye"))
		d.Close()
		got, err := io.ReadAll(a)
		if string(got) != "bye" || err != nil {
			t.Errorf("ReadAll = %q, %v; want the bytes, then EOF", got, err)
		}
		if _, err := a.Write([]byte("x")); !errors.Is(err, syscall.EPIPE) {
			t.Errorf("Write to a closed peer = %v, want EPIPE", err)
		}
		a.Close()
	})
}

func TestCutResetsBothEndsAndRefusesDialsUntilHealed(t *testing.T) {
	inBubbleNet(t, func(t *testing.T, n *Network) {
		d, a, l := pair(t, n)
		defer l.Close()
		d.Write([]byte("lost"))
		n.Cut("client", "server")
		for _, c := range []net.Conn{d, a} {
			if _, err := c.Read(make([]byte, 1)); !errors.Is(err, syscall.ECONNRESET) {
				t.Errorf("Read after cut = %v, want ECONNRESET", err)
			}
		}
		tr := transport{n.slot}
		if _, err := tr.Dial(context.Background(), nil, "client@server:7"); !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("dial over a cut link = %v, want ECONNREFUSED", err)
		}
		n.Heal("client", "server")
		c, err := tr.Dial(context.Background(), nil, "client@server:7")
		if err != nil {
			t.Fatalf("dial after heal: %v", err)
		}
		c.Close()
		trace := n.TraceText()
		for _, want := range []string{
			`server     drop       peer=client reason="4 bytes in flight: link cut"`,
			`client     refused    peer=server:7 reason="link cut"`,
			"client     heal       peer=server",
		} {
			if !strings.Contains(trace, want) {
				t.Errorf("trace lacks %q:\n%s", want, trace)
			}
		}
		d.Close()
		a.Close()
	})
}

func TestCrashKeepsWhatArrivedForThePeerThenEOF(t *testing.T) {
	inBubbleNet(t, func(t *testing.T, n *Network) {
		d, a, l := pair(t, n)
		defer l.Close()
		a.Write([]byte("arrived"))
		n.Sleep(time.Millisecond)
		a.Write([]byte("in flight"))
		n.Crash("server")
		got, err := io.ReadAll(d)
		if string(got) != "arrived" || err != nil {
			t.Errorf("client read %q, %v; want what had arrived, then EOF", got, err)
		}
		if _, err := a.Read(make([]byte, 1)); !errors.Is(err, syscall.ECONNRESET) {
			t.Errorf("the crashed end reads %v, want ECONNRESET", err)
		}
		if !strings.Contains(n.TraceText(), `client     drop       peer=server:7 reason="9 bytes in flight: server crashed"`) {
			t.Errorf("trace lacks the lost bytes:\n%s", n.TraceText())
		}
		d.Close()
		a.Close()
	})
}

func TestAddressesAndPorts(t *testing.T) {
	inBubbleNet(t, func(t *testing.T, n *Network) {
		n.Host("server")
		tr := transport{n.slot}
		for _, bad := range []string{"server", "server:x", ":7", "@server:7", "server:70000"} {
			if _, err := tr.Addr(bad); err == nil {
				t.Errorf("Addr(%q) accepted", bad)
			}
		}
		if got, _ := tr.Addr("server:*"); got != "server:0" {
			t.Errorf("Addr(server:*) = %q", got)
		}
		l, err := tr.Listen(context.Background(), "server:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		if l.Addr().String() != "server:49152" {
			t.Errorf("port 0 gave %v, want the first ephemeral port", l.Addr())
		}
		if _, err := tr.Listen(context.Background(), "server:49152"); !errors.Is(err, syscall.EADDRINUSE) {
			t.Errorf("second listen = %v, want EADDRINUSE", err)
		}
		if _, err := tr.Listen(context.Background(), "nowhere:7"); err == nil {
			t.Errorf("listen on an unknown host succeeded")
		}
		if _, err := tr.Dial(context.Background(), nil, "server:49152"); err == nil {
			t.Errorf("dial naming no dialing host succeeded")
		}
	})
}
