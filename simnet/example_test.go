package simnet_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/go-zeromq/zmq4"

	"github.com/zeromq-lockstep/lockstep/simnet"
)

// A test runs its zmq4 code on a network in a synctest bubble: hosts,
// programs started on them, faults at exact virtual instants, and the
// network's trace.
func ExampleRun() {
	var t *testing.T // the test's own
	simnet.Run(t, func(t *testing.T, n *simnet.Network) {
		server := n.Host("server")
		server.Start(func(ctx context.Context) {
			rep := zmq4.NewRep(ctx)
			defer rep.Close() // a program must close its sockets when ctx ends
			if err := rep.Listen(server.Bind(5454)); err != nil {
				return
			}
			for {
				msg, err := rep.Recv()
				if err != nil {
					return
				}
				rep.Send(msg)
			}
		})
		req := zmq4.NewReq(context.Background())
		defer req.Close()
		if err := req.Dial(n.Host("client").Connect("server:5454")); err != nil {
			t.Fatal(err)
		}
		n.SetLatency("client", "server", 5*time.Millisecond)
		n.SleepUntil(time.Hour) // virtual: takes no time
		n.Crash("server")       // resets the server's connections
		n.Sleep(time.Second)
		n.Restart("server") // runs the server's programs again
		t.Log(n.TraceText())
	})
}

// Outside a synctest bubble a network runs in real time: the same
// endpoints, without virtual time or determinism.
func ExampleNetwork() {
	n := simnet.New()
	defer n.Close()
	server := n.Host("server")
	server.Start(func(ctx context.Context) {
		rep := zmq4.NewRep(ctx)
		defer rep.Close()
		if err := rep.Listen(server.Bind(5454)); err != nil {
			return
		}
		for {
			msg, err := rep.Recv()
			if err != nil {
				return
			}
			rep.Send(zmq4.NewMsgString("re: " + string(msg.Bytes())))
		}
	})
	req := zmq4.NewReq(context.Background())
	defer req.Close()
	if err := req.Dial(n.Host("client").Connect("server:5454")); err != nil {
		fmt.Println(err)
		return
	}
	req.Send(zmq4.NewMsgString("hello"))
	reply, err := req.Recv()
	fmt.Println(string(reply.Bytes()), err)
	// Output:
	// re: hello <nil>
}

func ExampleEvent_String() {
	e := simnet.Event{At: 2500 * time.Millisecond, Host: "client", Event: simnet.EventDisconnect, Peer: "server:5454", Reason: "server crashed"}
	fmt.Println(e)
	// Output:
	//    2.500000s  client     disconnect peer=server:5454 reason="server crashed"
}

func ExampleHost_Connect() {
	n := simnet.New()
	defer n.Close()
	fmt.Println(n.Host("server").Bind(5454) == n.Scheme()+"://server:5454")
	fmt.Println(n.Host("client").Connect("server:5454") == n.Scheme()+"://client@server:5454")
	// Output:
	// true
	// true
}
