package paired

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkCompare pairs two runs of builtin:default's size: 20 000
// requests replaying 10 000 samples.
func BenchmarkCompare(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	a, c := make([]Outcome, 20000), make([]Outcome, 20000)
	for i := range a {
		s := rng.IntN(10000)
		a[i] = Outcome{ID: uint64(i), Sample: s, Correct: rng.Float64() < 0.93}
		c[len(c)-1-i] = Outcome{ID: uint64(i), Sample: s, Correct: rng.Float64() < 0.93}
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compare(a, c); err != nil {
			b.Fatal(err)
		}
	}
}
