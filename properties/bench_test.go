package properties_test

import (
	"strconv"
	"testing"

	"github.com/zeromq-lockstep/lockstep/properties"

	"pgregory.net/rapid"
)

// BenchmarkModelChecks reports how many generated sequences (rapid's
// default of about thirty steps each) a property checks per second on the
// model. Target: at least 1000 a second on one core. Run with
//
//	go test -run '^$' -bench ModelChecks -cpu 1 ./properties
func BenchmarkModelChecks(b *testing.B) {
	for _, p := range properties.All {
		if p.Real {
			continue // real sockets: measured in realnet
		}
		b.Run(p.Test, func(b *testing.B) {
			setBenchFlag(b, "rapid.checks", strconv.Itoa(b.N))
			setBenchFlag(b, "rapid.nofailfile", "true")
			b.ResetTimer()
			rapid.Check(b, p.Check(noMutation))
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "checks/s")
		})
	}
}
