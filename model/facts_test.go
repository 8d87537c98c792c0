package model_test

// The facts F1..F24 of docs/reqrep-facts.md are shown, step by step, by
// the scripts in spec/testdata (go test ./spec runs them on this model).
// The model's own fact tests keep only what those scripts do not show,
// on the model alone, driven by the synchronous test driver of
// driver_test.go, split by topic:
//
//	lockstep_test.go   F1, F3, F20: taking turns, readiness, REQ_RELAXED
//	envelope_test.go   F6, F7: malformed replies, REQ_CORRELATE's ids
//	routing_test.go    F8, F9, F10, F14, F15: which pipe a message takes
//	blocking_test.go   F11, F12, F13, F17, F18, F24: when a send blocks or queues
//	reconnect_test.go  F16, F19, F21, F22, F23: peers that go away
//
// F2, F4 and F5 have no Go test left: f02_rep_lockstep.txt,
// f04_req_delimiter.txt and f05_rep_envelope.txt show every case their
// table tests checked, and every mutant of the model those tests caught
// fails the scripts too.
//
// This file holds what the topics share.

import (
	"encoding/binary"
	"testing"

	"github.com/zeromq-lockstep/lockstep/model"
)

const (
	epS = "tcp://server:5454"
	epA = "tcp://a:1"
	epB = "tcp://b:1"
	epC = "tcp://c:1"
	epX = "tcp://dead:1" // never bound
)

// reqrep returns a driver with REP "s" bound at epS and REQ "c" connected to it.
func reqrep(t *testing.T, ch model.Chooser, copts, sopts model.Options) *driver {
	t.Helper()
	d := newDriver(t, ch)
	d.newREP("s", sopts)
	d.bind("s", epS)
	d.newREQ("c", copts)
	d.connect("c", epS)
	return d
}

func recvC(d *driver) error { _, err := d.w.Recv("c"); return err }

func recvS(d *driver) error { _, err := d.w.Recv("s"); return err }

func le32(v uint32) string {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], v)
	return string(b[:])
}
