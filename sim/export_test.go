package sim

// EventsRun is the number of agenda events the simulator has performed:
// every event it scheduled less those still pending. Benchmarks divide by
// it to report allocations per event.
func (s *Sim) EventsRun() uint64 { return s.seq - uint64(len(s.agenda)) }
