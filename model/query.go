package model

// Relaxed reports whether the named REQ may send while it awaits a reply:
// ReqRelaxed is set, or the profile's REQ is not strict (F1, F20).
func (w *World) Relaxed(name string) bool {
	s := w.sockets[name]
	return s != nil && s.typ == REQ && w.relaxed(s)
}
