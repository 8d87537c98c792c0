// Package lazypirate is the Lazy Pirate client of the ZeroMQ guide
// (chapter 4, "Client-Side Reliability"), written in plain zmq4: it sends
// a request, waits for the reply at most [Timeout], and on a timeout
// closes its REQ socket, opens a new one and resends, abandoning the
// request after [Retries] attempts. Closing the socket is what recovers a
// REQ whose request died with its server (F19); it also throws away any
// late reply, so a reply is never taken for the wrong request.
//
// zmq4 has no poller, so the wait is a goroutine in Recv and a timer; a
// socket's pending Recv ends when the socket is closed.
package lazypirate

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-zeromq/zmq4"
)

// The guide's constants.
const (
	Timeout = 2500 * time.Millisecond // REQUEST_TIMEOUT
	Retries = 3                       // REQUEST_RETRIES
)

// ErrAbandoned is returned by [Client.Request] after Retries attempts
// without a reply.
var ErrAbandoned = errors.New("lazypirate: server seems to be offline, abandoning")

// Client is a Lazy Pirate client of one server endpoint. It opens its
// socket lazily and is not safe for concurrent use.
type Client struct {
	endpoint string
	log      func(string)
	sock     *socket
	// keepSocket is the broken client of the tests: it resends on the same
	// socket instead of reopening it.
	keepSocket bool
}

// socket is one REQ socket and the replies of its pending Recv.
type socket struct {
	req     zmq4.Socket
	replies chan reply
	waiting bool // a Recv is pending
}

type reply struct {
	body string
	err  error
}

// New returns a client of endpoint. log, if not nil, gets the guide's
// messages ("no response from server, retrying", ...).
func New(endpoint string, log func(string)) *Client {
	if log == nil {
		log = func(string) {}
	}
	return &Client{endpoint: endpoint, log: log}
}

// Request sends body and returns the server's reply, which must echo body
// as the guide's server does. It returns [ErrAbandoned] after Retries
// attempts of Timeout each, or ctx's error.
func (c *Client) Request(ctx context.Context, body string) (string, error) {
	for left := Retries; ; {
		deadline := time.Now().Add(Timeout)
		if c.sock == nil {
			c.open(ctx)
		}
		if err := c.sock.req.Send(zmq4.NewMsgString(body)); err != nil {
			c.log("send: " + err.Error())
		} else if !c.sock.waiting {
			c.sock.waiting = true
			go c.sock.recv()
		}
		got, err := c.await(ctx, body, deadline)
		if err == nil {
			return got, nil
		}
		if ctx.Err() != nil {
			c.Close()
			return "", ctx.Err()
		}
		left--
		c.log("no response from server")
		if !c.keepSocket {
			c.Close() // the guide: close and reopen the socket
		}
		if left == 0 {
			c.Close()
			c.log("server seems to be offline, abandoning")
			return "", ErrAbandoned
		}
		c.log("reconnecting to server")
	}
}

var errTimeout = errors.New("timeout")

// await waits until deadline for the reply to body, skipping replies to
// other requests as the guide does ("malformed reply from server").
func (c *Client) await(ctx context.Context, body string, deadline time.Time) (string, error) {
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	s := c.sock
	for {
		var replies chan reply
		if s.waiting {
			replies = s.replies
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-timer.C:
			return "", errTimeout
		case r := <-replies:
			s.waiting = false
			if r.err != nil {
				// No reply will come on this socket; wait out the timeout,
				// as the guide's poll does.
				c.log("recv: " + r.err.Error())
				continue
			}
			if r.body == body {
				return r.body, nil
			}
			c.log(fmt.Sprintf("malformed reply from server: %q", r.body))
			s.waiting = true
			go s.recv()
		}
	}
}

// open creates the REQ socket and dials; a failed dial leaves a socket
// whose sends fail, so the attempt times out and the next one dials again.
func (c *Client) open(ctx context.Context) {
	c.sock = &socket{req: zmq4.NewReq(ctx), replies: make(chan reply, 1)}
	if err := c.sock.req.Dial(c.endpoint); err != nil {
		c.log("dial: " + err.Error())
	}
}

func (s *socket) recv() {
	msg, err := s.req.Recv()
	s.replies <- reply{string(msg.Bytes()), err}
}

// Close closes the client's socket, if it has one; the next Request
// opens a new one.
func (c *Client) Close() error {
	if c.sock == nil {
		return nil
	}
	err := c.sock.req.Close()
	c.sock = nil
	return err
}
