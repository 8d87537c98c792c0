package app

import (
	"errors"
	"fmt"
	"time"

	"github.com/zeromq-lockstep/lockstep/backend"
)

// Fault is a failure that [Run] injects at its time: [Crash], [CutLink]
// or [SlowLink].
type Fault interface {
	schedule(r *runner) error
}

// Crash kills Server's process At and, when Down is positive, starts it
// again Down later: a new REP binds the same endpoint (F19, F21).
type Crash struct {
	Server string
	At     time.Duration
	Down   time.Duration
}

func (f Crash) schedule(r *runner) error {
	if r.server(f.Server) == nil {
		return fmt.Errorf("app: crash: no server %q", f.Server)
	}
	if f.At < 0 || f.Down < 0 {
		return errors.New("app: crash: negative time")
	}
	r.at(f.At, func() error { return r.crash(f.Server) })
	if f.Down > 0 {
		r.at(f.At+f.Down, func() error { return r.restart(f.Server) })
	}
	return nil
}

// CutLink cuts the link between two processes At and heals it For later
// (never, when For is zero).
type CutLink struct {
	A, B string
	At   time.Duration
	For  time.Duration
}

func (f CutLink) schedule(r *runner) error {
	if f.At < 0 || f.For < 0 {
		return errors.New("app: cut: negative time")
	}
	r.at(f.At, func() error { return r.b.Cut(f.A, f.B) })
	if f.For > 0 {
		r.at(f.At+f.For, func() error { return r.b.Heal(f.A, f.B) })
	}
	return nil
}

// SlowLink adds Extra latency to the link between two processes from At,
// on a backend that can ([backend.LinkSlower]).
type SlowLink struct {
	A, B  string
	At    time.Duration
	Extra time.Duration
}

func (f SlowLink) schedule(r *runner) error {
	if f.At < 0 || f.Extra < 0 {
		return errors.New("app: slow link: negative time")
	}
	s, ok := r.b.(backend.LinkSlower)
	if !ok {
		return fmt.Errorf("%w: app: slow link (backend.LinkSlower)", backend.ErrUnsupported)
	}
	r.at(f.At, func() error { return s.AddLatency(f.A, f.B, f.Extra) })
	return nil
}
