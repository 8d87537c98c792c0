package check

import "testing"

// BenchmarkTarget explores the target configuration (two clients,
// two servers, three requests each, one crash) on one core and reports
// distinct states per second and bytes per stored state.
func BenchmarkTarget(b *testing.B) { benchConfig(b, target, 1) }

// BenchmarkTargetAllCores is BenchmarkTarget on every core.
func BenchmarkTargetAllCores(b *testing.B) { benchConfig(b, target, 0) }

// BenchmarkTargetLiveness is BenchmarkTarget with the liveness edges kept.
func BenchmarkTargetLiveness(b *testing.B) {
	cfg := target
	cfg.Liveness = true
	benchConfig(b, cfg, 1)
}

func benchConfig(b *testing.B, cfg Config, workers int) {
	cfg.Workers = workers
	var distinct, generated int64
	var bytes float64
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		res, err := Check(cfg)
		if err != nil {
			b.Fatal(err)
		}
		if res.Violation != nil {
			b.Fatalf("%s: %s", res.Violation.Rule, res.Violation.Message)
		}
		distinct += res.Stats.Distinct
		generated += res.Stats.Generated
		bytes = res.Stats.BytesPerState
	}
	if cpu := (cpuTime() - cpu0).Seconds(); cpu > 0 {
		b.ReportMetric(float64(distinct)/cpu, "distinct/cpu-s")
	}
	sec := b.Elapsed().Seconds()
	b.ReportMetric(float64(distinct)/sec, "distinct/s")
	b.ReportMetric(float64(generated)/sec, "generated/s")
	b.ReportMetric(float64(distinct)/float64(b.N), "states")
	b.ReportMetric(bytes, "bytes/state")
}
