package sim

import (
	"math"
	"slices"
	"testing"
	"time"

	"github.com/tandem-edge/tandem/scenarios"
)

// arrivals runs sc edge-only with a negligible edge and returns each
// device's arrival times.
func arrivals(t *testing.T, sc *scenarios.Scenario, trace []time.Duration) [][]time.Duration {
	t.Helper()
	sc.Policy.Kind = "edge-only"
	sc.Edge[0].Service = fixed(0)
	var c collect
	run(t, Config{Scenario: sc, Outcomes: testOutcomes(10, 1), Arrivals: trace}, &c)
	out := make([][]time.Duration, sc.Edge[0].Count)
	for _, r := range c.recs {
		out[r.Device] = append(out[r.Device], r.Arrival)
	}
	for _, a := range out {
		slices.Sort(a)
	}
	return out
}

func TestMMPP(t *testing.T) {
	sc := baseScenario()
	sc.Requests, sc.Duration = 0, scenarios.Duration(2000*time.Second)
	sc.Edge[0].Count = 8
	sc.Workload = scenarios.Workload{Arrival: scenarios.ArrivalMMPP, Rate: 10, BurstRate: 100,
		NormalMean: scenarios.Duration(time.Second), BurstMean: scenarios.Duration(250 * time.Millisecond)}
	// Mean rate: the state rates weighted by the time spent in each state.
	want := (10*1.0 + 100*0.25) / 1.25
	var total int
	var dispersion float64
	for _, a := range arrivals(t, sc, nil) {
		total += len(a)
		// Counts in 1 s windows: a Poisson process has variance/mean 1;
		// this MMPP's is far above.
		counts := make([]float64, 2000)
		for _, x := range a {
			counts[int(x/time.Second)]++
		}
		var m, v float64
		for _, c := range counts {
			m += c
		}
		m /= float64(len(counts))
		for _, c := range counts {
			v += (c - m) * (c - m)
		}
		dispersion += v / float64(len(counts)-1) / m / float64(sc.Edge[0].Count)
	}
	// The rate over 2000 s has a relative sd of about 1.8% per device
	// (dominated by the time share in the burst state), 0.6% over 8.
	got := float64(total) / 8 / 2000
	if math.Abs(got/want-1) > 0.025 {
		t.Errorf("mean rate %.3f/s, want %.3f/s", got, want)
	}
	if dispersion < 3 {
		t.Errorf("index of dispersion %.2f: not bursty", dispersion)
	}
	t.Logf("mean rate %.3f/s (theory %.3f), index of dispersion %.2f", got, want, dispersion)
}

func TestPoissonRate(t *testing.T) {
	sc := baseScenario()
	sc.Requests, sc.Duration = 0, scenarios.Duration(1000*time.Second)
	sc.Edge[0].Count = 4
	sc.Workload.Rate = 50
	for d, a := range arrivals(t, sc, nil) {
		// 50000 expected, sd 224.
		if n := len(a); math.Abs(float64(n)-50000) > 1000 {
			t.Errorf("device %d: %d arrivals, want 50000 ± 1000", d, n)
		}
	}
}

func TestPeriodic(t *testing.T) {
	sc := baseScenario()
	sc.Requests, sc.Duration = 0, scenarios.Duration(10*time.Second)
	sc.Edge[0].Count = 3
	sc.Workload = scenarios.Workload{Arrival: scenarios.ArrivalPeriodic, Rate: 300}
	const period = time.Second / 300
	phases := map[time.Duration]bool{}
	for d, a := range arrivals(t, sc, nil) {
		if len(a) != 3000 {
			t.Errorf("device %d: %d arrivals in 10 s at 300/s", d, len(a))
		}
		if a[0] < 0 || a[0] >= period {
			t.Errorf("device %d: first arrival %v outside [0, %v)", d, a[0], period)
		}
		phases[a[0]] = true
		for i := 1; i < len(a); i++ {
			if g := a[i] - a[i-1]; g < period-1 || g > period+1 {
				t.Fatalf("device %d: gap %v, want %v", d, g, period)
			}
		}
		// No drift: the k-th arrival is at phase + k/rate, to the ns.
		if k := len(a) - 1; math.Abs(float64(a[k]-a[0])-float64(k)*1e9/300) > 1 {
			t.Errorf("device %d: arrival %d at %v drifted", d, k, a[k])
		}
	}
	if len(phases) != 3 {
		t.Errorf("devices share phases: %v", phases)
	}
}

func TestTraceReplay(t *testing.T) {
	trace := []time.Duration{5 * time.Millisecond, 6 * time.Millisecond, 8 * time.Millisecond, 15 * time.Millisecond}
	// Offsets from the first: 0, 1, 3, 10 ms; period 10·4/3 ms; the gaps
	// loop as 1, 2, 7, 10/3 ms.
	period := time.Duration((10*int64(time.Millisecond)*4 + 1) / 3)
	gaps := []time.Duration{time.Millisecond, 2 * time.Millisecond, 7 * time.Millisecond, period - 10*time.Millisecond}
	sc := baseScenario()
	sc.Requests, sc.Duration = 0, scenarios.Duration(4*time.Second)
	sc.Edge[0].Count = 4
	sc.Workload = scenarios.Workload{Arrival: scenarios.ArrivalTrace}
	starts := map[time.Duration]bool{}
	for d, a := range arrivals(t, sc, trace) {
		// 4 s hold 300 periods of 4 arrivals.
		if len(a) < 1199 || len(a) > 1201 {
			t.Errorf("device %d: %d arrivals, want 1200 ± 1", d, len(a))
		}
		// Find where in the loop the device starts, then follow it.
		k := slices.Index(gaps, a[1]-a[0])
		if k < 0 || a[0] >= period {
			t.Fatalf("device %d: first gap %v, first arrival %v", d, a[1]-a[0], a[0])
		}
		for i := 1; i < len(a); i++ {
			if g := a[i] - a[i-1]; g != gaps[(k+i-1)%len(gaps)] {
				t.Fatalf("device %d: gap %d is %v, want %v", d, i, g, gaps[(k+i-1)%len(gaps)])
			}
		}
		starts[a[0]] = true
	}
	if len(starts) < 3 {
		t.Errorf("devices share phases: %v", starts)
	}
}
