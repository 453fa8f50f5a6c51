package deploy

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/tandem-edge/tandem/scenarios"
)

type arrivalKind uint8

const (
	arrivePoisson arrivalKind = iota + 1
	arrivePeriodic
	arriveMMPP
	arriveTrace
)

// Workload is one device's arrival process. Each device owns its own copy
// (a Workload is a value, copied with its state) and its own random stream.
type Workload struct {
	kind arrivalKind

	gap float64 // poisson: mean gap; periodic: period (ns)

	phase float64 // periodic: offset of the first arrival (ns)
	k     int64   // periodic: arrivals so far

	// mmpp: per state (0 base, 1 burst) the arrival rate (per ns) and mean
	// sojourn (ns); the current state and when it ends.
	rate     [2]float64
	sojourn  [2]float64
	state    int
	switchAt time.Duration

	// trace: offsets from the trace's first arrival, shared by all devices;
	// the loop period; the next offset to replay and the time its loop
	// starts at.
	offsets []time.Duration
	period  time.Duration
	pos     int
	base    time.Duration
}

// traceArrivals checks a trace's arrival offsets and returns them shifted to
// start at 0, with the period the trace loops at: its span plus one mean gap,
// so that a looped trace keeps the trace's own mean rate.
//
//	period = (t_{n−1} − t₀) · n / (n − 1) = span + span / (n − 1)
func traceArrivals(offs []time.Duration) ([]time.Duration, time.Duration, error) {
	if len(offs) < 2 {
		return nil, 0, fmt.Errorf("deploy: trace workload needs at least 2 arrivals, got %d", len(offs))
	}
	out := make([]time.Duration, len(offs))
	for i, t := range offs {
		if t < 0 || (i > 0 && t < offs[i-1]) {
			return nil, 0, fmt.Errorf("deploy: trace workload: arrival %d at %v is negative or before the one before it", i, t)
		}
		out[i] = t - offs[0]
	}
	span := out[len(out)-1]
	if span == 0 {
		return nil, 0, fmt.Errorf("deploy: trace workload: all %d arrivals are at the same time", len(offs))
	}
	gaps := time.Duration(len(out) - 1)
	return out, span + (span+gaps/2)/gaps, nil
}

// NewWorkload checks a scenario's workload and returns its arrival process;
// trace holds the arrival offsets of a trace workload (see traceArrivals),
// which every device replays from its own random phase, looping.
func NewWorkload(w *scenarios.Workload, trace []time.Duration) (Workload, error) {
	var period time.Duration
	if w.Arrival == scenarios.ArrivalTrace {
		var err error
		if trace, period, err = traceArrivals(trace); err != nil {
			return Workload{}, err
		}
	}
	positive := func(what string, v float64) error {
		if !(v > 0) || math.IsInf(v, 1) {
			return fmt.Errorf("deploy: %s workload: %s %v is not a positive rate", w.Arrival, what, v)
		}
		return nil
	}
	switch w.Arrival {
	case scenarios.ArrivalPoisson, scenarios.ArrivalPeriodic:
		if err := positive("rate", w.Rate); err != nil {
			return Workload{}, err
		}
		k := arrivePoisson
		if w.Arrival == scenarios.ArrivalPeriodic {
			k = arrivePeriodic
		}
		return Workload{kind: k, gap: 1e9 / w.Rate}, nil
	case scenarios.ArrivalMMPP:
		if !(w.Rate >= 0) || !(w.BurstRate >= 0) || w.Rate+w.BurstRate == 0 || math.IsInf(w.Rate+w.BurstRate, 1) {
			return Workload{}, fmt.Errorf("deploy: mmpp workload: rates %v and %v: want both ≥ 0, one > 0", w.Rate, w.BurstRate)
		}
		if w.NormalMean <= 0 || w.BurstMean <= 0 {
			return Workload{}, fmt.Errorf("deploy: mmpp workload: normal_mean %v and burst_mean %v must be positive", w.NormalMean.D(), w.BurstMean.D())
		}
		return Workload{
			kind:    arriveMMPP,
			rate:    [2]float64{w.Rate / 1e9, w.BurstRate / 1e9},
			sojourn: [2]float64{float64(w.NormalMean), float64(w.BurstMean)},
		}, nil
	case scenarios.ArrivalTrace:
		if len(trace) == 0 {
			return Workload{}, fmt.Errorf("deploy: trace workload: no arrival offsets in the config (Config.Arrivals)")
		}
		return Workload{kind: arriveTrace, offsets: trace, period: period}, nil
	}
	return Workload{}, fmt.Errorf("deploy: unknown arrival process %q (want poisson, periodic, mmpp or trace)", w.Arrival)
}

