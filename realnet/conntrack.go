package realnet

import (
	"context"
	"net"
	"strings"
	"sync"

	"github.com/go-zeromq/zmq4"
	"github.com/go-zeromq/zmq4/transport"
)

// zmq4 forgets a connection whose peer closed without closing it: its
// reader marks the Conn closed on EOF and the reaper drops it from the
// socket's list (rmConn), so Socket.Close never reaches it, and the TCP
// socket stays in CLOSE_WAIT until the garbage collector finalises the
// file. Every crash in a run left one client socket so. realnet therefore
// dials and listens through trackedScheme, a TCP transport that records
// each connection it makes or accepts on the zmq4 socket's context, and
// closes them all when it closes (or abandons) that socket.
const trackedScheme = "tcp+lockstep"

var registerTracked sync.Once

// tracked is the endpoint zmq4 is given for a tcp:// endpoint.
func tracked(ep string) string {
	registerTracked.Do(func() {
		if err := zmq4.RegisterTransport(trackedScheme, trackingTCP{}); err != nil {
			panic(err)
		}
	})
	if rest, ok := strings.CutPrefix(ep, "tcp://"); ok {
		return trackedScheme + "://" + rest
	}
	return ep
}

// conns are the TCP connections of one zmq4 socket.
type conns struct {
	mu     sync.Mutex
	list   []net.Conn
	closed bool
}

type connsKey struct{}

func (c *conns) add(conn net.Conn) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		conn.Close()
		return
	}
	c.list = append(c.list, conn)
}

// closeAll closes every connection, and any made later.
func (c *conns) closeAll() {
	c.mu.Lock()
	list := c.list
	c.list, c.closed = nil, true
	c.mu.Unlock()
	for _, conn := range list {
		_ = conn.Close() // zmq4 may have closed it already
	}
}

func connsOf(ctx context.Context) *conns {
	c, _ := ctx.Value(connsKey{}).(*conns)
	return c
}

type trackingTCP struct{}

var plainTCP = transport.New("tcp")

func (trackingTCP) Dial(ctx context.Context, d transport.Dialer, addr string) (net.Conn, error) {
	conn, err := plainTCP.Dial(ctx, d, addr)
	if err == nil {
		if c := connsOf(ctx); c != nil {
			c.add(conn)
		}
	}
	return conn, err
}

func (trackingTCP) Listen(ctx context.Context, addr string) (net.Listener, error) {
	l, err := plainTCP.Listen(ctx, addr)
	if err != nil {
		return nil, err
	}
	return trackingListener{l, connsOf(ctx)}, nil
}

func (trackingTCP) Addr(ep string) (string, error) { return plainTCP.Addr(ep) }

type trackingListener struct {
	net.Listener
	conns *conns
}

func (l trackingListener) Accept() (net.Conn, error) {
	conn, err := l.Listener.Accept()
	if err == nil && l.conns != nil {
		l.conns.add(conn)
	}
	return conn, err
}
