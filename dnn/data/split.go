package data

import (
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
)

// splitStream is the PCG stream of every shuffle in this package, so that a
// seed alone fixes a split.
const splitStream = 0x7a6e_6465_6d64_6174

// SplitConfig says how Dataset.Split carves validation and test parts.
type SplitConfig struct {
	Val  float64 // fraction of the training part held out for validation
	Test float64 // fraction of all samples held out for testing, when the source has no official test part
	Seed uint64
}

// DefaultSplit is the split that training and evaluation agree on unless told
// otherwise.
var DefaultSplit = SplitConfig{Val: 0.1, Test: 0.2, Seed: 1}

// Splits are the disjoint training, validation and test parts of a dataset.
type Splits struct {
	Train, Val, Test *Set
}

// Split carves the training, validation and test parts of d. Official
// validation and test parts are kept as they are (c then says nothing); an
// official test part alone is kept as it is and the validation part comes from the official
// training part; a dataset without one is shuffled by c.Seed, a c.Test
// fraction of it becomes the test part, and c.Val of the rest the validation
// part. The same config gives the same parts on every machine.
func (d *Dataset) Split(c SplitConfig) (*Splits, error) {
	if !(c.Val >= 0 && c.Val < 1) || !(c.Test >= 0 && c.Test < 1) {
		return nil, fmt.Errorf("data: split fractions val=%g test=%g: want each in [0, 1)", c.Val, c.Test)
	}
	if d.Test != nil && d.Val != nil {
		return &Splits{Train: d.Train, Val: d.Val, Test: d.Test}, nil
	}
	if d.Test != nil {
		parts, err := Split(d.Train, c.Seed, c.Val, 1-c.Val)
		if err != nil {
			return nil, err
		}
		return &Splits{Val: parts[0], Train: parts[1], Test: d.Test}, nil
	}
	rest := 1 - c.Test
	parts, err := Split(d.Train, c.Seed, c.Test, rest*c.Val, rest*(1-c.Val))
	if err != nil {
		return nil, err
	}
	return &Splits{Test: parts[0], Val: parts[1], Train: parts[2]}, nil
}

// Split shuffles the samples of s by seed and deals them into len(fractions)
// disjoint parts, part i holding ⌊fractions[i]·N⌋ samples. Fractions must be
// non-negative and sum to at most 1; when they sum to 1 the last part also
// takes the samples left by rounding down, so that every sample is dealt.
// The parts are copies; their order within a part follows the shuffle.
func Split(s *Set, seed uint64, fractions ...float64) ([]*Set, error) {
	sum := 0.0
	for _, f := range fractions {
		if !(f >= 0) {
			return nil, fmt.Errorf("data: split fractions %v: want each at least 0", fractions)
		}
		sum += f
	}
	const eps = 1e-9
	if sum > 1+eps {
		return nil, fmt.Errorf("data: split fractions %v sum to %g, more than 1", fractions, sum)
	}
	n := s.Len()
	perm := permutation(n, seed)
	parts := make([]*Set, len(fractions))
	at := 0
	for i, f := range fractions {
		k := int(math.Floor(f * float64(n)))
		if i == len(fractions)-1 && sum > 1-eps {
			k = n - at
		}
		k = min(k, n-at)
		parts[i] = s.Subset(perm[at : at+k])
		at += k
	}
	return parts, nil
}

// Subset returns a copy of the samples of s at idx, in that order. An index
// out of range panics.
func (s *Set) Subset(idx []int) *Set {
	k := s.SampleSize()
	out := &Set{
		Name:    s.Name,
		Shape:   append([]int(nil), s.Shape...),
		Classes: s.Classes,
		NoFlip:  s.NoFlip,
		X:       make([]float32, 0, len(idx)*k),
		Y:       make([]int32, 0, len(idx)),
	}
	for _, i := range idx {
		out.X = append(out.X, s.Sample(i)...)
		out.Y = append(out.Y, s.Y[i])
	}
	return out
}

// First returns a copy of the first n samples of s (all of them if s has
// fewer).
func (s *Set) First(n int) *Set {
	n = max(0, min(n, s.Len()))
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	return s.Subset(idx)
}

// Random returns a copy of n samples of s drawn without replacement by seed
// (all of them, shuffled, if s has fewer).
func (s *Set) Random(n int, seed uint64) *Set {
	n = max(0, min(n, s.Len()))
	return s.Subset(permutation(s.Len(), seed)[:n])
}

// permutation is a Fisher–Yates shuffle of 0..n-1 driven by PCG. It is written
// out rather than taken from math/rand/v2's Perm so that a seed gives the same
// split whatever Go release built the binary.
func permutation(n int, seed uint64) []int {
	src := rand.NewPCG(seed, splitStream)
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	for i := n - 1; i > 0; i-- {
		// The high word of a 64×64-bit product maps a uniform word onto
		// 0..i with a bias below (i+1)/2⁶⁴.
		j, _ := bits.Mul64(src.Uint64(), uint64(i+1))
		p[i], p[j] = p[j], p[i]
	}
	return p
}
