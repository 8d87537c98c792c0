package properties

import (
	"slices"

	"github.com/zeromq-lockstep/lockstep/model"

	"pgregory.net/rapid"
)

// IndefiniteQueue: while no reply comes, each send through the application
// queue grows it by exactly one, the queue loses and reorders nothing, and
// a REQ that awaits a reply still awaits it however much virtual time
// passes (F1, F3, F24).
//
//	rapid.Check(t, properties.IndefiniteQueue)
func IndefiniteQueue(t *rapid.T) { check("TestIndefiniteQueue", t) }

func indefiniteQueue(t *rapid.T, mut model.Mutation) {
	cfg := drawConfig(t, mut)
	cfg.Client.ReqRelaxed = false // the queue grows only behind a strict REQ
	kinds := []string{OpEnqueue, OpEnqueue, OpEnqueue, OpServe, OpReplyAfter, OpAdvance, OpAdvance, OpCrash, OpCut, OpHeal}
	run(t, cfg, kinds, func(t *rapid.T, m *machine, op Op, before snapshot) {
		for _, c := range m.sys.Clients {
			replied := len(m.led.Received[c.Name]) > before.received[c.Name]
			awaiting := m.sys.state(c.Name).AwaitingReply
			// F24: the queue holds exactly what was enqueued and not yet
			// handed to the socket, in order.
			items := c.Queue.Items()
			handed := len(c.Enqueued) - len(items)
			if handed < 0 {
				m.fail(t, "queue: %s holds %d messages but only %d were enqueued", c.Name, len(items), len(c.Enqueued))
			}
			for i, it := range items {
				if it.Text() != c.Enqueued[handed+i] {
					m.fail(t, "queue: %s's queue holds %q at %d, want %q: lost or reordered (F24)", c.Name, it.Text(), i, c.Enqueued[handed+i])
				}
			}
			if !slices.Equal(m.led.Sent[c.Name], c.Enqueued[:handed]) {
				m.fail(t, "queue: %s handed %v to its socket, want the enqueued prefix %v (F24)", c.Name, m.led.Sent[c.Name], c.Enqueued[:handed])
			}
			if !before.awaiting[c.Name] || replied {
				continue
			}
			// F1: no reply, no send: the REQ still waits ...
			if !awaiting {
				m.fail(t, "queue: %s stopped awaiting its reply after %v without receiving one (F1)", c.Name, op)
			}
			// ... and the queue grows by one per send, by none otherwise.
			want := before.queue[c.Name]
			if op.Kind == OpEnqueue && op.Client < len(m.sys.Clients) && m.sys.Clients[op.Client] == c {
				want++
			}
			if got := c.Queue.Len(); got != want {
				m.fail(t, "queue: %s's queue went from %d to %d on %v with no reply; want %d (F24)", c.Name, before.queue[c.Name], got, op, want)
			}
		}
	})
}
