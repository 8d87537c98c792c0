package model_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/zeromq-lockstep/lockstep/model"
)

// zmq4TwoServers is a REQ c that dialled REPs a and then b, under
// profile p, after the steps (see zmq4Step).
func zmq4TwoServers(t *testing.T, p model.Profile, steps ...string) *driver {
	t.Helper()
	d := &driver{t: t, w: model.NewWorld(p, nil), unreachable: map[string]bool{}}
	d.newREP("a", model.Options{})
	d.newREP("b", model.Options{})
	d.bind("a", "tcp://a:1")
	d.bind("b", "tcp://b:1")
	d.newREQ("c", model.Options{})
	d.connect("c", "tcp://a:1")
	d.connect("c", "tcp://b:1")
	for i, step := range steps {
		if got := d.zmq4Step(step); got != "" {
			t.Fatalf("H1 walk: step %d %q: %s%s", i, step, got, h1Repro)
		}
	}
	return d
}

// h1Repro is the command that reruns this file's tests.
const h1Repro = " (go test ./model -run 'TestZMQ4' -v)"

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

// TestZMQ4SendPanicsPastLastConnection pins Profile.SendPanicsPastLastConnection
// as simnet.TestZMQ4Today_SendPanicsWhenTheSecondConnDied shows zmq4 doing
// it (ZMQ4-FINDINGS H1): c's turn is at b, b dies, and c never reads from
// b, so zmq4 still lists it; the send writes to b, fails, and runs past the
// end of the list. Nothing is sent, the application's message stays
// queued, and the next send goes to a.
func TestZMQ4SendPanicsPastLastConnection(t *testing.T) {
	d := zmq4TwoServers(t, model.ZMQ4, "rt a", "crash b")
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

// TestZMQ4SendWalksFromItsTurnToTheEnd runs the cases of
// simnet.TestZMQ4Today_SendWalksFromItsTurnToTheEnd, step for step, on the
// model under the zmq4 profile: the walk that panics from b's turn skips a
// dead a when the turn is at a, a dead connection stays listed until a
// write to it or a read on it fails, and a lone dead one makes the send
// fail (SendFailsWithoutPipe), as zmq4's reqWriter.write does. A step
// "rt X" is a send and a receive answered by X.
func TestZMQ4SendWalksFromItsTurnToTheEnd(t *testing.T) {
	cases := []struct {
		name  string
		steps []string
	}{
		{"turn at dead b", []string{"rt a", "crash b", "send panics", "rt a", "rt a"}},
		{"turn at dead a", []string{"rt a", "rt b", "crash a", "rt b", "rt b"}},
		{"turn at a, b dead", []string{"rt a", "rt b", "crash b", "rt a", "send panics", "rt a"}},
		{"both dead", []string{"rt a", "crash a", "crash b", "send panics", "send fails", "send fails"}},
		{"awaited b dies", []string{"rt a", "send ok", "crash b", "recv EOF", "rt a", "rt a"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			zmq4TwoServers(t, model.ZMQ4, c.steps...)
		})
	}
}

// zmq4Step runs one step of TestZMQ4SendWalksFromItsTurnToTheEnd and says
// how it went otherwise than its name says; "" when as named.
func (d *driver) zmq4Step(step string) string {
	verb, arg, _ := strings.Cut(step, " ")
	var err error
	switch verb {
	case "crash":
		err = d.w.Crash(arg)
	case "rt":
		if err = d.w.Send("c", msg("q")); err != nil {
			break
		}
		d.settle()
		if m, rerr := d.w.Recv(arg); rerr != nil {
			return fmt.Sprintf("%s has no request: %v", arg, rerr)
		} else if err = d.w.Send(arg, m); err != nil {
			break
		}
		d.settle()
		var m model.Message
		if m, err = d.w.Recv("c"); err == nil && m.Text() != "q" {
			return fmt.Sprintf("c received %q", m)
		}
	case "send":
		want := map[string]error{"ok": nil, "panics": model.ErrSendPanic, "fails": model.ErrNoConnection}[arg]
		if err = d.w.Send("c", msg("q")); !errors.Is(err, want) {
			return fmt.Sprintf("error %v, want %v", err, want)
		}
		err = nil
	case "recv":
		if _, err = d.w.Recv("c"); !errors.Is(err, model.ErrPeerGone) {
			return fmt.Sprintf("error %v, want %v", err, model.ErrPeerGone)
		}
		err = nil
	default:
		return "unknown step"
	}
	d.settle()
	if err != nil {
		return err.Error()
	}
	return ""
}

// TestZMQ4WithoutSendPanics: with the field off, the zmq4 profile skips
// the dead connection round to a, as libzmq does (F8).
func TestZMQ4WithoutSendPanics(t *testing.T) {
	p := model.ZMQ4
	p.SendPanicsPastLastConnection = false
	zmq4TwoServers(t, p, "rt a", "crash b", "rt a", "rt a")
}
