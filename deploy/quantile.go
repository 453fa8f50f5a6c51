package deploy

import (
	"math"
	"math/bits"
	"slices"
	"time"
)

// ExactLatencies is how many values a Quantiles holds exactly, by default,
// before its sketch takes over: 2^20 values, 8 MiB.
const ExactLatencies = 1 << 20

// SketchRelativeError bounds the relative error of a quantile read from the
// sketch against the exact nearest-rank quantile: 2^-10, about 0.098%.
const SketchRelativeError = 1.0 / (2 << sketchSubBits)

// Quantiles keeps a stream of durations and answers nearest-rank quantiles
// of it. The first Exact values are held as they are and the answers are
// exact; when one more arrives they are poured into a log-linear bucket
// sketch and every later value goes there too, so memory is bounded whatever
// the stream's length. The sketch splits each power of two [2^e, 2^(e+1)) of
// nanoseconds into 2^b equal buckets (b = 9) and answers a bucket's middle:
//
//	bucket width ≤ 2^-b × its lower end
//	|middle − v| ≤ width/2 ≤ 2^-(b+1) × v = SketchRelativeError × v
//
// so a quantile read from it is within SketchRelativeError of the exact
// nearest-rank quantile. Durations up to the largest time.Duration need at
// most 28,160 buckets (220 KiB). The mean and the maximum are exact
// throughout.
//
// The zero value holds ExactLatencies values exactly.
type Quantiles struct {
	Exact int // values held exactly; ≤ 0: ExactLatencies

	vals   []time.Duration
	sketch *logSketch
	n      int64
	sum    float64 // ns
	max    time.Duration
}

// Add adds v. Cost O(1) amortised.
func (q *Quantiles) Add(v time.Duration) {
	q.n++
	q.sum += float64(v)
	if v > q.max || q.n == 1 {
		q.max = v
	}
	if q.sketch != nil {
		q.sketch.add(v)
		return
	}
	limit := q.Exact
	if limit <= 0 {
		limit = ExactLatencies
	}
	if len(q.vals) < limit {
		q.vals = append(q.vals, v)
		return
	}
	q.sketch = &logSketch{}
	for _, x := range q.vals {
		q.sketch.add(x)
	}
	q.vals = nil
	q.sketch.add(v)
}

// Len returns how many values were added.
func (q *Quantiles) Len() int64 { return q.n }

// Mean returns the mean of the values in nanoseconds; 0 when there are none.
func (q *Quantiles) Mean() float64 {
	if q.n == 0 {
		return 0
	}
	return q.sum / float64(q.n)
}

// Max returns the largest value; 0 when there are none.
func (q *Quantiles) Max() time.Duration { return q.max }

// Sketched reports whether the sketch has taken over.
func (q *Quantiles) Sketched() bool { return q.sketch != nil }

// Quantiles returns the nearest-rank quantile of each p in ps, in (0, 1]:
// the value of rank ⌈p·n⌉ among the n values in ascending order. With no
// values every answer is 0. Cost O(n) expected while the values are held
// exactly (they are reordered, not sorted), O(buckets) after.
func (q *Quantiles) Quantiles(ps ...float64) []time.Duration {
	out := make([]time.Duration, len(ps))
	if q.n == 0 {
		return out
	}
	ranks := make([]int64, len(ps))
	for i, p := range ps {
		ranks[i] = min(max(int64(math.Ceil(p*float64(q.n))), 1), q.n)
	}
	if q.sketch != nil {
		for i, k := range ranks {
			out[i] = min(q.sketch.rank(k), q.max)
		}
		return out
	}
	// Select the highest rank first: afterwards every lower rank lies in
	// the prefix before it.
	order := make([]int, len(ps))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return int(ranks[b] - ranks[a]) })
	hi := len(q.vals)
	for _, i := range order {
		k := int(ranks[i] - 1)
		if k < hi {
			selectNth(q.vals[:hi], k)
			hi = k
		}
		out[i] = q.vals[k]
	}
	return out
}

// selectNth reorders a so that a[k] is its k-th smallest element (from 0),
// with no larger element before it and no smaller one after it. Quickselect
// with a median-of-three pivot, Hoare partitioning (so runs of equal values
// split evenly), and a sort past 2 log₂ n rounds to bound the worst case.
func selectNth(a []time.Duration, k int) {
	lo, hi := 0, len(a)-1
	for budget := 2*bits.Len(uint(len(a))) + 8; hi > lo; budget-- {
		if budget == 0 {
			slices.Sort(a[lo : hi+1])
			return
		}
		mid := lo + (hi-lo)/2
		if a[mid] < a[lo] {
			a[mid], a[lo] = a[lo], a[mid]
		}
		if a[hi] < a[lo] {
			a[hi], a[lo] = a[lo], a[hi]
		}
		if a[hi] < a[mid] {
			a[hi], a[mid] = a[mid], a[hi]
		}
		pivot := a[mid]
		i, j := lo, hi
		for i <= j {
			for a[i] < pivot {
				i++
			}
			for a[j] > pivot {
				j--
			}
			if i <= j {
				a[i], a[j] = a[j], a[i]
				i++
				j--
			}
		}
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return // a[j+1:i] all equal the pivot
		}
	}
}

// sketchSubBits splits each power of two into 2^sketchSubBits buckets.
const sketchSubBits = 9

// logSketch counts values in log-linear buckets (as HdrHistogram does);
// see Quantiles.
type logSketch struct {
	zeros  uint64   // values ≤ 0
	counts []uint64 // counts[bucket(v)]
}

// bucket returns the bucket of v > 0, with no floating point:
//
//	v < 2^(b+1):  bucket v, holding v alone
//	otherwise:    s = bits.Len(v) − 1 − b, bucket s·2^b + ⌊v / 2^s⌋,
//	              holding [⌊v / 2^s⌋·2^s, (⌊v / 2^s⌋ + 1)·2^s)
func bucket(v uint64) int {
	s := bits.Len64(v) - 1 - sketchSubBits
	if s <= 0 {
		return int(v)
	}
	return s<<sketchSubBits + int(v>>s)
}

// bucketMid returns the middle of bucket i, the value it stands for.
func bucketMid(i int) time.Duration {
	if i < 2<<sketchSubBits {
		return time.Duration(i)
	}
	s := i>>sketchSubBits - 1
	top := i - s<<sketchSubBits
	return time.Duration(top<<s + 1<<(s-1))
}

func (s *logSketch) add(v time.Duration) {
	if v <= 0 {
		s.zeros++
		return
	}
	i := bucket(uint64(v))
	if i >= len(s.counts) {
		s.counts = append(s.counts, make([]uint64, i+1-len(s.counts)+len(s.counts)/4)...)
	}
	s.counts[i]++
}

// rank returns the estimate of the k-th smallest value (from 1).
func (s *logSketch) rank(k int64) time.Duration {
	seen := s.zeros
	if uint64(k) <= seen {
		return 0
	}
	for i, c := range s.counts {
		if seen += c; seen >= uint64(k) {
			return bucketMid(i)
		}
	}
	panic("deploy: sketch rank beyond its count")
}
