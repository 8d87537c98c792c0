package backend

import (
	"fmt"
	"slices"
	"strings"

	"github.com/zeromq-lockstep/lockstep/model"
)

// RunOptions are what a command tells a backend about a run of a
// scenario's applications (app.Run) on it.
type RunOptions struct {
	// Seed seeds whatever the backend draws (the simulator's PRNG).
	Seed uint64
	// Net is where a real library runs, one of the Runner's Nets; "" is
	// its first.
	Net string
	// Port is the port on 127.0.0.1 the first server binds, the next
	// servers the following ones; 0 picks free ports. Only a Runner with
	// Ports takes it.
	Port int
	// Fast asks a backend on real time to follow the applications'
	// schedule as fast as its sockets allow (a mock clock), as a
	// comparison does, rather than in real time, as a live run does.
	Fast bool
}

// Runner runs scenario applications on one kind of backend: what
// `lockstep run` and `lockstep compare` need of it. A package that
// provides a backend registers one from its init ([RegisterRunner]), and
// the commands take it by name, with no code of their own for it.
type Runner struct {
	// Profile is the model profile whose semantics the backend claims:
	// compare runs the model under it.
	Profile model.Profile
	// Nets lists the networks the backend runs on (-net), its default
	// first; none when it has no choice.
	Nets []string
	// Ports is whether it takes RunOptions.Port (-port): real sockets on
	// TCP.
	Ports bool
	// Check, when set, refuses combinations of options the backend does
	// not take (beyond Nets and Ports).
	Check func(o RunOptions) error
	// Where says where and in what time it runs, for compare's header.
	Where func(o RunOptions) string
	// Run makes a backend for o, calls f with it, and shuts it down;
	// what f returns, Run returns.
	Run func(o RunOptions, f func(Backend) error) error
}

var runners = map[string]Runner{}

// RegisterRunner makes a Runner available under name.
func RegisterRunner(name string, r Runner) {
	regMu.Lock()
	defer regMu.Unlock()
	if _, dup := runners[name]; dup {
		panic("backend: runner registered twice: " + name)
	}
	runners[name] = r
}

// LookupRunner returns the Runner registered as name.
func LookupRunner(name string) (Runner, error) {
	regMu.Lock()
	r, ok := runners[name]
	regMu.Unlock()
	if !ok {
		return Runner{}, fmt.Errorf("unknown backend %q (one of: %s)", name, strings.Join(Runners(), ", "))
	}
	return r, nil
}

// Runners lists the registered runners.
func Runners() []string { return names(runners) }

// CheckOptions says what of o the Runner r of name does not take, as an
// error, or nil.
func (r Runner) CheckOptions(name string, o RunOptions) error {
	if o.Net != "" && !slices.Contains(r.Nets, o.Net) {
		if len(r.Nets) == 0 {
			return fmt.Errorf("-net: backend %s runs on no network of choice", name)
		}
		return fmt.Errorf("-net: unknown network %q (one of: %s)", o.Net, strings.Join(r.Nets, ", "))
	}
	if o.Port != 0 && !r.Ports {
		return fmt.Errorf("-port: backend %s takes no port", name)
	}
	if o.Port < 0 || o.Port > 65535 {
		return fmt.Errorf("-port: %d is not a port", o.Port)
	}
	if r.Check != nil {
		return r.Check(o)
	}
	return nil
}
