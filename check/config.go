package check

import (
	"fmt"

	"github.com/zeromq-lockstep/lockstep/model"
)

// MaxRequests is the most requests per client a configuration may ask for:
// the checker keeps each client's answered, lost and abandoned requests as
// bits of one word.
const MaxRequests = 60

// Config is one configuration to explore exhaustively.
type Config struct {
	Clients, Servers int
	// ClientsBind: the clients' REQs bind and the servers' REPs connect to
	// every client; otherwise the servers bind and the clients connect to
	// every server, in order (F8).
	ClientsBind bool
	// Options are every client's REQ options (F7, F12, F18, F20).
	Options model.Options
	// Profile is the implementation the model follows (LibZMQ when unnamed).
	Profile model.Profile
	// Requests is how many requests each client enqueues, at most.
	Requests int
	// Faults is the budget of faults over the whole run.
	Faults Faults
	// Pirate makes every client a Lazy Pirate (zguide ch. 4): it sends one
	// request at a time; on a timeout it closes its REQ, opens a new one,
	// connects it again and resends, at most Retries times, and then
	// abandons the request. Timeouts are a step the explorer may take
	// whenever a request is outstanding: with time abstracted, a timeout
	// can fire before any reply.
	Pirate  bool
	Retries int
	// Mutation installs deliberate defects (model.Mutation), so that tests
	// can show the checker catches them.
	Mutation model.Mutation
	// Liveness keeps the fault-free edges of the state graph and checks,
	// after exploration, that from every state some fault-free path
	// reaches a state where every request is answered, abandoned (Pirate)
	// or lost as F19 allows. It costs memory per edge.
	Liveness bool
	// Determinism runs every transition twice and fails if the two
	// successors differ: the model must resolve every open choice through
	// its Chooser. It halves the speed.
	Determinism bool
	// NoSymmetry turns symmetry reduction off: every renaming of a state
	// is a state of its own. For checking the reduction, which must not
	// change any verdict.
	NoSymmetry bool
	// MaxStates stops the exploration once this many distinct states are
	// stored (0: no limit); the result then says it is incomplete.
	MaxStates int
	// Workers is the number of goroutines that expand states (0: GOMAXPROCS).
	Workers int
	// Part and Parts split the exploration into Parts independent jobs,
	// of which this one explores part Part (1..Parts); Parts 0 or 1 is the
	// whole. Every part explores the same first levels, on one worker so
	// that they agree on them exactly, up to the first level that holds
	// at least SplitWidth states per part; of that level's states, in the
	// order they were found, part i keeps those at positions p with
	// p mod Parts = i-1, and explores everything reachable from them.
	// See Part.
	Part, Parts int
	// SplitWidth is how many states per part the level where the parts
	// divide must hold at least (0: DefaultSplitWidth).
	SplitWidth int
	// Progress, when set, is called about once a second with the counts so
	// far.
	Progress func(Stats) `json:"-"`
}

// DefaultSplitWidth is Config.SplitWidth's default: enough states per part
// that the parts' shares of the work come out about even.
const DefaultSplitWidth = 16

// split says whether the configuration is one part of a split run.
func (c *Config) split() bool { return c.Parts > 1 }

// Faults is a budget of faults.
type Faults struct {
	Crashes  int // a server process dies, with what it holds (F19)
	Restarts int // a crashed server comes back and binds again (F21)
	Cuts     int // the link between a client and a server fails; healing is free (F21, F23)
	// Disconnects: a client calls zmq_disconnect on a server's endpoint
	// and connects again, losing what the pipe held (F22). Needs the
	// servers to bind.
	Disconnects int
}

// Validate reports the first thing wrong with c.
func (c Config) Validate() error {
	switch {
	case c.Clients < 1 || c.Clients > 8:
		return fmt.Errorf("clients must be 1..8, got %d", c.Clients)
	case c.Servers < 1 || c.Servers > 8:
		return fmt.Errorf("servers must be 1..8, got %d", c.Servers)
	case c.Requests < 0 || c.Requests > MaxRequests:
		return fmt.Errorf("requests must be 0..%d, got %d", MaxRequests, c.Requests)
	case c.Faults.Crashes < 0 || c.Faults.Restarts < 0 || c.Faults.Cuts < 0 || c.Faults.Disconnects < 0:
		return fmt.Errorf("fault budgets must not be negative")
	case c.Faults.Disconnects > 0 && c.Profile.NoDisconnect:
		return fmt.Errorf("disconnects: the %s profile has no zmq_disconnect", c.Profile.Name)
	case c.Faults.Disconnects > 0 && c.ClientsBind:
		return fmt.Errorf("disconnects need the servers to bind (the clients connect)")
	case c.Pirate && c.ClientsBind:
		return fmt.Errorf("a Lazy Pirate client reconnects, so the servers must bind")
	case c.Retries < 0:
		return fmt.Errorf("retries must not be negative")
	case c.MaxStates < 0 || c.Workers < 0:
		return fmt.Errorf("max states and workers must not be negative")
	case c.Parts < 0 || c.Parts > 1<<16 || c.SplitWidth < 0:
		return fmt.Errorf("parts must be 0..65536 and the split width not negative")
	case c.Parts > 1 && (c.Part < 1 || c.Part > c.Parts):
		return fmt.Errorf("part must be 1..%d, got %d", c.Parts, c.Part)
	case c.Parts <= 1 && c.Part > 1:
		return fmt.Errorf("part %d of a run that is not split", c.Part)
	}
	return nil
}

// strict says whether a client's REQ keeps lockstep itself (F1).
func (c *Config) strict() bool { return !c.Options.ReqRelaxed && !c.Profile.ReqNotStrict }

// String names the configuration on one line, as reports print it.
func (c Config) String() string {
	bind := "servers bind"
	if c.ClientsBind {
		bind = "clients bind"
	}
	s := fmt.Sprintf("clients=%d servers=%d (%s) requests=%d crashes=%d restarts=%d cuts=%d disconnects=%d relaxed=%v correlate=%v immediate=%v sndhwm=%d profile=%s",
		c.Clients, c.Servers, bind, c.Requests, c.Faults.Crashes, c.Faults.Restarts, c.Faults.Cuts, c.Faults.Disconnects,
		c.Options.ReqRelaxed, c.Options.ReqCorrelate, c.Options.Immediate, c.Options.SndHWM, c.Profile.Name)
	if c.Pirate {
		s += fmt.Sprintf(" pirate retries=%d", c.Retries)
	}
	if c.split() {
		s += fmt.Sprintf(" part=%d/%d", c.Part, c.Parts)
	}
	if c.Mutation != (model.Mutation{}) {
		s += fmt.Sprintf(" mutation=%+v", c.Mutation)
	}
	return s
}
