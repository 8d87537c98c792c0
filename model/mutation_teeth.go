//go:build teeth

package model

import "sync/atomic"

// teeth: this build can install deliberate defects (see Mutation).
const teeth = true

// mutable is the part of a World that holds its defects.
type mutable struct{ mutation Mutation }

func (w *World) mut() Mutation { return w.mutation }

// Mutate installs deliberate defects; see Mutation.
func (w *World) Mutate(m Mutation) error { w.mutation = m; return nil }

// Mutation returns the installed defects.
func (w *World) Mutation() Mutation { return w.mutation }

// sharedChoices is the state Mutation.SharedChoices leaks between worlds.
var sharedChoices atomic.Int64

func sharedChoice(n int) int { return int(sharedChoices.Add(1) % int64(n)) }

// Mutate installs the queue's share of m: it drops what comes past
// m.QueueDropsAbove messages, when that is positive (breaks F24).
func (q *AppQueue) Mutate(m Mutation) error {
	q.dropAbove = m.QueueDropsAbove
	return nil
}
