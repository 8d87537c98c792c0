package model

// Choice names an open choice: a point where libzmq's behaviour depends on
// timing or randomness that RFC 28 does not fix.
type Choice string

const (
	// ChoiceFairQueue picks which ready pipe a socket reads next. Candidates
	// are the ready pipes in the order of libzmq's rotation (fq_t), so 0 is
	// what libzmq reads; it reads another only when it has not yet
	// processed a pipe's activation (F14).
	ChoiceFairQueue Choice = "fair-queue"
	// ChoiceDrainRefill decides a race of REQ's send (F9): its drain of
	// stale replies reads one from a pipe whose engine holds more, waiting
	// for room (F18), and the engine, told of the room on libzmq's I/O
	// thread, may push the next before the drain ends, which then eats it
	// too. 0: the drain ends first (18 of 30 trials), 1: the engine refills
	// first.
	ChoiceDrainRefill Choice = "drain-refill"
	// ChoiceReconnectJitter draws rand() % RECONNECT_IVL in milliseconds (F23).
	ChoiceReconnectJitter Choice = "reconnect-jitter"
	// ChoiceRequestID draws the random first request id of ReqCorrelate (F7).
	ChoiceRequestID Choice = "request-id"
)

// Chooser resolves open choices. Choose returns an integer in [0, n); n is
// always at least 1.
type Chooser interface {
	Choose(c Choice, n int) int
}

// PeerChooser is a Chooser that is also told who the options of a choice
// between pipes are: the peer at the other end of each (a socket name on
// the binding side, an endpoint on the connecting side), in the order of
// the options. A driver that resolves the model's open choices with what
// a real implementation did picks the option by its peer:
//
//	func (d *driver) ChoosePeer(c model.Choice, peers []string) int {
//		return max(0, slices.Index(peers, d.realReadFrom))
//	}
//
// The model asks ChoosePeer for ChoiceFairQueue, Choose for the others.
type PeerChooser interface {
	Chooser
	ChoosePeer(c Choice, peers []string) int
}

// FirstChooser always takes the first option: strict rotation, F10's usual
// outcome, no jitter, request ids from 0. It makes the model deterministic
// without a PRNG, which is what table tests want.
type FirstChooser struct{}

// Choose implements Chooser.
func (FirstChooser) Choose(Choice, int) int { return 0 }

// ChooserFunc adapts a function to Chooser.
type ChooserFunc func(c Choice, n int) int

// Choose implements Chooser.
func (f ChooserFunc) Choose(c Choice, n int) int { return f(c, n) }

// choosePipe resolves a choice between pipes: through ChoosePeer when the
// chooser is a PeerChooser, else like choose.
func (w *World) choosePipe(c Choice, pipes []*pipe) int {
	pc, ok := w.chooser.(PeerChooser)
	if !ok || len(pipes) <= 1 || teeth && w.mut().SharedChoices {
		return w.choose(c, len(pipes))
	}
	peers := make([]string, len(pipes))
	for i, p := range pipes {
		peers[i] = p.peer
	}
	k := pc.ChoosePeer(c, peers)
	if k < 0 || k >= len(pipes) {
		k = ((k % len(pipes)) + len(pipes)) % len(pipes)
	}
	return k
}

// choose asks the chooser and clamps its answer, so a faulty chooser can
// never drive the model outside its state space.
func (w *World) choose(c Choice, n int) int {
	if n <= 1 {
		return 0
	}
	if teeth && w.mut().SharedChoices {
		return sharedChoice(n)
	}
	k := w.chooser.Choose(c, n)
	if k < 0 || k >= n {
		k = ((k % n) + n) % n
	}
	return k
}
