package offload

import (
	"math/rand/v2"
	"testing"
)

func TestParityRate(t *testing.T) {
	cases := []struct {
		name string
		diff []int8
		conf float64
		tol  float64
		want float64
	}{
		{"no samples", nil, 0.95, 0, 0},
		{"the edge is as good already", []int8{0, 1, -1, 0}, 0.5, 0, 0},
		{"one offload", []int8{-1, 0, 0, 0}, 0.5, 0, 0.25},
		// Sending the first (the edge right, the cloud wrong) costs one,
		// so three must go before the cascade catches up.
		{"past a loss", []int8{1, -1, -1, 0}, 0.5, 0, 0.75},
		{"everything", []int8{-1, -1}, 0.5, 0, 1},
		// Parity after one offload, but a resample that draws the last
		// sample (the cloud right) more often than the second (the edge
		// right) needs all four sent: so does the 95th percentile.
		{"a sure mistake, median", []int8{-1, 1, 0, -1}, 0.5, 0, 0.25},
		{"a sure mistake, 95%", []int8{-1, 1, 0, -1}, 0.95, 0, 1},
		// Nothing left to disagree on after two: every resample agrees.
		{"settled", []int8{-1, -1, 0, 0, 0, 0}, 0.95, 0, 2.0 / 6},
		// A tolerance of one sample in four lets the kept ones sum to −1.
		{"one short, tolerated", []int8{-1, 0, 0, 0}, 0.5, 0.25, 0},
		{"past a loss, tolerated", []int8{1, -1, -1, 0}, 0.5, 0.25, 0},
		{"two short, one tolerated", []int8{-1, -1, 0, 0}, 0.5, 0.25, 0.25},
	}
	for _, c := range cases {
		if got := ParityRate(c.diff, c.conf, c.tol, 1); got != c.want {
			t.Errorf("%s: rate %v, want %v", c.name, got, c.want)
		}
	}
}

// Above 0.5 every confidence reads one set of resamples for a seed, so
// asking for more never offloads less, and the same seed gives the same
// rate.
func TestParityRateConfidence(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	diff := make([]int8, 2000)
	for i := range diff {
		// Disagreements thin out down the order, and the cloud's wins
		// with them, as they do for a score that ranks well.
		p := 0.2 * (1 - float64(i)/float64(len(diff)))
		switch u := rng.Float64(); {
		case u < p*0.7:
			diff[i] = -1
		case u < p:
			diff[i] = 1
		}
	}
	prev := -1.0
	for _, conf := range []float64{0.6, 0.8, 0.9, 0.95, 0.99} {
		r := ParityRate(diff, conf, 0, 7)
		if r < prev {
			t.Errorf("confidence %g: rate %v, below %v at a lower confidence", conf, r, prev)
		}
		if again := ParityRate(diff, conf, 0, 7); again != r {
			t.Errorf("confidence %g: rate %v, then %v with the same seed", conf, r, again)
		}
		prev = r
	}
	if lo, hi := ParityRate(diff, 0.5, 0, 7), ParityRate(diff, 0.99, 0, 7); !(hi > lo) {
		t.Errorf("rate %v at 0.99, want more than %v at 0.5", hi, lo)
	}
}

// A tolerance never asks for more offloading, and one past every
// disagreement asks for none.
func TestParityRateTolerance(t *testing.T) {
	diff := make([]int8, 1000)
	for i := range 40 {
		diff[i*25] = -1 // the cloud's wins spread down the whole order
	}
	prev := 2.0
	for _, tol := range []float64{0, 0.005, 0.01, 0.02, 0.03} {
		r := ParityRate(diff, 0.95, tol, 7)
		if r > prev {
			t.Errorf("tolerance %g: rate %v, above %v at a smaller tolerance", tol, r, prev)
		}
		prev = r
	}
	if r := ParityRate(diff, 0.95, 0.1, 7); r != 0 {
		t.Errorf("tolerance 0.1 past every disagreement (4%%): rate %v, want 0", r)
	}
	if r := ParityRate(diff, 0.95, 0, 7); r < 0.9 {
		t.Errorf("no tolerance with the cloud's wins down to the end: rate %v, want nearly all", r)
	}
}

func BenchmarkParityRate(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	diff := make([]int8, 6000)
	for i := range diff {
		diff[i] = int8(rng.IntN(3)) - 1
	}
	for b.Loop() {
		ParityRate(diff, DefaultConfidence, 0, 1)
	}
}
