package lazypirate

// NewBroken returns the broken client of the tests: a Lazy Pirate that
// never reopens its socket after a timeout, it just resends on it.
func NewBroken(endpoint string, log func(string)) *Client {
	c := New(endpoint, log)
	c.keepSocket = true
	return c
}
