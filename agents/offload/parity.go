package offload

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// DefaultConfidence is the ParityRate confidence an offloader's threshold
// is set at unless told otherwise. (The compressor's deployment objective
// sets its candidates' thresholds at parity, 0.5, by default.)
const DefaultConfidence = 0.95

// Resamples is how many bootstrap resamples ParityRate draws.
const Resamples = 500

// ParityRate is the fraction of samples to offload, first to last in the
// order of diff, for the cascade to be at least as accurate as the cloud
// model alone, less tolerance (a fraction: 0.001 is 0.1 points). diff[i] is
// the i-th sample's edge correctness minus the cloud's: +1 where only the
// edge model is right, −1 where only the cloud model is, 0 where they
// agree; offloading a sample turns its diff to 0.
//
// At confidence 0.5 and no tolerance it is the lowest rate at which the
// kept samples' diffs sum to at least 0: parity on these samples. Near parity the cascade's
// accuracy is flat in the rate, so that point moves by tens of percent
// with a handful of samples, and on new inputs the rate it gives falls
// short about as often as not. Above 0.5 it is that quantile, over
// Resamples bootstrap resamples of the samples (drawn from seed), of each
// resample's parity rate: the rate that would have reached parity on that
// share of the data sets these samples could have been.
//
// Where the cascade can at best tie the cloud, some resamples balance only
// once nearly every sample is sent, and above their share the quantile
// jumps there. A tolerance lets the kept diffs sum to −tolerance·n: the
// rate at which the cascade is that close to the cloud, a trade the caller
// states, which does not wait for the last sure mistakes.
func ParityRate(diff []int8, confidence, tolerance float64, seed uint64) float64 {
	n := len(diff)
	if n == 0 {
		return 0
	}
	// Every resample weighs n samples in all, so one slack serves all.
	slack := slackOf(tolerance, n)
	if confidence <= 0.5 {
		return float64(parityCount(diff, nil, slack)) / float64(n)
	}
	rng := rand.New(rand.NewPCG(seed, 0x706172697479)) // "parity"
	w := make([]int32, n)
	counts := make([]int, Resamples)
	for r := range counts {
		clear(w)
		for range n {
			w[rng.IntN(n)]++
		}
		counts[r] = parityCount(diff, w, slack)
	}
	slices.Sort(counts)
	q := min(int(confidence*float64(Resamples)), Resamples-1)
	return float64(counts[q]) / float64(n)
}

// ParityTarget says in words what ParityRate's rate reaches at a
// confidence and tolerance, for the records of the thresholds it sets.
func ParityTarget(confidence, tolerance float64) string {
	target := "at least as accurate as cloud-only"
	if tolerance > 0 {
		target = fmt.Sprintf("within %g points of cloud-only's accuracy", 100*tolerance)
	}
	if confidence <= 0.5 {
		return target
	}
	return fmt.Sprintf("%s in %g of %d bootstrap resamples", target, confidence, Resamples)
}

// slackOf is how many samples, of n, the cascade may answer wrong beyond
// the cloud's within tolerance.
func slackOf(tolerance float64, n int) int { return int(math.Floor(tolerance*float64(n) + 1e-9)) }

// parityCount is the fewest of diff's samples, from the first, whose
// offloading leaves the kept ones summing to at least −slack, each sample
// counted w[i] times (once when w is nil).
func parityCount(diff []int8, w []int32, slack int) int {
	weight := func(i int) int {
		if w == nil {
			return 1
		}
		return int(w[i])
	}
	sum := 0
	for i, d := range diff {
		sum += int(d) * weight(i)
	}
	for k, d := range diff {
		if sum >= -slack {
			return k
		}
		sum -= int(d) * weight(k)
	}
	return len(diff) // every sample offloaded: the cascade is the cloud
}
