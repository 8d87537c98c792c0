//go:build libzmq && cgo

package libzmq

import (
	"io"
	"net"
	"sync"
	"time"
)

// proxy is the loopback TCP hop between one connecting socket and one
// script endpoint: the connector dials the proxy, which dials the bound
// port. It is how the backend cuts and heals a link (Cut, Heal): a cut
// closes every connection it carries and refuses new ones by closing
// them at once, which libzmq sees as a dropped connection followed by
// reconnect attempts (F22, F23). It listens on 127.0.0.1 only.
type proxy struct {
	ln     net.Listener
	target string // 127.0.0.1:PORT of the bound socket
	cut    func() bool

	mu    sync.Mutex
	conns map[net.Conn]net.Conn
	wg    sync.WaitGroup
}

// dialBound bounds the proxy's dial to the bound port; on loopback a
// refusal is immediate.
const dialBound = time.Second

func newProxy(target string, cut func() bool) (*proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &proxy{ln: ln, target: target, cut: cut, conns: map[net.Conn]net.Conn{}}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// port is the port the connector dials.
func (p *proxy) port() int { return p.ln.Addr().(*net.TCPAddr).Port }

func (p *proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		if p.cut() {
			c.Close()
			continue
		}
		u, err := net.DialTimeout("tcp", p.target, dialBound)
		if err != nil {
			c.Close() // nobody bound: the connector sees a dropped connection and retries
			continue
		}
		p.mu.Lock()
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

// close stops the proxy and waits for its goroutines.
func (p *proxy) close() {
	p.ln.Close()
	p.drop()
	p.wg.Wait()
}
