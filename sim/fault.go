package sim

import (
	"fmt"
	"time"
)

// Fault is an injected failure with its virtual time.
type Fault interface {
	schedule(r *Running) error
}

// Crash kills Server at At and, when Down is positive, restarts it Down
// later.
type Crash struct {
	Server string
	At     time.Duration
	Down   time.Duration
}

func (f Crash) schedule(r *Running) error {
	if r.server(f.Server) == nil {
		return fmt.Errorf("sim: crash: no server %q", f.Server)
	}
	if f.At < 0 || f.Down < 0 {
		return fmt.Errorf("sim: crash: negative time")
	}
	r.Sim.At(f.At, func() { _ = r.Crash(f.Server) })
	if f.Down > 0 {
		r.Sim.At(f.At+f.Down, func() { _ = r.Restart(f.Server) })
	}
	return nil
}

// CutLink cuts the link between two processes at At and heals it For later
// (never, when For is zero).
type CutLink struct {
	A, B string
	At   time.Duration
	For  time.Duration
}

func (f CutLink) schedule(r *Running) error {
	if f.At < 0 || f.For < 0 {
		return fmt.Errorf("sim: cut: negative time")
	}
	r.Sim.At(f.At, func() { r.Sim.Cut(f.A, f.B) })
	if f.For > 0 {
		r.Sim.At(f.At+f.For, func() { r.Sim.Heal(f.A, f.B) })
	}
	return nil
}

// SlowLink adds Extra latency to the link between two processes from At.
type SlowLink struct {
	A, B  string
	At    time.Duration
	Extra time.Duration
}

func (f SlowLink) schedule(r *Running) error {
	if f.At < 0 || f.Extra < 0 {
		return fmt.Errorf("sim: slow link: negative time")
	}
	r.Sim.At(f.At, func() { r.Sim.AddLatency(f.A, f.B, f.Extra) })
	return nil
}
