package realnet

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/go-zeromq/zmq4"

	"github.com/zeromq-lockstep/lockstep/app"
	"github.com/zeromq-lockstep/lockstep/model"
)

// bareRoundTrips does n REQ/REP round trips on plain zmq4 sockets.
func bareRoundTrips(b *testing.B, n int) time.Duration {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rep := zmq4.NewRep(ctx, zmq4.WithLogger(quiet))
	defer rep.Close()
	if err := rep.Listen("tcp://127.0.0.1:0"); err != nil {
		b.Fatal(err)
	}
	req := zmq4.NewReq(ctx, zmq4.WithLogger(quiet))
	defer req.Close()
	if err := req.Dial("tcp://" + rep.Addr().String()); err != nil {
		b.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < n; i++ {
			m, err := rep.Recv()
			if err != nil {
				return
			}
			if err := rep.Send(m); err != nil {
				return
			}
		}
	}()
	msg := zmq4.NewMsgString("0123456789abcdef")
	start := time.Now()
	for i := 0; i < n; i++ {
		if err := req.Send(msg); err != nil {
			b.Fatal(err)
		}
		if _, err := req.Recv(); err != nil {
			b.Fatal(err)
		}
	}
	el := time.Since(start)
	<-done
	return el
}

// harnessRoundTrips does n round trips through realnet's bounded Sockets.
func harnessRoundTrips(b *testing.B, n int) time.Duration {
	s := NewSockets(0)
	defer s.CloseAll()
	if err := s.NewREP("server"); err != nil {
		b.Fatal(err)
	}
	ep, err := s.Bind("server", "tcp://127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	if err := s.NewREQ("client"); err != nil {
		b.Fatal(err)
	}
	if err := s.Connect("client", ep); err != nil {
		b.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < n; i++ {
			m, err := s.Recv("server", 0)
			if err != nil {
				return
			}
			if err := s.Send("server", m); err != nil {
				return
			}
		}
	}()
	msg := model.Message{"0123456789abcdef"}
	start := time.Now()
	for i := 0; i < n; i++ {
		if err := s.Send("client", msg); err != nil {
			b.Fatal(err)
		}
		if _, err := s.Recv("client", 0); err != nil {
			b.Fatal(err)
		}
	}
	el := time.Since(start)
	<-done
	return el
}

// backendRoundTrips does n round trips through the zmq4 Backend that the
// applications of app.Run use, from one goroutine as they do: the client
// sends, the server waits for the request, reads and answers it, the
// client waits for the reply and reads it.
func backendRoundTrips(b *testing.B, n int) time.Duration {
	be := newBackend(Config{})
	defer be.Shutdown()
	must := func(err error) {
		if err != nil {
			b.Fatal(err)
		}
	}
	must(be.Open("server", model.REP, model.Options{}))
	must(be.Bind("server", "tcp://server:5454"))
	must(be.Open("client", model.REQ, model.Options{}))
	must(be.Connect("client", "tcp://server:5454"))
	msg := model.Message{"0123456789abcdef"}
	wait := func(name string) {
		if ready, err := be.Wait(be.Now()+time.Second, name); err != nil || ready != name {
			b.Fatalf("wait %s: %q, %v", name, ready, err)
		}
	}
	start := time.Now()
	for i := 0; i < n; i++ {
		must(be.Send("client", msg))
		wait("server")
		m, err := be.Recv("server")
		must(err)
		must(be.Send("server", m))
		wait("client")
		_, err = be.Recv("client")
		must(err)
		be.Events()
	}
	return time.Since(start)
}

// BenchmarkRoundTrip runs b.N round trips on bare zmq4 and b.N through
// realnet's harness in the same run, interleaved in blocks so that both
// see the same machine, and reports both rates and the harness overhead:
// overhead-% from the totals, and median-overhead-% as the median of the
// blocks' own ratios, which a burst of load on the machine (a block or two
// taking twice as long) moves far less; backend-overhead-% is the same
// round trips through the Backend the applications use (one goroutine,
// Wait between calls). Blocks alternate which goes first.
//
//	go test -run '^$' -bench RoundTrip -benchtime 20000x -count 6 ./realnet/
func BenchmarkRoundTrip(b *testing.B) {
	var bare, harness, viaBackend time.Duration
	var ratios []float64
	const block = 1000
	for i, left := 0, b.N; left > 0; i, left = i+1, left-block {
		n := min(left, block)
		var x, h, k time.Duration
		if i%2 == 0 {
			x = bareRoundTrips(b, n)
			h = harnessRoundTrips(b, n)
			k = backendRoundTrips(b, n)
		} else {
			k = backendRoundTrips(b, n)
			h = harnessRoundTrips(b, n)
			x = bareRoundTrips(b, n)
		}
		bare += x
		harness += h
		viaBackend += k
		ratios = append(ratios, h.Seconds()/x.Seconds())
	}
	slices.Sort(ratios)
	median := ratios[len(ratios)/2]
	if len(ratios)%2 == 0 {
		median = (ratios[len(ratios)/2-1] + median) / 2
	}
	b.ReportMetric(float64(b.N)/bare.Seconds(), "bare-rt/s")
	b.ReportMetric(float64(b.N)/harness.Seconds(), "harness-rt/s")
	b.ReportMetric(100*(harness.Seconds()/bare.Seconds()-1), "overhead-%")
	b.ReportMetric(100*(median-1), "median-overhead-%")
	b.ReportMetric(100*(viaBackend.Seconds()/bare.Seconds()-1), "backend-overhead-%")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkSeedMock runs 10 virtual seconds of the seed scenario on zmq4
// with a mock clock and reports virtual seconds per wall second.
//
//	go test -run '^$' -bench SeedMock -benchtime 5x ./realnet/
func BenchmarkSeedMock(b *testing.B) {
	sc, _ := app.LookupScenario("seed")
	const d = 10 * time.Second
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if _, err := Run(sc, Config{Clock: clock.NewMock(), For: d}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(d.Seconds()*float64(b.N)/time.Since(start).Seconds(), "virtual-s/wall-s")
}
