//go:build !teeth

package model

// teeth: this build has no deliberate defects (see Mutation); every
// `teeth && ...` check is removed by the compiler.
const teeth = false

// mutable is empty: a World of the default build holds no defects.
//
//lint:ignore U1000 embedded in World so that both builds share its declaration
type mutable struct{}

func (w *World) mut() Mutation { return Mutation{} }

// Mutate installs deliberate defects; in this build it accepts only the
// zero Mutation and returns ErrNoMutations for any other.
func (w *World) Mutate(m Mutation) error {
	if !m.IsZero() {
		return ErrNoMutations
	}
	return nil
}

// Mutation returns the installed defects: none, in this build.
func (w *World) Mutation() Mutation { return Mutation{} }

func sharedChoice(int) int { return 0 } // never called: teeth is false

// Mutate installs the queue's share of m (QueueDropsAbove); in this build
// it accepts only the zero Mutation and returns ErrNoMutations for any
// other.
func (q *AppQueue) Mutate(m Mutation) error {
	if !m.IsZero() {
		return ErrNoMutations
	}
	return nil
}
