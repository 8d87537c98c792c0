// Package blog is the client and server of the blog post lockstep grew
// from (docs/blog-experiment.md), written as plain zmq4 programs whose
// only parameter is the endpoint, so they run unchanged on TCP and on
// [github.com/zeromq-lockstep/lockstep/simnet].
package blog

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/go-zeromq/zmq4"
)

// Server binds a REP socket to endpoint and answers each request d with
// {"response":"d"}: after 1 ms, except every third request, which it
// answers after 1 s. It returns when ctx ends (nil) or the socket fails.
func Server(ctx context.Context, endpoint string) error {
	rep := zmq4.NewRep(ctx)
	defer rep.Close()
	if err := rep.Listen(endpoint); err != nil {
		return err
	}
	count := 0
	for {
		msg, err := rep.Recv()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		count++
		delay := time.Millisecond
		if count%3 == 0 {
			delay = time.Second
		}
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return nil
		}
		reply, _ := json.Marshal(map[string]string{"response": string(msg.Bytes())})
		if err := rep.Send(zmq4.NewMsg(reply)); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
	}
}

// Client connects a REQ socket to endpoint and every 100 ms queues the
// next counter, printing "N message queued" with the length of its queue,
// as the Node binding's client._outgoing does (F24). A REQ holds one
// request at a time (F1), so the head of the queue goes to the socket
// only once the previous reply has come; each reply is printed as
// "{ response: 'd' }". It returns when ctx ends.
//
// zmq4 reports a request that died with its server as an error from
// Recv (io.EOF); the client prints it and, like the blog's, has no way to
// recover: its request is lost and it never sends again (F19).
func Client(ctx context.Context, endpoint string, out func(line string)) error {
	req := zmq4.NewReq(ctx)
	defer req.Close()
	if err := req.Dial(endpoint); err != nil {
		return err
	}
	type result struct {
		msg zmq4.Msg
		err error
	}
	// Buffered, so a Recv that returns after Client has left does not
	// block for ever.
	replies := make(chan result, 1)
	var queue []string
	busy := false
	pump := func() {
		if busy || len(queue) == 0 {
			return
		}
		next := queue[0]
		queue = queue[1:]
		if err := req.Send(zmq4.NewMsgString(next)); err != nil {
			out("send error: " + err.Error())
			return
		}
		busy = true
		go func() {
			msg, err := req.Recv()
			replies <- result{msg, err}
		}()
	}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for n := 0; ; {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			queue = append(queue, strconv.Itoa(n))
			n++
			pump()
			out(fmt.Sprintf("%d message queued", len(queue)))
		case r := <-replies:
			if r.err != nil {
				if ctx.Err() == nil {
					out("recv error: " + r.err.Error())
				}
				continue // busy stays: the REQ still awaits its reply
			}
			var v struct{ Response string }
			if err := json.Unmarshal(r.msg.Bytes(), &v); err != nil {
				out("bad reply: " + string(r.msg.Bytes()))
			} else {
				out(fmt.Sprintf("{ response: '%s' }", v.Response))
			}
			busy = false
			pump()
		}
	}
}
