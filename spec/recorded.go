package spec

import (
	_ "embed"
	"strings"

	"github.com/zeromq-lockstep/lockstep/model"
)

//go:embed testdata/zmq4/conformance.txt
var recordedZMQ4 string

//go:embed testdata/libzmq/conformance.txt
var recordedLibzmq string

// RecordedZMQ4 returns how zmq4 fared on each fact's scripts when
// TestZMQ4Conformance last recorded it (testdata/zmq4/conformance.txt):
// the Status by fact ID. That test fails when zmq4 stops matching the
// record, so documents generated from it stay true without touching the
// network themselves.
func RecordedZMQ4() map[model.FactID]Status { return parseRecord(recordedZMQ4) }

// RecordedLibzmq is RecordedZMQ4 for real libzmq
// (testdata/libzmq/conformance.txt, checked by the libzmq package's
// TestLibzmqConformance in a build with -tags libzmq). Besides the
// statuses of Status, a fact can be "racy": its scripts depend on timing
// that real time cannot pin.
func RecordedLibzmq() map[model.FactID]Status { return parseRecord(recordedLibzmq) }

// parseRecord reads the "F5 conforms: ..." lines of a conformance record.
func parseRecord(record string) map[model.FactID]Status {
	out := map[model.FactID]Status{}
	for _, line := range strings.Split(record, "\n") {
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
