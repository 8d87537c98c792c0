package main

// backendLibzmq is the backend of real libzmq (package libzmq), present
// only in a binary built with -tags libzmq.
const backendLibzmq = "libzmq"

// needLibzmq is the one line a binary built without libzmq answers to
// -backend libzmq, exit status 2.
func needLibzmq(cmd, name string) error {
	if withLibzmq || name != backendLibzmq {
		return nil
	}
	return usageErr("%s: -backend libzmq: this binary is built without libzmq; build it with `go build -tags libzmq ./cmd/lockstep` (needs cgo, pkg-config and libzmq3-dev)", cmd)
}
