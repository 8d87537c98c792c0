//go:build libzmq && cgo

package libzmq

import (
	"io"
	"net"
	"strconv"
	"sync"
	"time"
)

// proxy is the loopback TCP hop between one connecting socket and one
// script endpoint: the connector dials the proxy, which dials the bound
// port. It is how the backend cuts and heals a link (Cut, Heal). It
// listens on 127.0.0.1 only, and only while something is bound at the
// endpoint and the link is not cut, so that the connector's dial is
// refused exactly when it would be without the proxy (F23: a refusal and
// a dropped connection are not the same to libzmq with
// RECONNECT_IVL=-1); a cut also closes every connection it carries.
type proxy struct {
	ln     net.Listener // nil while closed
	portN  int
	target string // 127.0.0.1:PORT of the bound socket
	cut    func() bool

	mu     sync.Mutex
	closed bool
	conns  map[net.Conn]net.Conn
	wg     sync.WaitGroup
}

// dialBound bounds the proxy's dial to the bound port; on loopback a
// refusal is immediate.
const dialBound = time.Second

// DialLatency is how long the proxy holds a new connection before it
// dials the bound port.
const DialLatency = 2 * time.Millisecond

// newProxy reserves a port for a proxy; it listens from setOpen(true).
func newProxy(target string, cut func() bool) (*proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return &proxy{portN: port, target: target, cut: cut, conns: map[net.Conn]net.Conn{}}, nil
}

// port is the port the connector dials.
func (p *proxy) port() int { return p.portN }

// setOpen starts or stops listening on the proxy's port. Stopping keeps
// the connections it carries (the bound socket's close ends them).
func (p *proxy) setOpen(open bool) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case open && p.ln == nil:
		ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p.portN))
		if err != nil {
			return err
		}
		p.ln = ln
		p.wg.Add(1)
		go p.accept(ln)
	case !open && p.ln != nil:
		p.ln.Close()
		p.ln = nil
	}
	return nil
}

func (p *proxy) accept(ln net.Listener) {
	defer p.wg.Done()
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		if p.cut() {
			c.Close()
			continue
		}
		// A dial takes DialLatency, as the model's takes two message
		// latencies: a send right after connect finds no completed
		// connection (F13), however fast loopback is.
		time.Sleep(DialLatency)
		u, err := net.DialTimeout("tcp", p.target, dialBound)
		if err != nil {
			c.Close() // nobody bound: the connector sees a dropped connection and retries
			continue
		}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			c.Close()
			u.Close()
			continue
		}
		p.conns[c] = u
		p.mu.Unlock()
		p.wg.Add(2)
		go p.pipe(c, u)
		go p.pipe(u, c)
	}
}

// pipe copies one direction; when either side ends, both are closed, so
// that each socket sees the connection end.
func (p *proxy) pipe(dst, src net.Conn) {
	defer p.wg.Done()
	io.Copy(dst, src)
	dst.Close()
	src.Close()
	p.mu.Lock()
	delete(p.conns, dst)
	delete(p.conns, src)
	p.mu.Unlock()
}

// drop closes every connection the proxy carries.
func (p *proxy) drop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c, u := range p.conns {
		c.Close()
		u.Close()
	}
}

// close stops the proxy and waits, up to dialBound, for its goroutines.
func (p *proxy) close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.setOpen(false)
	p.drop()
	done := make(chan struct{})
	go func() { p.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(dialBound + DialLatency):
		p.drop() // a connection registered while closing
		<-done
	}
}
