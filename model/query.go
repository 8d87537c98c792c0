package model

// Relaxed reports whether the named REQ may send while it awaits a reply:
// ReqRelaxed is set, or the profile's REQ is not strict (F1, F20).
func (w *World) Relaxed(name string) bool {
	s := w.socket(name)
	return s != nil && s.typ == REQ && w.relaxed(s)
}

// RequestFrom names the peer whose request a REP holds: the other end of
// the pipe its reply will go back on (F15), or "" if it holds none.
func (w *World) RequestFrom(name string) string {
	s := w.socket(name)
	if s == nil || s.typ != REP || !s.sendingReply || s.envPipe == nil {
		return ""
	}
	return s.envPipe.peer
}

// TypeOf returns the named socket's type, or ErrNoSocket: what State
// says of it, without the snapshot.
func (w *World) TypeOf(name string) (SocketType, error) {
	s, err := w.lookup(name)
	if err != nil {
		return 0, err
	}
	return s.typ, nil
}
