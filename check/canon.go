package check

import (
	"bytes"

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
	x *Explorer
	// Per client (then per server, from index Clients on): its
	// bookkeeping's signature, its socket's encoding with the names left
	// as slots (all 0: the socket's name-free signature), and the slots.
	app   [][]byte
	sock  [][]byte
	slots [][]model.Slot
	cperm []int
	sperm []int
	crank []int // client i -> canonical position
	srank []int
	out   []byte
	id    model.Rank // a name's client i or 100+server j, made once
}

func newKeyer(x *Explorer) *keyer {
	k := &keyer{x: x}
	n := x.cfg.Clients + x.cfg.Servers
	k.app, k.sock, k.slots = make([][]byte, n), make([][]byte, n), make([][]model.Slot, n)
	k.cperm, k.crank = make([]int, x.cfg.Clients), make([]int, x.cfg.Clients)
	k.sperm, k.srank = make([]int, x.cfg.Servers), make([]int, x.cfg.Servers)
	k.id = x.names.of
	return k
}

// key returns the canonical encoding of st, with symmetry reduction: the
// clients are interchangeable (one set of options, one application), and
// so are the servers, so a state and the same state with clients or
// servers renamed are one state. The key sorts the clients, and the
// servers, by a signature that does not mention any name (their
// bookkeeping, then their socket with every name written alike), and
// then encodes the whole state with every name replaced by its place in
// that order. Equal keys therefore mean states equal up to a renaming,
// which is sound; signatures that tie can leave two renamings of one
// state apart, which only costs states.
//
// Each socket is encoded once (model.World.AppendCanonicalSlots): with
// its names' slots at 0 it is the signature, and with each slot written
// as its name's place it is the socket's part of the key.
func (k *keyer) key(st *state) []byte {
	x, n := k.x, k.x.names
	nc := x.cfg.Clients
	for i := range st.clients {
		k.app[i] = appendClient(k.app[i][:0], &st.clients[i], st, i, nil, x.cfg.Servers)
		k.sock[i], k.slots[i] = st.w.AppendCanonicalSlots(k.sock[i][:0], n.client[i], k.id, k.slots[i][:0])
	}
	for j := range st.servers {
		k.app[nc+j] = appendServer(k.app[nc+j][:0], &st.servers[j], nil, nc)
		k.sock[nc+j], k.slots[nc+j] = st.w.AppendCanonicalSlots(k.sock[nc+j][:0], n.server[j], k.id, k.slots[nc+j][:0])
	}
	k.order(k.cperm, k.crank, 0)
	k.order(k.sperm, k.srank, nc)
	b := k.out[:0]
	b = append(b, byte(st.used.Crashes), byte(st.used.Restarts), byte(st.used.Cuts), byte(st.used.Disconnects))
	for _, i := range k.cperm {
		if st.cut>>(i*8)&0xff == 0 {
			// With none of its links cut, the signature is the encoding
			// (both write no cuts as 0).
			b = append(b, k.app[i]...)
		} else {
			b = appendClient(b, &st.clients[i], st, i, k.sperm, x.cfg.Servers)
		}
		b = k.named(b, i)
	}
	for _, j := range k.sperm {
		b = appendServer(b, &st.servers[j], k.crank, nc)
		b = k.named(b, nc+j)
	}
	k.out = b
	return b
}

// named appends member m's socket encoding with each name slot written as
// the name's place in the canonical order: clients 0..7, servers 64..71
// (as AppendCanonical's ranks were), never model.SlotUnknown.
func (k *keyer) named(b []byte, m int) []byte {
	at := len(b)
	b = append(b, k.sock[m]...)
	for _, s := range k.slots[m] {
		if s.ID < 100 {
			b[at+int(s.Off)] = byte(k.crank[s.ID])
		} else {
			b[at+int(s.Off)] = byte(64 + k.srank[s.ID-100])
		}
	}
	return b
}

// order sorts the members 0..len(perm)-1 of one interchangeable group (at
// base in the keyer's tables) by their name-free signature: their
// bookkeeping, then their socket. rank receives each member's place. The
// sort is stable: members that tie keep their order.
func (k *keyer) order(perm, rank []int, base int) {
	for i := range perm {
		perm[i] = i
	}
	if !k.x.cfg.NoSymmetry {
		less := func(a, b int) bool {
			if c := bytes.Compare(k.app[base+a], k.app[base+b]); c != 0 {
				return c < 0
			}
			return bytes.Compare(k.sock[base+a], k.sock[base+b]) < 0
		}
		// Insertion sort: a group has at most eight members.
		for i := 1; i < len(perm); i++ {
			for j := i; j > 0 && less(perm[j], perm[j-1]); j-- {
				perm[j], perm[j-1] = perm[j-1], perm[j]
			}
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
	b = appendU64(b, c.wired)
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
