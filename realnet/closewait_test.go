package realnet

import (
	"bufio"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/zeromq-lockstep/lockstep/app"
)

// tcpStates counts the loopback TCP sockets of this host, by state (the
// hex state of /proc/net/tcp: 08 is CLOSE_WAIT), whose local or remote
// port is one of ports.
func tcpStates(t *testing.T, ports map[int]bool) map[string]int {
	t.Helper()
	f, err := os.Open("/proc/net/tcp")
	if err != nil {
		t.Skipf("no /proc/net/tcp: %v", err)
	}
	defer f.Close()
	states := map[string]int{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 4 || fields[0] == "sl" {
			continue
		}
		port := func(addr string) int {
			_, p, _ := strings.Cut(addr, ":")
			n, _ := strconv.ParseUint(p, 16, 16)
			return int(n)
		}
		if ports[port(fields[1])] || ports[port(fields[2])] {
			states[fields[3]]++
		}
	}
	return states
}

// A run with a crash on real sockets closes every TCP connection it made
// when it returns, not when the garbage collector finds them: no socket of
// the run's ports is left in CLOSE_WAIT (a peer closed, this side never
// did).
func TestCrashLeavesNoSocketInCloseWait(t *testing.T) {
	// With the collector off, no finalizer can close a forgotten socket
	// before it is counted.
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	sc, err := app.LookupScenario("seed")
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(sc, Config{Clock: clock.NewMock(), For: time.Second,
		Crashes: []Crash{{Server: "server", At: 350 * time.Millisecond, Down: 200 * time.Millisecond}}})
	if err != nil {
		t.Fatal(err)
	}
	ports := map[int]bool{}
	for _, ep := range res.Endpoints {
		i := strings.LastIndexByte(ep, ':')
		p, err := strconv.Atoi(ep[i+1:])
		if err != nil {
			t.Fatalf("endpoint %q has no port", ep)
		}
		ports[p] = true
	}
	if len(ports) == 0 {
		t.Fatal("the run reports no endpoints")
	}
	if n := tcpStates(t, ports)["08"]; n != 0 {
		t.Fatalf("%d sockets of ports %v in CLOSE_WAIT after the run returned: a connection the peer closed was never closed here", n, ports)
	}
}
