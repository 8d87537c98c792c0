package model

import "errors"

// Mutation is a set of deliberate defects. It exists so that lockstep's
// property tests can show they have teeth: each property must fail on the
// mutants it claims to catch. No World has a mutation unless a test sets
// one; the zero value is no defect.
//
// Mutations exist only in a build with the tag teeth
// (`go test -tags teeth ./properties -run TestTeeth`); in the default
// build every check of one is a constant false that the compiler removes,
// and [World.Mutate] refuses any but the zero Mutation with
// [ErrNoMutations].
type Mutation struct {
	// SecondSend: a strict REQ accepts a second send while it awaits a
	// reply (breaks F1).
	SecondSend bool
	// ReorderRequests: REP reads the newest request of a pipe first, so one
	// client's requests are served out of order (breaks F14, F15).
	ReorderRequests bool
	// KeepHeldOnCrash: a crashing REP hands the request it holds back to
	// the client's pipe, so the restarted server answers it (breaks F19).
	KeepHeldOnCrash bool
	// ResendOnReconnect: a REQ sends its outstanding request again when it
	// reconnects (breaks F19: libzmq never resends).
	ResendOnReconnect bool
	// AcceptAnyID: ReqCorrelate takes a reply whatever its id (breaks F7).
	AcceptAnyID bool
	// AnyReplyPipe: REQ takes a reply from any pipe, not only the one its
	// request went out on (breaks F9).
	AnyReplyPipe bool
	// SharedChoices: open choices come from a counter shared by every
	// World in the process instead of the chooser, so the same seed no
	// longer gives the same run (breaks reproducibility).
	SharedChoices bool
	// QueueDropsAbove, when positive, is the AppQueue.DropAbove of every
	// application queue in front of this world's REQs (breaks F24).
	QueueDropsAbove int
}

// ErrNoMutations is what Mutate returns for a defect in a build without
// the tag teeth.
var ErrNoMutations = errors.New("model: mutations need a build with -tags teeth")

// IsZero reports whether m installs no defect.
func (m Mutation) IsZero() bool { return m == Mutation{} }

// Mutations reports whether this build can install mutations (the tag
// teeth).
func Mutations() bool { return teeth }
