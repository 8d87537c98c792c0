//go:build libzmq && cgo

package libzmq

import (
	"errors"
	"fmt"
	"time"

	"github.com/zeromq-lockstep/lockstep/app"
	"github.com/zeromq-lockstep/lockstep/model"
	"github.com/zeromq-lockstep/lockstep/trace"
)

// Crash crashes Server At after the start and restarts it Down later.
type Crash struct {
	Server   string
	At, Down time.Duration
}

// RunConfig is one run of a scenario on libzmq, in real time.
type RunConfig struct {
	For     time.Duration
	Crashes []Crash
}

// tick is the scenario runner's step: every tick it fires due timers,
// reads what is readable and lets the application queues flush.
const tick = time.Millisecond

// Run runs a built-in scenario on real libzmq through the script Backend
// (127.0.0.1, real time, cfg.For long) and returns its trace, with the
// same event names as the simulator's so that every format and
// trace.OutcomeOf work on it. Each client keeps the Node binding's queue
// in front of its REQ (F24, Backend.Enqueue) and sends
// app.Request(k) every Interval; each server answers by its Policy, its
// count reset on restart. A crash closes the REP with LINGER 0; a
// request its application held then is traced as dropped (F19), as the
// simulator does; a restart binds the same port again.
func Run(sc app.Scenario, cfg RunConfig) (events []trace.Event, err error) {
	if cfg.For <= 0 {
		return nil, errors.New("libzmq: run: For must be positive")
	}
	b, err := New()
	if err != nil {
		return nil, err
	}
	b.wait = 0
	defer func() { err = errors.Join(err, b.Shutdown()) }()
	type server struct {
		app.Server
		n       int           // requests read since the last (re)start
		held    model.Message // read, not yet answered
		replyAt time.Duration // when the held request's reply is due; -1: never
		up      bool
	}
	type client struct {
		app.Client
		k    int
		next time.Duration
	}
	var servers []*server
	for _, s := range sc.Servers {
		if err := b.Open(s.Name, model.REP, s.Options); err != nil {
			return nil, fmt.Errorf("libzmq: %s: %w", s.Name, err)
		}
		if err := b.Bind(s.Name, s.Endpoint); err != nil {
			return nil, fmt.Errorf("libzmq: %s: bind %s: %w", s.Name, s.Endpoint, err)
		}
		servers = append(servers, &server{Server: s, up: true})
	}
	var clients []*client
	for _, c := range sc.Clients {
		if err := b.Open(c.Name, model.REQ, c.Options); err != nil {
			return nil, fmt.Errorf("libzmq: %s: %w", c.Name, err)
		}
		for _, ep := range c.Connect {
			if err := b.Connect(c.Name, ep); err != nil {
				return nil, fmt.Errorf("libzmq: %s: connect %s: %w", c.Name, ep, err)
			}
		}
		clients = append(clients, &client{Client: c, next: c.FirstSend()})
	}
	crashed := make([]bool, len(cfg.Crashes))
	restarted := make([]bool, len(cfg.Crashes))
	for b.Now() < cfg.For {
		now := b.Now()
		for i, c := range cfg.Crashes {
			s := findServer(servers, c.Server, func(s *server) string { return s.Name })
			if s == nil {
				return nil, fmt.Errorf("libzmq: run: no server %q", c.Server)
			}
			if !crashed[i] && now >= c.At {
				crashed[i] = true
				if s.held != nil {
					b.record(trace.Event{Actor: s.Name, Kind: model.EventDrop, Msg: s.held.Text(), HasMsg: true,
						Reason: "request held by server that crashed"})
				}
				if err := b.Crash(s.Name); err != nil {
					return nil, err
				}
				s.up, s.held = false, nil
			}
			if crashed[i] && !restarted[i] && now >= c.At+c.Down {
				restarted[i] = true
				if err := b.Restart(s.Name); err != nil {
					return nil, err
				}
				s.up, s.n = true, 0
			}
		}
		for _, c := range clients {
			for c.Interval > 0 && c.next <= now && c.next < cfg.For {
				if _, err := b.Enqueue(c.Name, app.Request(c.k)); err != nil {
					return nil, err
				}
				c.k++
				c.next = c.NextSend(c.next)
			}
		}
		for _, s := range servers {
			if !s.up {
				continue
			}
			if s.held != nil {
				if s.replyAt >= 0 && now >= s.replyAt {
					if err := b.Send(s.Name, app.Reply(s.held)); err != nil {
						return nil, err
					}
					s.held = nil
				}
				continue
			}
			if rd, _, err := b.Poll(s.Name); err != nil || !rd {
				continue
			}
			m, err := b.Recv(s.Name)
			if err != nil {
				continue
			}
			s.n++ // the policy counts from 1: the blog's third request is slow
			delay, answer := s.Policy(s.n)
			s.held, s.replyAt = m, -1
			if answer {
				s.replyAt = b.Now() + delay
			}
		}
		for _, c := range clients {
			if rd, _, err := b.Poll(c.Name); err == nil && rd {
				b.Recv(c.Name)
			}
		}
		b.settle()
		events = append(events, b.Events()...)
		time.Sleep(tick)
	}
	return append(events, b.Events()...), nil
}

func findServer[T any](list []T, name string, nameOf func(T) string) T {
	var zero T
	for _, s := range list {
		if nameOf(s) == name {
			return s
		}
	}
	return zero
}
