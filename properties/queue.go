package properties

import (
	"slices"

	"github.com/zeromq-lockstep/lockstep/model"

	"pgregory.net/rapid"
)

// IndefiniteQueue: the application queue loses and reorders nothing and
// holds messages only while its socket cannot send; while no reply comes a
// REQ that awaits one still awaits it however much virtual time passes,
// and a strict REQ's queue grows by exactly one per send through it, since
// the socket takes none (F1, F3, F20, F24).
//
//	rapid.Check(t, properties.IndefiniteQueue)
func IndefiniteQueue(t *rapid.T) { check("TestIndefiniteQueue", t) }

func indefiniteQueue(t *rapid.T, mut model.Mutation) {
	cfg := drawConfig(t, mut)
	mayGiveUp(t, &cfg)
	kinds := []string{OpEnqueue, OpEnqueue, OpEnqueue, OpServe, OpReplyAfter, OpAdvance, OpAdvance, OpCrash, OpCut, OpHeal, OpPoll, OpPollServer}
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
			// F3: the binding hands the queue over whenever the socket can
			// send, so a socket that could still send holds nothing back.
			if len(items) > 0 && m.sys.W.Writable(c.Name) {
				m.fail(t, "queue: %s holds %d messages though its socket is writable (F3, F24)", c.Name, len(items))
			}
			// The queue grows by one per send through it and shrinks by
			// what the socket took.
			took := len(m.led.Sent[c.Name]) - before.sent[c.Name]
			want := before.queue[c.Name] - took
			if op.Kind == OpEnqueue && op.Client < len(m.sys.Clients) && m.sys.Clients[op.Client] == c {
				want++
			}
			if got := c.Queue.Len(); got != want {
				m.fail(t, "queue: %s's queue went from %d to %d on %v, its socket took %d; want %d (F24)", c.Name, before.queue[c.Name], got, op, took, want)
			}
			if !before.awaiting[c.Name] || replied {
				continue
			}
			// F1: no reply: the REQ still waits, and a strict one sends
			// nothing.
			if !awaiting {
				m.fail(t, "queue: %s stopped awaiting its reply after %v without receiving one (F1)", c.Name, op)
			}
			if !cfg.Client.ReqRelaxed && took > 0 {
				m.fail(t, "queue: %s's socket took %d requests on %v while it awaited a reply (F1)", c.Name, took, op)
			}
		}
	})
}
