// Package sendwalk runs the cases of walks.txt, the send walk of zmq4's
// REQ (ZMQ4-FINDINGS H1, model.Profile.SendPanicsPastLastConnection), on
// one side: real zmq4 on simnet, or the model under its zmq4 profile. Both
// sides' tests read the steps and print their results here, so that they
// cannot read the script differently, and must print the same.
package sendwalk

import (
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
)

// file is walks.txt as the tests that run it find it: from a package
// directory at the module's top (model, simnet).
const file = "../internal/sendwalk/walks.txt"

// Hosts are the REPs' hosts, in the order c dials them: a and b, or with
// "walk servers=3" a, b and c3.
func hosts(d *datadriven.TestData) []string {
	for _, a := range d.CmdArgs {
		if a.Key == "servers" && len(a.Vals) == 1 && a.Vals[0] == "3" {
			return []string{"a", "b", "c3"}
		}
	}
	return []string{"a", "b"}
}

// Client is a REQ c that has dialled the REPs of its case (Run) in order.
type Client struct {
	// Send sends a request and says how it went: ok, panic (zmq4's index
	// out of range), no connection, or the error.
	Send func() string
	// Recv receives and says what came: the reply, EOF, or the error.
	Recv func() string
	// Crash kills a REP's host.
	Crash func(host string)
	// Serve has the REP that holds the request answer with its own name;
	// nil where the servers run on their own.
	Serve func()
	// Settle lets what a step set in motion at this instant happen (zmq4's
	// reaper, the model's deliveries); nil for nothing.
	Settle func()
}

// Run runs every case of walks.txt: for each, open sets up a client that
// dials REPs on reps, in order, and calls walk with it, inside whatever
// must last as long as the client (a simnet bubble).
func Run(t *testing.T, open func(t *testing.T, reps []string, walk func(Client))) {
	t.Helper()
	datadriven.RunTest(t, file, func(t *testing.T, d *datadriven.TestData) string {
		var out string
		open(t, hosts(d), func(c Client) { out = Walk(c, strings.Split(strings.TrimSpace(d.Input), "\n")...) })
		return out
	})
}

// Walk runs steps on c, as walks.txt writes them, and returns one output
// line for each.
func Walk(c Client, steps ...string) string {
	var b strings.Builder
	for _, step := range steps {
		b.WriteString(do(c, step) + "\n")
		if c.Settle != nil {
			c.Settle()
		}
	}
	return b.String()
}

func do(c Client, step string) string {
	verb, arg, _ := strings.Cut(step, " ")
	switch verb {
	case "crash":
		c.Crash(arg)
		return step
	case "roundtrip":
		if r := c.Send(); r != "ok" {
			return "roundtrip: send " + r
		}
		if c.Serve != nil {
			c.Serve()
		}
		return "roundtrip: " + c.Recv()
	case "send":
		return "send: " + c.Send()
	case "recv":
		return "recv: " + c.Recv()
	}
	return "unknown step " + step
}
