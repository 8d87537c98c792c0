package model_test

import (
	"errors"
	"testing"

	"github.com/zeromq-lockstep/lockstep/internal/sendwalk"
	"github.com/zeromq-lockstep/lockstep/model"
)

// h1Repro is the command that reruns this file's tests.
const h1Repro = " (go test ./model -run 'TestZMQ4' -v)"

// zmq4Walk is a REQ c that dialled REPs a and then b, under profile p,
// or the REPs named by reps, in order.
func zmq4Walk(t *testing.T, p model.Profile, reps ...string) *driver {
	t.Helper()
	if len(reps) == 0 {
		reps = []string{"a", "b"}
	}
	d := &driver{t: t, w: model.NewWorld(p, nil), unreachable: map[string]bool{}, reps: reps}
	for _, rep := range reps {
		d.newREP(rep, model.Options{})
		d.bind(rep, "tcp://"+rep+":1")
	}
	d.newREQ("c", model.Options{})
	for _, rep := range reps {
		d.connect("c", "tcp://"+rep+":1")
	}
	return d
}

// client is c as sendwalk drives it: the REP that holds a request
// answers with its name.
func (d *driver) client() sendwalk.Client {
	return sendwalk.Client{
		Send: func() string {
			err := d.w.Send("c", msg("q"))
			d.settle()
			switch {
			case err == nil:
				return "ok"
			case errors.Is(err, model.ErrSendPanic):
				return "panic"
			case errors.Is(err, model.ErrNoConnection):
				return "no connection"
			}
			return err.Error()
		},
		Recv: func() string {
			m, err := d.w.Recv("c")
			switch {
			case errors.Is(err, model.ErrPeerGone):
				return "EOF"
			case err != nil:
				return err.Error()
			}
			return m.Text()
		},
		Crash: func(host string) { d.ok(d.w.Crash(host)) },
		Serve: func() {
			for _, rep := range d.reps {
				if _, err := d.w.Recv(rep); err == nil {
					d.ok(d.w.Send(rep, msg(rep)))
					d.settle()
					return
				}
			}
		},
		Settle: d.settle,
	}
}

// TestZMQ4SendWalksFromItsTurnToTheEnd runs the cases of
// internal/sendwalk/walks.txt, which simnet's
// TestZMQ4Today_SendWalksFromItsTurnToTheEnd runs on real zmq4, on the
// model under the zmq4 profile: both print the same
// (Profile.SendPanicsPastLastConnection, ZMQ4-FINDINGS H1).
func TestZMQ4SendWalksFromItsTurnToTheEnd(t *testing.T) {
	t.Cleanup(func() {
		if t.Failed() {
			t.Log("rerun:" + h1Repro)
		}
	})
	sendwalk.Run(t, func(t *testing.T, reps []string, walk func(sendwalk.Client)) {
		walk(zmq4Walk(t, model.ZMQ4, reps...).client())
	})
}

// panics returns the reasons of the panic observations seen so far.
func (d *driver) panics() []string {
	d.collect()
	var out []string
	for _, o := range d.obs {
		if o.Kind == model.EventPanic {
			out = append(out, o.Actor+": "+o.Reason)
		}
	}
	return out
}

// TestZMQ4SendPanicsPastLastConnection: the panic is traced as realnet
// traces zmq4's (so that trace.ErrorKind gives both the same row), nothing
// is sent, the application's queue keeps the message, and its next
// hand-over goes to a (ZMQ4-FINDINGS H1).
func TestZMQ4SendPanicsPastLastConnection(t *testing.T) {
	d := zmq4Walk(t, model.ZMQ4)
	if got, want := sendwalk.Walk(d.client(), "roundtrip", "crash b"), "roundtrip: a\ncrash b\n"; got != want {
		t.Fatalf("H1: setup printed %q, want %q%s", got, want, h1Repro)
	}
	var q model.AppQueue
	q.Enqueue(msg("2"))
	if m, ok := q.FlushOne(d.w, "c"); ok {
		t.Fatalf("H1: the send after b died took %q, want zmq4's panic%s", m, h1Repro)
	}
	want := "c: send: panic in zmq4: runtime error: index out of range [2] with length 2"
	if got := d.panics(); len(got) != 1 || got[0] != want {
		t.Fatalf("H1: panics %q, want [%q]%s", got, want, h1Repro)
	}
	d.settle()
	if n := len(d.transmitsFrom("c")); n != 1 {
		t.Fatalf("H1: c transmitted %d messages, want only the first%s", n, h1Repro)
	}
	if q.Len() != 1 {
		t.Fatalf("H1: queue holds %d after the panic, want the message still there%s", q.Len(), h1Repro)
	}
	// The failed write had zmq4's reaper remove b; the retry goes to a.
	if _, ok := q.FlushOne(d.w, "c"); !ok {
		t.Fatal("H1: the retry after the panic was not sent" + h1Repro)
	}
	d.settle()
	if who, what := d.whoServes("a"); who != "a" || what != "2" {
		t.Fatalf("H1: retry served by %s (%q), want a (\"2\")%s", who, what, h1Repro)
	}
	if got := d.panics(); len(got) != 1 {
		t.Fatalf("H1: panics %q, want the one%s", got, h1Repro)
	}
}

// TestZMQ4WithoutSendPanics: with the field off, the zmq4 profile skips
// the dead connection round to a, as libzmq does (F8).
func TestZMQ4WithoutSendPanics(t *testing.T) {
	p := model.ZMQ4
	p.SendPanicsPastLastConnection = false
	got := sendwalk.Walk(zmq4Walk(t, p).client(), "roundtrip", "crash b", "roundtrip", "roundtrip")
	if want := "roundtrip: a\ncrash b\nroundtrip: a\nroundtrip: a\n"; got != want {
		t.Fatalf("H1 off: printed %q, want %q%s", got, want, h1Repro)
	}
}

// TestZMQ4HasNoDisconnect: under the zmq4 profile a disconnect fails and
// changes nothing (Profile.NoDisconnect); under libzmq's it ends the
// connect().
func TestZMQ4HasNoDisconnect(t *testing.T) {
	for _, p := range []model.Profile{model.ZMQ4, model.LibZMQ} {
		d := zmq4Walk(t, p)
		err := d.w.Disconnect("c", "tcp://a:1")
		st, serr := d.w.State("c")
		if serr != nil {
			t.Fatal(serr)
		}
		switch {
		case p.NoDisconnect && !errors.Is(err, model.ErrNoDisconnect):
			t.Errorf("%s: Disconnect = %v, want ErrNoDisconnect", p.Name, err)
		case p.NoDisconnect && len(st.Pipes) != 2:
			t.Errorf("%s: a refused disconnect left %d pipes, want 2", p.Name, len(st.Pipes))
		case !p.NoDisconnect && err != nil:
			t.Errorf("%s: Disconnect = %v", p.Name, err)
		}
	}
}
