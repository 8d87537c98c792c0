// Package sim is a single-goroutine discrete-event simulator over the
// lockstep model: virtual time, an event queue ordered by (time, sequence)
// so that ties keep their scheduling order, one seeded PRNG behind every
// random choice (latency, jitter, reconnect jitter, the model's open
// choices), fault injection, and a trace of every event. The same scenario,
// configuration and seed give a byte-identical trace.
//
//	res, err := sim.Run(app.Scenarios()[0], sim.Config{Seed: 1, For: 10 * time.Second})
//	out, _ := trace.Render(res.Trace, "text")
//
// The simulator keeps its own virtual time rather than driving a
// clock.Mock: that Mock sleeps a millisecond of real time for every timer it
// fires, which would make an hour of the blog's scenario take minutes.
package sim
