package model

// This file is what lets an explorer take every step of a state on the
// state itself and undo it (Save, Restore), instead of copying the state
// for every step.

// A Snapshot is what World.Save records of a copy, for World.Restore.
type Snapshot struct {
	w     *World
	world World
	// The world's lists and the scratch's slabs, as they were.
	wSockets  []*socket
	wBinds    []binding
	wLive     []*connection
	wAttempts []*connecter
	wTimers   []*connecter
	sockets   []socket
	pipes     []pipe
	conns     []connection
	conners   []connecter
	lists     []*pipe
	clists    []*connecter
	msgs      []Message
}

// Save records w, a copy made by CloneInto on which no step has been
// taken since, into sn, so that Restore can undo the steps taken after.
// An explorer that tries every step of a state saves it once and then
// takes each step on the state itself and restores it, instead of
// copying the state for every step.
//
// This is exact because such a copy's memory is all in its Scratch and
// its own lists: a step writes to the copy's nodes, lists and queues,
// which lie there, and to new memory (a new node, a list or queue that
// grew and moved), which Restore leaves behind; it never writes to a
// message or to a socket's binds, which the copy may share. Save
// records the slabs' contents and the world's fields and lists;
// Restore writes them back.
func (w *World) Save(sn *Snapshot) {
	s := w.mem
	if s == nil || s.w != w {
		panic("model: Save of a world that CloneInto did not make")
	}
	sn.w, sn.world = w, *w
	sn.wSockets = append(sn.wSockets[:0], w.sockets...)
	sn.wBinds = append(sn.wBinds[:0], w.binds...)
	sn.wLive = append(sn.wLive[:0], w.live...)
	sn.wAttempts = append(sn.wAttempts[:0], w.attempts...)
	sn.wTimers = append(sn.wTimers[:0], w.timers...)
	sn.sockets = append(sn.sockets[:0], s.sockets...)
	sn.pipes = append(sn.pipes[:0], s.pipes...)
	sn.conns = append(sn.conns[:0], s.conns...)
	sn.conners = append(sn.conners[:0], s.conners...)
	sn.lists = append(sn.lists[:0], s.lists...)
	sn.clists = append(sn.clists[:0], s.clists...)
	sn.msgs = append(sn.msgs[:0], s.msgs...)
}

// Restore returns w to what Save recorded in sn, undoing every step
// taken since. Effects not yet collected are forgotten.
func (w *World) Restore(sn *Snapshot) {
	if sn.w != w {
		panic("model: Restore of another world than the one saved")
	}
	s := w.mem
	// The effects' buffer is the one the steps grew, emptied.
	clear(w.effects)
	effects := w.effects[:0]
	*w = sn.world
	w.effects = effects
	// The headers are the saved ones again; so are their contents.
	copy(w.sockets, sn.wSockets)
	copy(w.binds, sn.wBinds)
	copy(w.live, sn.wLive)
	copy(w.attempts, sn.wAttempts)
	copy(w.timers, sn.wTimers)
	copy(s.sockets, sn.sockets)
	copy(s.pipes, sn.pipes)
	copy(s.conns, sn.conns)
	copy(s.conners, sn.conners)
	copy(s.lists, sn.lists)
	copy(s.clists, sn.clists)
	copy(s.msgs, sn.msgs)
}
