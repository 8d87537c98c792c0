package model

// Profile names the ways a real implementation departs from RFC 28 as
// libzmq implements it. Each field is one known deviation; the zero value is
// libzmq. A difference between the model and an implementation that no
// field explains is a finding, not something to special-case.
type Profile struct {
	Name string
	// ReqNotStrict: REQ allows a second send before the reply, as if
	// ReqRelaxed were always set (departs from F1).
	ReqNotStrict bool
	// ReplyFromAnyPipe: REQ accepts a reply from any pipe, not only the one
	// its request went out on (departs from F9).
	ReplyFromAnyPipe bool
}

// LibZMQ is the default profile: RFC 28 as libzmq 4.3 implements it.
var LibZMQ = Profile{Name: "libzmq"}
