package paired

import (
	"fmt"
	"maps"
	"math"
	"slices"
)

// Outcome is one request of a run: its id (the same request in both runs),
// the held-out sample it replayed, and whether its answer was right. A
// request that failed was not answered right.
type Outcome struct {
	ID      uint64
	Sample  int
	Correct bool
}

// Result is the paired comparison of run A with run B.
type Result struct {
	Requests int `json:"requests"`
	// BOnly and AOnly count the requests one run got right and the other
	// wrong; P is the exact two-sided McNemar p-value of that split.
	BOnly int     `json:"b_right_a_wrong"`
	AOnly int     `json:"a_right_b_wrong"`
	P     float64 `json:"p"`
	// Samples is the number of distinct samples; SamplesB and SamplesA
	// count those on which B (A) got more of the sample's requests right,
	// and SamplesP is the exact two-sided sign test of that split.
	Samples  int     `json:"samples"`
	SamplesB int     `json:"samples_b_better"`
	SamplesA int     `json:"samples_a_better"`
	SamplesP float64 `json:"samples_p"`
	// Difference is B's accuracy over the requests less A's, and
	// DifferenceLow and DifferenceHigh bound it at 95% (see Interval).
	Difference     float64 `json:"difference"`
	DifferenceLow  float64 `json:"difference_low"`
	DifferenceHigh float64 `json:"difference_high"`
}

// DifferenceText says B's accuracy less A's in points with its interval,
// for people: that every request was answered alike when none differs, and
// that the interval is too narrow when few samples do.
func (r *Result) DifferenceText() string {
	if r.BOnly+r.AOnly == 0 {
		return "none: every request answered alike"
	}
	t := fmt.Sprintf("%+.3f points (95%% interval %+.3f to %+.3f)", 100*r.Difference, 100*r.DifferenceLow, 100*r.DifferenceHigh)
	if n := r.SamplesA + r.SamplesB; n < fewSamples {
		what := fmt.Sprintf("%d samples differ", n)
		if n == 1 {
			what = "1 sample differs"
		}
		t += ", but only " + what + ": the interval is too narrow"
	}
	return t
}

// fewSamples is how many samples must differ between two runs for the
// normal interval to be worth reading.
const fewSamples = 10

// MismatchError says the two runs are not of the same requests, so that no
// paired comparison of them means anything.
type MismatchError struct{ Reason string }

func (e *MismatchError) Error() string { return "paired: not the same requests: " + e.Reason }

// Compare pairs a's and b's outcomes by request id. Both must hold the same
// ids, each once, and the same sample for each id.
func Compare(a, b []Outcome) (*Result, error) {
	if len(a) != len(b) {
		return nil, &MismatchError{fmt.Sprintf("%d requests and %d", len(a), len(b))}
	}
	pos, err := newIndex(a)
	if err != nil {
		return nil, err
	}
	r := &Result{Requests: len(a)}
	// per sample: B's right answers less A's, and its requests
	bySample := make(map[int]struct{ net, reqs int })
	seen := make([]bool, len(a)) // by position in a
	for _, ob := range b {
		i, ok := pos.of(ob.ID)
		if !ok {
			return nil, &MismatchError{fmt.Sprintf("request %d is in B and not in A", ob.ID)}
		}
		if seen[i] {
			return nil, &MismatchError{fmt.Sprintf("request %d is in B twice", ob.ID)}
		}
		seen[i] = true
		oa := a[i]
		if oa.Sample != ob.Sample {
			return nil, &MismatchError{fmt.Sprintf("request %d replays sample %d in A and %d in B", ob.ID, oa.Sample, ob.Sample)}
		}
		d := bySample[ob.Sample]
		switch {
		case ob.Correct && !oa.Correct:
			r.BOnly++
			d.net++
		case oa.Correct && !ob.Correct:
			r.AOnly++
			d.net--
		}
		d.reqs++
		bySample[ob.Sample] = d
	}
	r.Samples = len(bySample)
	for _, d := range bySample {
		switch {
		case d.net > 0:
			r.SamplesB++
		case d.net < 0:
			r.SamplesA++
		}
	}
	r.P = SignTest(r.BOnly, r.AOnly)
	r.SamplesP = SignTest(r.SamplesB, r.SamplesA)
	if r.Requests > 0 {
		// In sample order, so that the sums, and the figures, are the same
		// from one run to the next.
		samples := slices.Sorted(maps.Keys(bySample))
		net := make([]int, len(samples))
		reqs := make([]int, len(samples))
		for i, s := range samples {
			net[i], reqs[i] = bySample[s].net, bySample[s].reqs
		}
		r.Difference, r.DifferenceLow, r.DifferenceHigh = Interval(net, reqs)
	}
	return r, nil
}

