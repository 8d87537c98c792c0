package check

import (
	"bytes"
	"slices"

	"github.com/zeromq-lockstep/lockstep/model"
)

// forcer is the model's Chooser during exploration: it answers the first
// choices from a forced prefix and 0 after it, and records how many options
// each choice had, so that the explorer can run the step again with every
// other answer (every branch of every open choice is explored).
//
// Two choices never branch. The reconnect jitter (ChoiceReconnectJitter,
// F23) only sets how long a reconnect timer runs, and time is abstracted:
// any pending timer may fire at any point, so every jitter gives the same
// successors. The first request id (ChoiceRequestID, F7) is only ever
// compared for equality with ids of the same socket, and no run of at most
// MaxRequests requests per socket can wrap around, so every start behaves
// like 0.
type forcer struct {
	prefix []int
	pos    int
	asked  []int // options of each branching choice, in order
}

// Choose implements model.Chooser.
func (f *forcer) Choose(c model.Choice, n int) int {
	if c == model.ChoiceReconnectJitter || c == model.ChoiceRequestID {
		return 0
	}
	i := f.pos
	f.pos++
	f.asked = append(f.asked, n)
	if i < len(f.prefix) {
		return f.prefix[i]
	}
	return 0
}

func (f *forcer) reset(prefix []int) {
	f.prefix, f.pos, f.asked = prefix, 0, f.asked[:0]
}

// keyer builds canonical keys; each worker has its own.
type keyer struct {
	x     *Explorer
	sig   [][]byte
	sig2  [][]byte
	cperm []int
	sperm []int
	crank []int // client i -> canonical position
	srank []int
	out   []byte
	rank  model.Rank // names by their place in the canonical order, made once
}

func newKeyer(x *Explorer) *keyer {
	k := &keyer{x: x}
	n := max(x.cfg.Clients, x.cfg.Servers)
	k.sig, k.sig2 = make([][]byte, n), make([][]byte, n)
	k.cperm, k.crank = make([]int, x.cfg.Clients), make([]int, x.cfg.Clients)
	k.sperm, k.srank = make([]int, x.cfg.Servers), make([]int, x.cfg.Servers)
	names := x.names
	k.rank = func(s string) int {
		switch i := names.of(s); {
		case i < 0:
			return -1
		case i < 100:
			return k.crank[i]
		default:
			return 64 + k.srank[i-100]
		}
	}
	return k
}

// key returns the canonical encoding of st, with symmetry reduction: the
// clients are interchangeable (one set of options, one application), and
// so are the servers, so a state and the same state with clients or
// servers renamed are one state. The key sorts the clients, and the
// servers, by a signature that does not mention any name (their own state
// with every peer written alike), and then encodes the whole state with
// every name replaced by its place in that order. Equal keys therefore
// mean states equal up to a renaming, which is sound; signatures that tie
// can leave two renamings of one state apart, which only costs states.
func (k *keyer) key(st *state) []byte {
	x, n := k.x, k.x.names
	k.order(k.cperm, k.crank, func(i int, b []byte) []byte {
		return appendClient(b, &st.clients[i], st, i, nil, x.cfg.Servers)
	}, func(i int, b []byte) []byte {
		return st.w.AppendCanonical(b, n.client[i], blind)
	})
	k.order(k.sperm, k.srank, func(j int, b []byte) []byte {
		return appendServer(b, &st.servers[j], nil, x.cfg.Clients)
	}, func(j int, b []byte) []byte {
		return st.w.AppendCanonical(b, n.server[j], blind)
	})
	rank := k.rank
	b := k.out[:0]
	b = append(b, byte(st.used.Crashes), byte(st.used.Restarts), byte(st.used.Cuts), byte(st.used.Disconnects))
	for _, i := range k.cperm {
		b = appendClient(b, &st.clients[i], st, i, k.sperm, x.cfg.Servers)
		b = st.w.AppendCanonical(b, n.client[i], rank)
	}
	for _, j := range k.sperm {
		b = appendServer(b, &st.servers[j], k.crank, x.cfg.Clients)
		b = st.w.AppendCanonical(b, n.server[j], rank)
	}
	k.out = b
	return b
}

func blind(string) int { return 0 }

// order sorts the members 0..len(perm)-1 of one interchangeable group by
// their name-free signature: first their bookkeeping (app), and only if
// two tie on it, their sockets with every peer written alike (sock), which
// costs an encoding. rank receives each member's place.
func (k *keyer) order(perm, rank []int, app, sock func(int, []byte) []byte) {
	for i := range perm {
		k.sig[i] = app(i, k.sig[i][:0])
		perm[i] = i
	}
	if len(perm) > 1 && !k.x.cfg.NoSymmetry {
		slices.SortStableFunc(perm, func(a, b int) int { return bytes.Compare(k.sig[a], k.sig[b]) })
		tie := false
		for p := 1; p < len(perm); p++ {
			if bytes.Equal(k.sig[perm[p-1]], k.sig[perm[p]]) {
				tie = true
				break
			}
		}
		if tie {
			for i := range perm {
				k.sig2[i] = sock(i, k.sig2[i][:0])
			}
			slices.SortStableFunc(perm, func(a, b int) int {
				if c := bytes.Compare(k.sig[a], k.sig[b]); c != 0 {
					return c
				}
				return bytes.Compare(k.sig2[a], k.sig2[b])
			})
		}
	}
	for pos, i := range perm {
		rank[i] = pos
	}
}

func appendU64(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

// appendClient encodes a client's bookkeeping; its cut links are listed in
// the servers' canonical order sperm, or only counted when sperm is nil.
func appendClient(b []byte, c *client, st *state, i int, sperm []int, servers int) []byte {
	b = appendU64(b, uint64(c.enq))
	b = appendU64(b, uint64(c.handed))
	b = appendU64(b, uint64(c.sinceRecv))
	b = appendU64(b, uint64(c.lastSent+1))
	b = appendU64(b, c.answered)
	b = appendU64(b, c.lost)
	b = appendU64(b, c.crashLost)
	b = appendU64(b, c.delivered)
	b = appendU64(b, c.abandoned)
	b = appendU64(b, uint64(c.retries))
	if c.awaiting {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	b = appendU64(b, uint64(c.q.Len()))
	var cuts uint64
	for pos := 0; pos < servers; pos++ {
		j := pos
		if sperm != nil {
			j = sperm[pos]
		}
		if st.cut&(1<<(i*8+j)) != 0 {
			if sperm != nil {
				cuts |= 1 << pos
			} else {
				cuts++
			}
		}
	}
	return appendU64(b, cuts)
}

// appendServer encodes a server's bookkeeping with clients renamed by
// crank, or without client names when crank is nil.
func appendServer(b []byte, s *server, crank []int, clients int) []byte {
	flags := byte(0)
	if s.up {
		flags |= 1
	}
	if s.holding {
		flags |= 2
	}
	b = append(b, flags)
	if s.holding {
		held := 0
		if crank != nil {
			held = crank[s.heldClient]
		}
		b = append(b, byte(held), byte(s.heldK))
	}
	if crank == nil {
		return b
	}
	var last [8]int8
	for i := 0; i < clients; i++ {
		last[crank[i]] = s.lastRead[i]
	}
	for i := 0; i < clients; i++ {
		b = append(b, byte(last[i]))
	}
	return b
}
