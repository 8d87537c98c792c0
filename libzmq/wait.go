//go:build libzmq && cgo

package libzmq

import (
	"time"

	zmq "github.com/pebbe/zmq4"
)

// Wait implements backend.Backend on real time: every millisecond it
// takes monitor events, lets application queues hand their heads to
// their sockets (F24), and asks ZMQ_EVENTS of each named socket whether
// a message is there.
func (b *Backend) Wait(until time.Duration, readable ...string) (string, error) {
	for {
		b.settle()
		for _, name := range readable {
			s, err := b.sock(name)
			if err != nil {
				return "", err
			}
			if s.z == nil || !s.open {
				continue
			}
			var st zmq.State
			b.ex.do(func() { st, err = s.z.GetEvents() })
			if err != nil {
				return "", errOf("poll", err)
			}
			if st&zmq.POLLIN != 0 {
				return name, nil
			}
		}
		d := until - b.Now()
		if d <= 0 {
			return "", nil
		}
		time.Sleep(min(time.Millisecond, d))
	}
}

// QueueLen implements backend.Queuer.
func (b *Backend) QueueLen(name string) (int, error) {
	if q := b.queues[name]; q != nil {
		return len(q.items), nil
	}
	return 0, nil
}
