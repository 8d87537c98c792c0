package model

// rotation is the array of pipes that libzmq's lb_t (sends, F8) and fq_t
// (receives, F14) rotate over. The first `active` pipes are active; current
// indexes the next one to try. A pipe that cannot give (fq) or take (lb) a
// message when its turn comes is swapped to the end of the active part, and
// one that can again is swapped back in at its end, so the order changes as
// pipes empty, fill, end and come back: it is attach order only until the
// first of these happens (src/lb.cpp, src/fq.cpp, src/array.hpp).
//
// libzmq learns that a pipe can read or write again from an activate
// command, which a socket processes at its next send (throttled to about
// once a millisecond), at a receive that finds nothing, and at ZMQ_EVENTS.
// The model activates a pipe when the message or the room arrives. For REQ
// and REP the two agree: each sends between two receives, so libzmq has
// processed the commands before it reads again unless the application
// answers within the same millisecond (LIBZMQ-FINDINGS.md, F14).
type rotation struct {
	pipes   []*pipe
	active  int
	current int
}

// swap exchanges two places of the array.
func (r *rotation) swap(i, j int) { r.pipes[i], r.pipes[j] = r.pipes[j], r.pipes[i] }

// index is the place of p in the array, or -1.
func (r *rotation) index(p *pipe) int {
	for i, q := range r.pipes {
		if q == p {
			return i
		}
	}
	return -1
}

// attach adds a new pipe, active, at the end of the active part
// (lb_t::attach, fq_t::attach).
func (r *rotation) attach(p *pipe) {
	r.pipes = append(r.pipes, p)
	r.swap(r.active, len(r.pipes)-1)
	r.active++
}

// activate moves an inactive pipe to the end of the active part
// (lb_t::activated, fq_t::activated); an active one stays where it is.
func (r *rotation) activate(p *pipe) {
	if i := r.index(p); i >= r.active {
		r.swap(i, r.active)
		r.active++
	}
}

// deactivateCurrent is what lb_t::sendpipe and fq_t::recvpipe do with a
// pipe that cannot take or give a message: the last active pipe takes its
// place, so it is the next one tried.
func (r *rotation) deactivateCurrent() {
	r.active--
	r.swap(r.current, r.active)
	if r.current == r.active {
		r.current = 0
	}
}

// advance moves past the current pipe once a whole message went through it.
func (r *rotation) advance() {
	if r.current++; r.current >= r.active {
		r.current = 0
	}
}

// terminated removes a pipe (lb_t::pipe_terminated, fq_t::pipe_terminated):
// an active one first leaves the active part, then the array's last pipe
// takes its place (array_t::erase).
func (r *rotation) terminated(p *pipe) {
	i := r.index(p)
	if i < 0 {
		return
	}
	if i < r.active {
		r.active--
		r.swap(i, r.active)
		if r.current == r.active {
			r.current = 0
		}
		i = r.active
	}
	last := len(r.pipes) - 1
	r.pipes[i] = r.pipes[last]
	r.pipes[last] = nil
	r.pipes = r.pipes[:last]
}

// reset forgets every pipe, as closing the socket does.
func (r *rotation) reset() {
	clear(r.pipes)
	r.pipes, r.active, r.current = r.pipes[:0], 0, 0
}
