package blog_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zeromq-lockstep/lockstep/examples/blog"
	"github.com/zeromq-lockstep/lockstep/simnet"
)

// line is one line the client printed, at its virtual time.
type line struct {
	at   time.Duration
	text string
}

// run starts the blog's server and client on n, lets d of virtual time
// pass while fault runs, and returns what the client printed.
func run(t *testing.T, n *simnet.Network, d time.Duration, fault func()) []line {
	var (
		mu    sync.Mutex
		lines []line
	)
	server, client := n.Host("server"), n.Host("client")
	server.Start(func(ctx context.Context) {
		if err := blog.Server(ctx, server.Bind(5454)); err != nil {
			t.Errorf("server: %v", err)
		}
	})
	client.Start(func(ctx context.Context) {
		err := blog.Client(ctx, client.Connect("server:5454"), func(s string) {
			mu.Lock()
			lines = append(lines, line{n.Now(), s})
			mu.Unlock()
		})
		if err != nil {
			t.Errorf("client: %v", err)
		}
	})
	if fault != nil {
		fault()
	}
	n.SleepUntil(d)
	n.Close()
	return lines
}

func isReply(s string) bool { return strings.HasPrefix(s, "{ response:") }

func queued(s string) (int, bool) {
	k, err := strconv.Atoi(strings.TrimSuffix(s, " message queued"))
	return k, err == nil && strings.HasSuffix(s, " message queued")
}

// TestOneHourShowsThePostsPattern runs the blog's programs for a virtual
// hour: replies come in bursts of three a second apart, and the queue
// grows by about seven a second (F1, F24).
func TestOneHourShowsThePostsPattern(t *testing.T) {
	simnet.Run(t, func(t *testing.T, n *simnet.Network) {
		lines := run(t, n, time.Hour, nil)
		var head strings.Builder
		for _, l := range lines {
			if l.at <= 1400*time.Millisecond {
				fmt.Fprintf(&head, "%9.6fs  %s\n", l.at.Seconds(), l.text)
			}
		}
		t.Logf("the first 1.4 s:\n%s... and %d lines in all, the last %q", head.String(), len(lines), lines[len(lines)-1].text)

		// Group replies into bursts: replies less than 100 ms apart.
		var bursts [][]line
		next := 0
		for _, l := range lines {
			if !isReply(l.text) {
				if q, ok := queued(l.text); !ok {
					t.Fatalf("unexpected line at %v: %q", l.at, l.text)
				} else if q < 0 {
					t.Fatalf("negative queue")
				}
				continue
			}
			want := fmt.Sprintf("{ response: '%d' }", next)
			if l.text != want {
				t.Fatalf("at %v got %q, want %q: replies out of order", l.at, l.text, want)
			}
			next++
			if k := len(bursts); k > 0 && l.at-bursts[k-1][len(bursts[k-1])-1].at < 100*time.Millisecond {
				bursts[k-1] = append(bursts[k-1], l)
			} else {
				bursts = append(bursts, []line{l})
			}
		}
		// The first two replies are fast and a tick apart; from request 2
		// on every burst is one slow reply and the two fast ones after it.
		if len(bursts) < 3500 {
			t.Fatalf("only %d bursts in an hour", len(bursts))
		}
		for i, b := range bursts[2 : len(bursts)-1] {
			if len(b) != 3 {
				t.Fatalf("burst %d at %v has %d replies, want 3", i+2, b[0].at, len(b))
			}
			gap := bursts[i+3][0].at - b[0].at
			if gap < time.Second || gap > 1010*time.Millisecond {
				t.Fatalf("bursts at %v and %v are %v apart, want about 1s", b[0].at, bursts[i+3][0].at, gap)
			}
		}
		last, _ := queued(lines[len(lines)-1].text)
		if perSecond := float64(last) / time.Hour.Seconds(); perSecond < 6.9 || perSecond > 7.1 {
			t.Errorf("queue is %d after an hour: %.2f a second, want about 7", last, perSecond)
		}
	})
}

// TestRestartWhileHeldStrandsTheClient crashes the server at 2.5 s, while
// it holds request 8 (a slow one), and restarts it at 3.5 s: the request
// is lost, the client never gets another reply and its queue grows for
// ever (F19). zmq4 tells the client with io.EOF (lockstep's zmq4 profile:
// RecvEOFOnPeerLoss) and does not reconnect (NoReconnect).
func TestRestartWhileHeldStrandsTheClient(t *testing.T) {
	simnet.Run(t, func(t *testing.T, n *simnet.Network) {
		lines := run(t, n, 10*time.Second, func() {
			n.SleepUntil(2500 * time.Millisecond)
			n.Crash("server")
			n.SleepUntil(3500 * time.Millisecond)
			n.Restart("server")
		})
		var lastReply line
		sawEOF := false
		for _, l := range lines {
			switch {
			case isReply(l.text):
				lastReply = l
			case l.text == "recv error: EOF":
				sawEOF = true
				if l.at != 2500*time.Millisecond {
					t.Errorf("EOF at %v, want at the crash (2.5s)", l.at)
				}
			}
		}
		if lastReply.text != "{ response: '7' }" || lastReply.at > 2500*time.Millisecond {
			t.Errorf("last reply %q at %v, want response 7 before the crash", lastReply.text, lastReply.at)
		}
		if !sawEOF {
			t.Errorf("the client never learned of the loss")
		}
		ticks := 0
		for _, l := range lines {
			if _, ok := queued(l.text); ok {
				ticks++
			}
		}
		// Requests 0 to 7 were answered and 8 is lost with the server: all
		// the others wait in the queue.
		if q, ok := queued(lines[len(lines)-1].text); !ok || q != ticks-9 || ticks < 99 {
			t.Errorf("last line %q after %d ticks, want %d message queued", lines[len(lines)-1].text, ticks, ticks-9)
		}
		t.Logf("network trace:\n%s", n.TraceText())
		if !strings.Contains(n.TraceText(), "2.500000s  server     crash") {
			t.Errorf("trace lacks the crash:\n%s", n.TraceText())
		}
	})
}

// BenchmarkVirtualHour runs the blog's experiment for a virtual hour and
// reports how many virtual seconds simnet runs per wall-clock second.
func BenchmarkVirtualHour(b *testing.B) {
	runs := 0
	for b.Loop() {
		simnet.RunB(b, func(t *testing.T, n *simnet.Network) {
			lines := run(t, n, time.Hour, nil)
			if len(lines) < 30000 {
				t.Errorf("only %d lines in an hour", len(lines))
			}
		})
		runs++
	}
	b.ReportMetric(float64(runs)*time.Hour.Seconds()/b.Elapsed().Seconds(), "virtual-s/s")
}
