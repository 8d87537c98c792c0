package simnet

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"syscall"
	"time"

	ztransport "github.com/go-zeromq/zmq4/transport"
)

// transport is the zmq4 transport of one slot; it serves whichever
// network holds the slot.
type transport struct{ s *slot }

var _ ztransport.Transport = transport{}

func (t transport) network() (*Network, error) {
	n := t.s.net.Load()
	if n == nil {
		return nil, errNetClosed
	}
	return n, nil
}

// Addr checks an endpoint's address, "[from@]host:port", and turns the
// port "*" into "0".
func (t transport) Addr(ep string) (string, error) {
	from, hp, err := parseAddr(ep)
	if err != nil {
		return "", err
	}
	if from != "" {
		return from + "@" + hp, nil
	}
	return hp, nil
}

func parseAddr(ep string) (from, hostPort string, err error) {
	if i := strings.IndexByte(ep, '@'); i >= 0 {
		from, ep = ep[:i], ep[i+1:]
		if from == "" {
			return "", "", fmt.Errorf("simnet: empty dialing host in %q", ep)
		}
	}
	host, port, err := net.SplitHostPort(ep)
	if err != nil {
		return "", "", fmt.Errorf("simnet: %w", err)
	}
	if host == "" {
		return "", "", fmt.Errorf("simnet: no host in %q", ep)
	}
	if port == "*" || port == "" {
		port = "0"
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		return "", "", fmt.Errorf("simnet: bad port in %q", ep)
	}
	return from, net.JoinHostPort(host, port), nil
}

// Listen binds "host:port" on the network. The listener stops accepting
// when ctx (zmq4 passes the socket's) ends or it is closed.
func (t transport) Listen(ctx context.Context, addr string) (net.Listener, error) {
	n, err := t.network()
	if err != nil {
		return nil, err
	}
	from, hp, err := parseAddr(addr)
	if err != nil {
		return nil, err
	}
	if from != "" {
		return nil, fmt.Errorf("simnet: listen on %q: a listening endpoint names no dialing host (use Host.Bind)", addr)
	}
	hostName, portStr, _ := net.SplitHostPort(hp)
	port, _ := strconv.Atoi(portStr)

	n.mu.Lock()
	defer n.mu.Unlock()
	h := n.hosts[hostName]
	switch {
	case n.closed:
		return nil, errNetClosed
	case h == nil:
		return nil, fmt.Errorf("simnet: listen on %q: no such host", hp)
	case !h.up:
		return nil, fmt.Errorf("simnet: listen on %q: host is down", hp)
	}
	if port == 0 {
		port = h.allocPort()
	}
	hp = net.JoinHostPort(hostName, strconv.Itoa(port))
	if n.listeners[hp] != nil {
		return nil, &net.OpError{Op: "listen", Net: n.Scheme(), Addr: Addr{n.Scheme(), hp}, Err: syscall.EADDRINUSE}
	}
	l := &listener{n: n, host: h, addr: Addr{n.Scheme(), hp}, ctx: ctx, wake: make(chan struct{}, 1)}
	n.listeners[hp] = l
	return l, nil
}

// allocPort returns a port of h no listener uses; n.mu is held.
func (h *Host) allocPort() int {
	for {
		p := h.nextPort
		h.nextPort++
		if h.nextPort > 65535 {
			h.nextPort = firstEphemeralPort
		}
		if h.n.listeners[net.JoinHostPort(h.name, strconv.Itoa(p))] == nil {
			return p
		}
	}
}

// dial is one pending dial, completed by the scheduler.
type dial struct {
	from, target, hp string
	src              *Host
	key              string
	cancelled        bool
	done             chan dialResult // buffered: the dialer may have gone
}

type dialResult struct {
	conn net.Conn
	err  error
}

// Dial connects "from@host:port". It takes one round trip of the link,
// like a TCP handshake, and then succeeds only if both hosts are up, the
// link is not cut and something listens on the port; otherwise it is
// refused and traced as [EventRefused].
func (t transport) Dial(ctx context.Context, _ ztransport.Dialer, addr string) (net.Conn, error) {
	n, err := t.network()
	if err != nil {
		return nil, err
	}
	from, hp, err := parseAddr(addr)
	if err != nil {
		return nil, err
	}
	if from == "" {
		return nil, fmt.Errorf("simnet: dial %q: the endpoint must name the dialing host (use Host.Connect)", addr)
	}
	target, _, _ := net.SplitHostPort(hp)
	n.mu.Lock()
	src := n.hosts[from]
	if src == nil {
		n.mu.Unlock()
		return nil, fmt.Errorf("simnet: dial %q: no such host %q", addr, from)
	}
	route := from + ">" + hp
	n.dials[route]++
	d := &dial{from: from, target: target, hp: hp, src: src, key: fmt.Sprintf("%s#%d", route, n.dials[route]), done: make(chan dialResult, 1)}
	n.schedule(&item{at: time.Now().Add(2 * n.latencyOf(from, target)), key: "dial " + d.key, dial: d})
	n.mu.Unlock()

	select {
	case r := <-d.done:
		return r.conn, r.err
	case <-ctx.Done():
		n.mu.Lock()
		d.cancelled = true
		n.mu.Unlock()
		select {
		case r := <-d.done: // completed as ctx ended: hang up
			if r.conn != nil {
				r.conn.Close()
			}
		default:
		}
		return nil, ctx.Err()
	}
}

// completeDial decides a dial at the end of its round trip; n.mu is held.
func (n *Network) completeDial(d *dial) {
	if d.cancelled {
		return
	}
	refuse := func(why string) {
		n.record(d.from, EventRefused, d.hp, why)
		d.done <- dialResult{err: &net.OpError{Op: "dial", Net: n.Scheme(), Addr: Addr{n.Scheme(), d.hp}, Err: syscall.ECONNREFUSED}}
	}
	dst := n.hosts[d.target]
	l := n.listeners[d.hp]
	switch {
	case n.closed:
		d.done <- dialResult{err: errNetClosed}
		return
	case !d.src.up:
		d.done <- dialResult{err: fmt.Errorf("simnet: dial %s: host %s is down", d.hp, d.from)}
		return
	case dst == nil:
		refuse("no such host")
		return
	case n.link(d.from, d.target).cut:
		refuse("link cut")
		return
	case !dst.up:
		refuse("host down")
		return
	case l == nil || l.closed || l.ctx.Err() != nil:
		refuse("connection refused")
		return
	}
	n.connSeq++
	c := &connection{n: n, seq: n.connSeq}
	local := Addr{n.Scheme(), net.JoinHostPort(d.from, strconv.Itoa(d.src.allocPort()))}
	c.ends[0] = &end{c: c, side: 0, host: d.from, local: local, peer: l.addr, peerName: d.hp, key: d.key + " <", wake: make(chan struct{}, 1)}
	c.ends[1] = &end{c: c, side: 1, host: d.target, local: l.addr, peer: local, peerName: d.from, key: d.key + " >", wake: make(chan struct{}, 1)}
	n.conns[c] = struct{}{}
	l.backlog = append(l.backlog, c.ends[1])
	select {
	case l.wake <- struct{}{}:
	default:
	}
	n.record(d.from, EventConnect, d.hp, "")
	d.done <- dialResult{conn: c.ends[0]}
}
