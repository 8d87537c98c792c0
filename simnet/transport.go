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
	rtt := 2 * n.latencyOf(from, target)
	n.mu.Unlock()
	if src == nil {
		return nil, fmt.Errorf("simnet: dial %q: no such host %q", addr, from)
	}

	timer := time.NewTimer(rtt)
	select {
	case <-timer.C:
	case <-ctx.Done():
		timer.Stop()
		return nil, ctx.Err()
	}

	n.mu.Lock()
	defer n.mu.Unlock()
	refuse := func(why string) (net.Conn, error) {
		n.record(from, EventRefused, hp, why)
		return nil, &net.OpError{Op: "dial", Net: n.Scheme(), Addr: Addr{n.Scheme(), hp}, Err: syscall.ECONNREFUSED}
	}
	dst := n.hosts[target]
	l := n.listeners[hp]
	switch {
	case n.closed:
		return nil, errNetClosed
	case !src.up:
		return nil, fmt.Errorf("simnet: dial %q: host %s is down", addr, from)
	case dst == nil:
		return refuse("no such host")
	case n.link(from, target).cut:
		return refuse("link cut")
	case !dst.up:
		return refuse("host down")
	case l == nil || l.closed || l.ctx.Err() != nil:
		return refuse("connection refused")
	}
	n.connSeq++
	c := &connection{n: n, seq: n.connSeq}
	local := Addr{n.Scheme(), net.JoinHostPort(from, strconv.Itoa(src.allocPort()))}
	c.ends[0] = &end{c: c, side: 0, host: from, local: local, peer: l.addr, peerName: hp, wake: make(chan struct{}, 1)}
	c.ends[1] = &end{c: c, side: 1, host: target, local: l.addr, peer: local, peerName: from, wake: make(chan struct{}, 1)}
	n.conns[c] = struct{}{}
	l.backlog = append(l.backlog, c.ends[1])
	select {
	case l.wake <- struct{}{}:
	default:
	}
	n.record(from, EventConnect, hp, "")
	return c.ends[0], nil
}