// index finds a request's position in a run by its id. A run's ids are
// 0 to n−1 in some order, and a slice finds them many times faster than a
// map over a million requests; other ids take the map.
type index struct {
	dense  []int32 // position+1 by id; 0: not in the run
	sparse map[uint64]int
}

func newIndex(a []Outcome) (*index, error) {
	x := &index{}
	dense := len(a) < math.MaxInt32
	for i := range a {
		if a[i].ID >= uint64(len(a)) {
			dense = false
			break
		}
	}
	if dense {
		x.dense = make([]int32, len(a))
		for i := range a {
			if x.dense[a[i].ID] != 0 {
				return nil, &MismatchError{fmt.Sprintf("request %d is in A twice", a[i].ID)}
			}
			x.dense[a[i].ID] = int32(i + 1)
		}
		return x, nil
	}
	x.sparse = make(map[uint64]int, len(a))
	for i := range a {
		if _, dup := x.sparse[a[i].ID]; dup {
			return nil, &MismatchError{fmt.Sprintf("request %d is in A twice", a[i].ID)}
		}
		x.sparse[a[i].ID] = i
	}
	return x, nil
}

func (x *index) of(id uint64) (int, bool) {
	if x.sparse != nil {
		i, ok := x.sparse[id]
		return i, ok
	}
	if id >= uint64(len(x.dense)) || x.dense[id] == 0 {
		return 0, false
	}
	return int(x.dense[id]) - 1, true
}

// Interval returns the difference in accuracy between two runs, B's less
// A's, and its 95% interval, from net[s], sample s's right answers in B less
// those in A, and reqs[s], its requests (at least one each).
//
// The difference is Σnet / Σreqs. Its variance is the ratio estimator's
// over samples (a cluster-robust variance): the requests replaying one
// sample are answered alike, so they count as one unit, and the interval
// is as wide as the distinct samples warrant, no narrower. When each
// sample is one request it is the familiar (b+c−(b−c)²/n)/n², n/(n−1)
// times. The interval is a normal approximation: with fewer than about ten
// samples on which the runs differ it is too narrow, and with none it is
// the single point 0.
func Interval(net, reqs []int) (diff, low, high float64) {
	var sumNet, sumReqs float64
	for i := range net {
		sumNet += float64(net[i])
		sumReqs += float64(reqs[i])
	}
	if sumReqs == 0 {
		return 0, 0, 0
	}
	diff = sumNet / sumReqs
	if len(net) < 2 {
		return diff, diff, diff
	}
	var ss float64
	for i := range net {
		e := float64(net[i]) - diff*float64(reqs[i])
		ss += e * e
	}
	k := float64(len(net))
	half := z95 * math.Sqrt(ss*k/(k-1)) / sumReqs
	return diff, diff - half, diff + half
}

// z95 is the standard normal's 97.5th percentile.
const z95 = 1.959963984540054

// SignTest is the exact two-sided p-value of k successes against m failures
// when each is equally likely: twice the probability of a split at least as
// uneven under Binomial(k+m, 1/2), at most 1. With no trials it is 1.
func SignTest(k, m int) float64 {
	n, lo := k+m, min(k, m)
	if n == 0 || 2*lo == n {
		return 1
	}
	// Σ_{i≤lo} C(n,i) 2^-n, in logs: C(n,i) overflows a float64 near n = 1030.
	ln2n := float64(n) * math.Ln2
	lgn, _ := math.Lgamma(float64(n + 1))
	var tail float64
	for i := 0; i <= lo; i++ {
		lgi, _ := math.Lgamma(float64(i + 1))
		lgr, _ := math.Lgamma(float64(n - i + 1))
		tail += math.Exp(lgn - lgi - lgr - ln2n)
	}
	return math.Min(1, 2*tail)
}
