//go:build libzmq && cgo

package all

import _ "github.com/zeromq-lockstep/lockstep/libzmq" // real libzmq, in a build with -tags libzmq
