package profiles

import (
	"math"
	"time"
)

// Trace is a link whose capacity follows a recorded trace, replayed from the
// start of the run and looped at the end of its period P.
//
// Capacity is counted in units: for a mahimahi trace, 1500-byte packets, each
// delivered at one of the trace's instants, a transfer of n bytes taking
// ⌈n/1500⌉ of them (its last packet uses a whole delivery opportunity); for a
// CSV trace, bits, delivered at the row's constant rate. With C(x) the units
// deliverable in (0, x] of one period, the units deliverable in (t, T] are
//
//	D(t, T) = C*(T) − C*(t),  where  C*(x) = ⌊x/P⌋·C(P) + C(x mod P)
//
// and TransferEnd(t, n) is the least T ≥ t with D(t, T) ≥ the units of n
// bytes. The interval is open at t: a transfer that starts when another
// ended does not reuse the opportunity that finished the other.
//
// Time stays in integer nanoseconds and capacity in integer units; whole
// periods are skipped by integer division, so answers late in a long run are
// as exact as early ones.
type Trace struct {
	name   string
	format string
	period time.Duration
	step   bool            // mahimahi: units arrive at the instants at[i]; CSV: at rate bps[i] from at[i] until at[i+1]
	at     []time.Duration // mahimahi: distinct instants in (0, period]; CSV: row starts from 0, then period
	cum    []int64         // units deliverable in (0, at[i]]
	bps    []float64       // CSV: each row's rate in bits per second
	total  int64           // units per period, > 0
}

// Trace formats.
const (
	FormatMahimahi = "mahimahi"
	FormatCSV      = "csv"
)

const mtu = 1500 // bytes per mahimahi delivery opportunity

// Name is the trace's file name, or "builtin:NAME".
func (tr *Trace) Name() string { return tr.name }

// Format is FormatMahimahi or FormatCSV.
func (tr *Trace) Format() string { return tr.format }

// Period is the length of the trace; it repeats after it.
func (tr *Trace) Period() time.Duration { return tr.period }

// MeanMbps is the capacity of one period divided by its length.
func (tr *Trace) MeanMbps() float64 {
	bits := float64(tr.total)
	if tr.step {
		bits *= 8 * mtu
	}
	return bits / tr.period.Seconds() / 1e6
}

// TransferEnd returns when n bytes that start at t have been delivered (see
// Trace). Cost: O(log k) for a trace of k instants or rows; no allocation.
func (tr *Trace) TransferEnd(t time.Duration, n int) time.Duration {
	if n <= 0 {
		return t
	}
	var need int64
	if tr.step {
		need = (int64(n) + mtu - 1) / mtu
	} else {
		need = 8 * int64(n)
	}
	loops, r := int64(t/tr.period), t%tr.period
	if r < 0 {
		loops, r = loops-1, r+tr.period
	}
	target := tr.upTo(r) + need
	// Skip whole periods so that what is left falls in (0, total].
	skip := (target - 1) / tr.total
	end := time.Duration(loops+skip)*tr.period + tr.reach(target-skip*tr.total)
	return max(end, t)
}

// upTo is C(r), the units deliverable in (0, r] for 0 ≤ r < period.
func (tr *Trace) upTo(r time.Duration) int64 {
	// i: the number of breakpoints at or before r.
	lo, hi := 0, len(tr.at)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if tr.at[m] <= r {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if tr.step {
		if lo == 0 {
			return 0
		}
		return tr.cum[lo-1]
	}
	i := lo - 1 // the row in force at r; at[0] = 0 ≤ r < period = at[len-1]
	in := int64(tr.bps[i] * float64(r-tr.at[i]) / 1e9)
	return tr.cum[i] + min(in, tr.cum[i+1]-tr.cum[i])
}

// reach is the least x in (0, period] with C(x) ≥ y, for 1 ≤ y ≤ total.
func (tr *Trace) reach(y int64) time.Duration {
	// i: the first breakpoint whose cumulative capacity reaches y.
	lo, hi := 0, len(tr.cum)-1
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if tr.cum[m] >= y {
			hi = m
		} else {
			lo = m + 1
		}
	}
	if tr.step {
		return tr.at[lo]
	}
	// Row lo-1 ends at at[lo] with cum[lo] ≥ y > cum[lo-1], so its rate is
	// positive.
	s := lo - 1
	x := tr.at[s] + time.Duration(math.Ceil(float64(y-tr.cum[s])*1e9/tr.bps[s]))
	return min(x, tr.at[lo])
}
