package sim_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/zeromq-lockstep/lockstep/model"
	"github.com/zeromq-lockstep/lockstep/sim"
	"github.com/zeromq-lockstep/lockstep/trace"
)

// zmq4Net is compare's network against simnet: 100µs a message, no
// jitter, a dial that ends after the ZMTP handshake.
var zmq4Net = sim.Network{Latency: 100 * time.Microsecond, Handshake: true}

const lat = 100 * time.Microsecond

// dialWorld is a scenario backend under the zmq4 profile on zmq4Net with
// a REP "server" bound to tcp://server:5454 (unless unbound) and REQs
// named clients connected to it, in order.
func dialWorld(t *testing.T, bound bool, clients ...string) *sim.Backend {
	t.Helper()
	b, err := sim.NewScenarioBackend(sim.Config{Seed: 1, Profile: model.ZMQ4, Network: zmq4Net})
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(b.Open("server", model.REP, model.Options{}))
	if bound {
		must(b.Bind("server", "tcp://server:5454"))
	}
	for _, c := range clients {
		must(b.Open(c, model.REQ, model.Options{}))
		must(b.Connect(c, "tcp://server:5454"))
	}
	return b
}

// lines renders the events of kind (all when empty) as "at actor kind
// reason" lines.
func lines(events []trace.Event, kinds ...model.EventKind) string {
	var out []string
	for _, e := range events {
		for _, k := range kinds {
			if e.Kind == k {
				out = append(out, fmt.Sprintf("%v %s %s %s", e.At, e.Actor, e.Kind, e.Reason))
			}
		}
	}
	return strings.Join(out, "\n")
}

// TestConnectBlocksRetriesTenTimes: under ConnectBlocks a refused connect
// is tried again 250 ms later, ten times, then connect() fails for good,
// as zmq4's Dial does (simnet's TestZMQ4Today_DialRetriesARefusedConnectTenTimes).
func TestConnectBlocksRetriesTenTimes(t *testing.T) {
	b := dialWorld(t, false, "client")
	if err := b.Advance(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	ev := b.Events()
	if n := strings.Count(lines(ev, model.EventRetry), "\n") + 1; n != sim.ZMQ4DialRetries {
		t.Errorf("dial: %d retries, want %d:\n%s", n, sim.ZMQ4DialRetries, lines(ev, model.EventRetry))
	}
	want := fmt.Sprintf("%v client error connect: connection refused", 11*2*lat+10*sim.ZMQ4DialRetry)
	if got := lines(ev, model.EventError, model.EventConnect); got != want {
		t.Errorf("dial: got\n%s\nwant\n%s", got, want)
	}
}

// TestConnectBlocksReachesALateServer: a server that binds while
// connect() retries is reached by the next try, after its handshake, and
// the binding hands nothing to the REQ until then.
func TestConnectBlocksReachesALateServer(t *testing.T) {
	b := dialWorld(t, false, "client")
	if _, err := b.Enqueue("client", model.Message{"0"}); err != nil {
		t.Fatal(err)
	}
	if err := b.Advance(time.Second); err != nil {
		t.Fatal(err)
	}
	if err := b.Bind("server", "tcp://server:5454"); err != nil {
		t.Fatal(err)
	}
	if err := b.Advance(time.Second); err != nil {
		t.Fatal(err)
	}
	at := 4*(2*lat+sim.ZMQ4DialRetry) + 4*lat
	want := fmt.Sprintf("%v client connect \n%v client send ", at, at)
	if got := lines(b.Events(), model.EventConnect, model.EventSend, model.EventError); got != want {
		t.Errorf("dial to a late server: got\n%s\nwant\n%s", got, want)
	}
}

// TestConnectBlocksFailsWhenTheHandshakeIsLost: a server that dies after
// the TCP connect, during the handshake, fails connect() at that instant
// with EOF, and nothing dials again once it is back
// (TestZMQ4Today_DialFailsForGoodWhenTheHandshakeIsLost).
func TestConnectBlocksFailsWhenTheHandshakeIsLost(t *testing.T) {
	b := dialWorld(t, true, "client")
	if err := b.Advance(2*lat + lat/2); err != nil {
		t.Fatal(err)
	}
	if err := b.Crash("server"); err != nil {
		t.Fatal(err)
	}
	if err := b.Restart("server"); err != nil {
		t.Fatal(err)
	}
	if err := b.Advance(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("%v client error connect: %v", 2*lat+lat/2, model.ErrPeerGone)
	if got := lines(b.Events(), model.EventError, model.EventConnect, model.EventRetry); got != want {
		t.Errorf("dial whose server died in the handshake: got\n%s\nwant\n%s", got, want)
	}
}

// TestSerialHandshakes: of two clients whose TCP connects complete
// together, the second completes its handshake a latency after the first,
// as zmq4's accept loop has it
// (TestZMQ4Today_AListenerHandshakesOneConnectionAtATime); without the
// field both complete together.
func TestSerialHandshakes(t *testing.T) {
	for _, serial := range []bool{true, false} {
		p := model.ZMQ4
		p.SerialHandshakes = serial
		b, err := sim.NewScenarioBackend(sim.Config{Seed: 1, Profile: p, Network: zmq4Net})
		if err != nil {
			t.Fatal(err)
		}
		_ = b.Open("server", model.REP, model.Options{})
		_ = b.Bind("server", "tcp://server:5454")
		for _, c := range []string{"c1", "c2"} {
			_ = b.Open(c, model.REQ, model.Options{})
			_ = b.Connect(c, "tcp://server:5454")
		}
		if err := b.Advance(time.Millisecond); err != nil {
			t.Fatal(err)
		}
		second := 4 * lat
		if serial {
			second = 5 * lat
		}
		want := fmt.Sprintf("%v c1 connect \n%v c2 connect ", 4*lat, second)
		if got := lines(b.Events(), model.EventConnect); got != want {
			t.Errorf("SerialHandshakes=%v: got\n%s\nwant\n%s", serial, got, want)
		}
	}
}

// TestHandshakeOffKeepsOneRoundTrip: the default network dials in one
// round trip, whatever the profile.
func TestHandshakeOffKeepsOneRoundTrip(t *testing.T) {
	b, err := sim.NewScenarioBackend(sim.Config{Seed: 1, Profile: model.ZMQ4, Network: sim.Network{Latency: lat}})
	if err != nil {
		t.Fatal(err)
	}
	_ = b.Open("server", model.REP, model.Options{})
	_ = b.Bind("server", "tcp://server:5454")
	_ = b.Open("client", model.REQ, model.Options{})
	_ = b.Connect("client", "tcp://server:5454")
	if err := b.Advance(time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if got, want := lines(b.Events(), model.EventConnect), fmt.Sprintf("%v client connect ", 2*lat); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
