package simnet_test

import (
	"context"
	"testing"
	"time"

	"github.com/go-zeromq/zmq4"

	"github.com/zeromq-lockstep/lockstep/simnet"
)

// BenchmarkSequence measures what a differential property pays per
// sequence: a network in its own bubble, a REP and a REQ, thirty round
// trips, a crash and a restart, and everything closed. It reports
// sequences per wall-clock second.
func BenchmarkSequence(b *testing.B) {
	for b.Loop() {
		simnet.RunB(b, func(t *testing.T, n *simnet.Network) {
			echo(n.Host("server"), time.Millisecond)
			req := zmq4.NewReq(context.Background())
			defer req.Close()
			if err := req.Dial(n.Host("client").Connect("server:5454")); err != nil {
				t.Fatal(err)
			}
			for range 30 {
				if err := req.Send(zmq4.NewMsgString("x")); err != nil {
					t.Fatal(err)
				}
				if _, err := req.Recv(); err != nil {
					t.Fatal(err)
				}
			}
			n.Crash("server")
			n.Sleep(time.Second)
			n.Restart("server")
		})
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "sequences/s")
}
