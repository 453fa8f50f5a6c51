package profiler

import (
	"math"
	"slices"
	"time"
)

// Midmean is the interquartile mean of times: the mean of the middle half
// after sorting,
//
//	midmean = mean{ t₍ᵢ₎ : ⌊n/4⌋ ≤ i < n − ⌊n/4⌋ }
//
// ONNX Runtime times nodes in whole microseconds, so a median would round a
// small kernel to the microsecond; the midmean resists outliers (a run
// pre-empted by another process) nearly as well as the median and averages
// the rounding away. It is 0 for no times.
func Midmean(times []time.Duration) time.Duration {
	if len(times) == 0 {
		return 0
	}
	s := slices.Clone(times)
	slices.Sort(s)
	q := len(s) / 4
	mid := s[q : len(s)-q]
	var sum time.Duration
	for _, t := range mid {
		sum += t
	}
	return sum / time.Duration(len(mid))
}

// TrimmedCV is the coefficient of variation of times after dropping the
// fastest and the slowest 5%,
//
//	cv = sd(t₍ₖ₎ … t₍ₙ₋ₖ₋₁₎) / mean(t₍ₖ₎ … t₍ₙ₋ₖ₋₁₎),   k = ⌊n/20⌋
//
// rounded to 4 decimals: the spread of ordinary runs, which a few runs that
// another process interrupted do not decide. It is 0 for fewer than two
// times or a zero mean.
func TrimmedCV(times []time.Duration) float64 {
	s := slices.Clone(times)
	slices.Sort(s)
	k := len(s) / 20
	s = s[k : len(s)-k]
	if len(s) < 2 {
		return 0
	}
	var sum float64
	for _, t := range s {
		sum += float64(t)
	}
	mean := sum / float64(len(s))
	if mean <= 0 {
		return 0
	}
	var ss float64
	for _, t := range s {
		d := float64(t) - mean
		ss += d * d
	}
	cv := math.Sqrt(ss/float64(len(s)-1)) / mean
	return math.Round(cv*1e4) / 1e4
}
