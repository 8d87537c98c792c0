package trace

import "fmt"

// MaxMSCEvents is the most events an msc diagram holds. A diagram declares
// its lanes before its first arrow, so the events are kept until the end;
// this bounds that memory (about 7 virtual minutes of the seed scenario,
// far more than a readable diagram).
const MaxMSCEvents = 10000

// TooManyEventsError is an msc asked of more than MaxMSCEvents events.
type TooManyEventsError struct{}

func (TooManyEventsError) Error() string {
	return fmt.Sprintf("an msc diagram holds at most %d events; choose a shorter -for", MaxMSCEvents)
}
