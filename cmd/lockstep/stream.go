package main

import (
	"io"

	"github.com/benbjohnson/clock"

	"github.com/zeromq-lockstep/lockstep/app"
	"github.com/zeromq-lockstep/lockstep/trace"
)

// streamZMQ4 runs sc on real zmq4 sockets, on simnet's virtual time or
// TCP's real time, and prints each event as it happens, like streamRun:
// memory does not grow with -for.
func streamZMQ4(sc app.Scenario, f *runFlags, b backendFlags, stdout io.Writer) error {
	tw, err := trace.NewWriter(stdout, f.format)
	if err != nil {
		return usageErr("run: %v", err)
	}
	var werr error
	cfg := f.realnetConfig(b, sc, clock.New())
	cfg.Sink = func(e trace.Event) {
		if werr == nil {
			werr = tw.Write(e)
		}
	}
	if _, err := runZMQ4(sc, cfg, b.net); err != nil {
		return err
	}
	return writeErr("run", tw.Close())
}