// First draws the device's random phase and returns its first arrival.
func (w *Workload) First(rng *rand.Rand) time.Duration {
	switch w.kind {
	case arrivePeriodic:
		w.phase = rng.Float64() * w.gap
		return DurationOf(w.phase)
	case arriveMMPP:
		// Start in the stationary state distribution.
		if rng.Float64()*(w.sojourn[0]+w.sojourn[1]) < w.sojourn[1] {
			w.state = 1
		}
		w.switchAt = w.sojournEnd(rng, 0)
	case arriveTrace:
		phase := time.Duration(rng.Int64N(int64(w.period)))
		w.pos = sort.Search(len(w.offsets), func(i int) bool { return w.offsets[i] >= phase })
		w.base = -phase
		if w.pos == len(w.offsets) {
			w.pos, w.base = 0, w.base+w.period
		}
	}
	return w.Next(rng, 0)
}

// Next returns the arrival after the one at now.
func (w *Workload) Next(rng *rand.Rand, now time.Duration) time.Duration {
	switch w.kind {
	case arrivePoisson:
		return now + DurationOf(rng.ExpFloat64()*w.gap)
	case arrivePeriodic:
		w.k++
		// The conversion keeps the product rounded on its own, as Go
		// may otherwise fuse it into the sum on arm64 and the arrival
		// times would differ by architecture.
		return DurationOf(w.phase + float64(float64(w.k)*w.gap))
	case arriveMMPP:
		// Both clocks are memoryless: when the state changes before the
		// drawn gap ends, the draw is dropped and a new one starts at the
		// change.
		t := now
		for {
			if r := w.rate[w.state]; r > 0 {
				if a := t + DurationOf(rng.ExpFloat64()/r); a < w.switchAt {
					return a
				}
			}
			t = w.switchAt
			w.state ^= 1
			w.switchAt = w.sojournEnd(rng, t)
		}
	case arriveTrace:
		t := w.base + w.offsets[w.pos]
		if w.pos++; w.pos == len(w.offsets) {
			w.pos, w.base = 0, w.base+w.period
		}
		return t
	}
	panic(fmt.Sprintf("deploy: arrival process %d", w.kind))
}

// sojournEnd returns when the MMPP state entered at t ends; at least 1 ns
// later, so that the process always moves.
func (w *Workload) sojournEnd(rng *rand.Rand, t time.Duration) time.Duration {
	return t + max(1, DurationOf(rng.ExpFloat64()*w.sojourn[w.state]))
}

// horizon caps every drawn time span, so that a tiny rate or a huge mean
// gives a far but representable time instead of an overflow.
const horizon = time.Duration(1 << 61) // 73 years

// DurationOf rounds ns nanoseconds to a duration, saturating at 73 years
// so that a tiny rate or a huge mean cannot overflow a run's clock.
func DurationOf(ns float64) time.Duration {
	if !(ns < float64(horizon)) {
		return horizon
	}
	// float64(ns) rounds the argument first: inlined into a caller that
	// passes a product, ns + 0.5 could be fused on arm64 (see the Go
	// specification on fused operations), and the times would differ by
	// architecture.
	return time.Duration(float64(ns) + 0.5)
}
