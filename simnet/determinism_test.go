package simnet_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-zeromq/zmq4"

	"github.com/zeromq-lockstep/lockstep/simnet"
)

// busy runs two clients on two hosts, at the same distance from one
// server, so that much happens at the same virtual instants, through a
// crash, a restart, a cut and a heal; it returns the network's trace and
// what the clients saw.
func busy(t *testing.T) string {
	var out string
	simnet.Run(t, func(t *testing.T, n *simnet.Network) {
		var (
			mu   sync.Mutex
			seen []string
		)
		echo(n.Host("server"), 3*time.Millisecond)
		for _, name := range []string{"alice", "bob"} {
			h := n.Host(name)
			h.Start(func(ctx context.Context) {
				for i := 0; ctx.Err() == nil; i++ {
					req := zmq4.NewReq(ctx, zmq4.WithDialerRetry(100*time.Millisecond), zmq4.WithDialerMaxRetries(-1))
					if err := req.Dial(h.Connect("server:5454")); err != nil {
						req.Close()
						return
					}
					for ; ctx.Err() == nil; i++ {
						if err := req.Send(zmq4.NewMsgString(fmt.Sprint(i))); err != nil {
							break
						}
						msg, err := req.Recv()
						mu.Lock()
						seen = append(seen, fmt.Sprintf("%v %s %q %v", n.Now(), name, msg.Bytes(), err))
						mu.Unlock()
						if err != nil {
							break
						}
						time.Sleep(50 * time.Millisecond)
					}
					req.Close()
				}
			})
		}
		n.SleepUntil(time.Second)
		n.Crash("server")
		n.SleepUntil(1500 * time.Millisecond)
		n.Restart("server")
		n.SleepUntil(2 * time.Second)
		n.Cut("alice", "server")
		n.SleepUntil(2200 * time.Millisecond)
		n.Heal("alice", "server")
		n.SleepUntil(3 * time.Second)
		n.Close()
		mu.Lock()
		out = n.TraceText() + strings.Join(seen, "\n")
		mu.Unlock()
	})
	return out
}

// TestSameScheduleSameTrace runs one scenario twenty times: the traces
// must be equal byte for byte, however the goroutines woken at one instant
// were scheduled.
func TestSameScheduleSameTrace(t *testing.T) {
	first := busy(t)
	for _, want := range []string{"crash", "restart", "cut", "heal", "refused", "disconnect", "connect"} {
		if !regexp.MustCompile(`(?m)^ *[0-9.]+s  \S+ +` + want + `( |$)`).MatchString(first) {
			t.Errorf("the scenario never shows %q:\n%s", want, first)
		}
	}
	for i := 1; i < 20; i++ {
		if got := busy(t); got != first {
			t.Fatalf("run %d differs from run 0:\n--- run 0\n%s\n--- run %d\n%s", i, first, i, got)
		}
	}
}
