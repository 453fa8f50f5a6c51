package hil

import (
	"math"
	"slices"
	"time"
)

// Latency summarises timed runs.
type Latency struct {
	Runs               int
	Mean               time.Duration
	P50, P90, P99, Max time.Duration
	Times              []time.Duration // every run, in run order
}

// NewLatency summarises run times; percentiles interpolate linearly between
// the two nearest ranks,
//
//	P(q) = t₍ᵢ₎ + (h − i)·(t₍ᵢ₊₁₎ − t₍ᵢ₎),   h = q·(n − 1), i = ⌊h⌋
//
// over the sorted times t₍₀₎ ≤ … ≤ t₍ₙ₋₁₎ (numpy's default).
func NewLatency(times []time.Duration) Latency {
	l := Latency{Runs: len(times), Times: times}
	if len(times) == 0 {
		return l
	}
	sorted := slices.Clone(times)
	slices.Sort(sorted)
	var sum time.Duration
	for _, t := range sorted {
		sum += t
	}
	l.Mean = sum / time.Duration(len(sorted))
	l.P50 = quantile(sorted, 0.50)
	l.P90 = quantile(sorted, 0.90)
	l.P99 = quantile(sorted, 0.99)
	l.Max = sorted[len(sorted)-1]
	return l
}

func quantile(sorted []time.Duration, q float64) time.Duration {
	h := q * float64(len(sorted)-1)
	i := int(math.Floor(h))
	if i+1 >= len(sorted) {
		return sorted[len(sorted)-1]
	}
	return sorted[i] + time.Duration(math.Round((h-float64(i))*float64(sorted[i+1]-sorted[i])))
}

// Milliseconds writes d as floating-point milliseconds, the unit of reports.
func Milliseconds(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
