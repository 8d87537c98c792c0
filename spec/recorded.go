package spec

import (
	_ "embed"
	"strings"

	"github.com/zeromq-lockstep/lockstep/model"
)

//go:embed testdata/zmq4/conformance.txt
var recordedZMQ4 string

// RecordedZMQ4 returns how zmq4 fared on each fact's scripts when
// TestZMQ4Conformance last recorded it (testdata/zmq4/conformance.txt):
// the Status by fact ID. That test fails when zmq4 stops matching the
// record, so documents generated from it stay true without touching the
// network themselves.
func RecordedZMQ4() map[model.FactID]Status {
	out := map[model.FactID]Status{}
	for _, line := range strings.Split(recordedZMQ4, "\n") {
		if !strings.HasPrefix(line, "F") {
			continue
		}
		id, rest, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		status, _, ok := strings.Cut(rest, ":")
		if ok {
			out[model.FactID(id)] = Status(status)
		}
	}
	return out
}
