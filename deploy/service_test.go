package deploy

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/tandem-edge/tandem/profiles"
	"github.com/tandem-edge/tandem/scenarios"
)

// TestMeanGap checks each arrival process's mean gap against the mean of
// the gaps it draws.
func TestMeanGap(t *testing.T) {
	cases := []struct {
		name  string
		w     scenarios.Workload
		trace []time.Duration
		want  time.Duration
	}{
		{"poisson", scenarios.Workload{Arrival: scenarios.ArrivalPoisson, Rate: 10}, nil, 100 * time.Millisecond},
		{"periodic", scenarios.Workload{Arrival: scenarios.ArrivalPeriodic, Rate: 4}, nil, 250 * time.Millisecond},
		// A quarter of the time at 40/s, three quarters at 8/s: 16/s.
		{"mmpp", scenarios.Workload{Arrival: scenarios.ArrivalMMPP, Rate: 8, BurstRate: 40,
			NormalMean: scenarios.Duration(3 * time.Second), BurstMean: scenarios.Duration(time.Second)}, nil, 62500 * time.Microsecond},
		// Four arrivals over 300 ms loop every 400 ms.
		{"trace", scenarios.Workload{Arrival: scenarios.ArrivalTrace}, []time.Duration{0, 100 * time.Millisecond, 200 * time.Millisecond, 300 * time.Millisecond}, 100 * time.Millisecond},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w, err := NewWorkload(&tc.w, tc.trace)
			if err != nil {
				t.Fatal(err)
			}
			if got := w.MeanGap(); got != tc.want {
				t.Errorf("MeanGap() = %v, want %v", got, tc.want)
			}
			rng := rand.New(rand.NewPCG(1, 2))
			const n = 200000
			first := w.First(rng)
			at := first
			for range n {
				at = w.Next(rng, at)
			}
			drawn := (at - first) / n
			if d := float64(drawn-tc.want) / float64(tc.want); d < -0.03 || d > 0.03 {
				t.Errorf("the process draws gaps of %v on average, MeanGap says %v", drawn, tc.want)
			}
		})
	}
}

func TestServiceOf(t *testing.T) {
	ms := time.Millisecond
	edge := &profiles.Model{Latency: ms, Spread: 0.1, Cold: &profiles.ColdLatency{Gap: 50 * ms, Latency: 2 * ms, Spread: 0.3, Runs: 5}}
	cloud := &profiles.Model{Latency: 4 * ms, Serving: []profiles.Serving{{Protocol: profiles.ProtocolJSON, Latency: 5 * ms, Runs: 5}}}
	sc := &scenarios.Scenario{Cloud: scenarios.Cloud{Protocol: profiles.ProtocolJSON}}
	got := ServiceOf(sc, edge, cloud, 100*ms)
	want := Service{Edge: "cold", EdgeMS: 2, MeanGapMS: 100, Cloud: "serving", Protocol: "json", CloudOverheadMS: 1}
	if *got != want {
		t.Errorf("ServiceOf = %+v, want %+v", *got, want)
	}
	if _, spread, _ := EdgeBase(edge, 100*ms); spread != 0.3 {
		t.Errorf("cold edge spread %v, want the cold measurement's 0.3", spread)
	}
	sc.Cloud.Protocol = profiles.ProtocolBinary
	if got := ServiceOf(sc, edge, cloud, ms); got.Edge != "warm" || got.EdgeMS != 1 || got.Cloud != "model" || got.CloudOverheadMS != 0 {
		t.Errorf("back to back, no binary serving path: %+v", *got)
	}
	sc.Edge.Service = &scenarios.Service{Mean: scenarios.Duration(3 * ms)}
	if got := ServiceOf(sc, nil, nil, ms); got.Edge != "override" || got.EdgeMS != 3 || got.Cloud != "none" {
		t.Errorf("overridden edge, no cloud: %+v", *got)
	}
}
