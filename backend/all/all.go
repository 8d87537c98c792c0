// Package all registers every backend that builds here, so that a
// program that imports it can open any of them by name with
// [backend.Open]:
//
//	import _ "github.com/zeromq-lockstep/lockstep/backend/all"
//
// A new backend is added by one blank import here.
package all

import (
	_ "github.com/zeromq-lockstep/lockstep/realnet"
	_ "github.com/zeromq-lockstep/lockstep/sim"
)
