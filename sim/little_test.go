package sim

import (
	"math"
	"testing"
	"time"

	"github.com/tandem-edge/tandem/profiles"
	"github.com/tandem-edge/tandem/scenarios"
)

// littleTracer integrates the number of requests in the system over time
// from the engine's transitions alone.
type littleTracer struct {
	inSystem int
	last     time.Duration
	area     float64 // request·ns
	t        *testing.T
}

func (l *littleTracer) Transition(at time.Duration, id uint64, from, to State) {
	if at < l.last {
		l.t.Fatalf("transition at %v after one at %v", at, l.last)
	}
	l.area += float64(l.inSystem) * float64(at-l.last)
	l.last = at
	if from == StateFree {
		l.inSystem++
	}
	if to == StateDone {
		l.inSystem--
	}
}

// runKinds is one scenario of every kind the engine runs, for the tests
// that check invariants on all of them.
func runKinds() []struct {
	name string
	cfg  Config
} {
	out := testOutcomes(500, 3)
	model := &profiles.Model{Name: "m", Latency: 4 * time.Millisecond, Spread: 0.1,
		Batches: []profiles.BatchPoint{{Size: 1, Latency: 4 * time.Millisecond}, {Size: 8, Latency: 12 * time.Millisecond}}}
	slow := func(int) profiles.Link { return constLink{mbps: 20} }
	mk := func(edit func(sc *scenarios.Scenario)) *scenarios.Scenario {
		sc := baseScenario()
		sc.Requests = 20000
		sc.Edge[0].Count = 4
		sc.Workload.Rate = 150
		sc.Edge[0].Service = exp(2 * time.Millisecond)
		sc.Link = scenarios.Link{RTT: scenarios.Duration(10 * time.Millisecond), RequestBytes: 3136, ResponseBytes: 64}
		sc.Cloud = scenarios.CloudPools{{Servers: 2, Service: exp(3 * time.Millisecond)}}
		edit(sc)
		return sc
	}
	return []struct {
		name string
		cfg  Config
	}{
		{"edge-only", Config{Scenario: mk(func(sc *scenarios.Scenario) {}), Outcomes: out}},
		{"cloud-only", Config{Scenario: mk(func(sc *scenarios.Scenario) { sc.Policy.Kind = "cloud-only"; sc.Workload.Rate = 100 }), Outcomes: out, Uplink: slow}},
		{"threshold+batching", Config{Scenario: mk(func(sc *scenarios.Scenario) {
			sc.Policy = scenarios.Policy{Kind: "threshold", Feature: "max_prob", Threshold: 0.6}
			sc.Cloud[0].Service = nil
			sc.Cloud[0].Batching = &scenarios.Batching{MaxBatch: 8, MaxWait: scenarios.Duration(3 * time.Millisecond)}
		}), Outcomes: out, CloudModel: model, Uplink: slow}},
		{"random+profiles", Config{Scenario: mk(func(sc *scenarios.Scenario) {
			sc.Policy = scenarios.Policy{Kind: "random", P: 0.3}
			sc.Edge[0].Service, sc.Cloud[0].Service = nil, nil
			sc.Edge[0].Concurrency = 2
		}), Outcomes: out, EdgeModel: model, CloudModel: model, Uplink: slow}},
		{"oracle+lognormal", Config{Scenario: mk(func(sc *scenarios.Scenario) {
			sc.Policy = scenarios.Policy{Kind: "oracle"}
			sc.Edge[0].Service = &scenarios.Service{Dist: scenarios.DistLognormal, Mean: scenarios.Duration(2 * time.Millisecond), CV: 1.5}
		}), Outcomes: out, Uplink: slow}},
		{"mmpp", Config{Scenario: mk(func(sc *scenarios.Scenario) {
			sc.Policy = scenarios.Policy{Kind: "threshold", Feature: "entropy", Threshold: 0.5}
			sc.Workload = scenarios.Workload{Arrival: scenarios.ArrivalMMPP, Rate: 50, BurstRate: 400,
				NormalMean: scenarios.Duration(time.Second), BurstMean: scenarios.Duration(200 * time.Millisecond)}
		}), Outcomes: out, Uplink: slow}},
		{"periodic", Config{Scenario: mk(func(sc *scenarios.Scenario) {
			sc.Policy = scenarios.Policy{Kind: "threshold", Feature: "margin", Threshold: 0.2}
			sc.Workload = scenarios.Workload{Arrival: scenarios.ArrivalPeriodic, Rate: 200}
		}), Outcomes: out, Uplink: slow}},
		{"trace+duration", Config{Scenario: mk(func(sc *scenarios.Scenario) {
			sc.Requests, sc.Duration = 0, scenarios.Duration(20*time.Second)
			sc.Policy = scenarios.Policy{Kind: "threshold", Feature: "max_prob", Threshold: 0.4}
			sc.Workload = scenarios.Workload{Arrival: scenarios.ArrivalTrace}
		}), Outcomes: out, Uplink: slow, Arrivals: []time.Duration{0, time.Millisecond, 2 * time.Millisecond, 15 * time.Millisecond, 16 * time.Millisecond}}},
	}
}

func TestLittlesLaw(t *testing.T) {
	for _, tt := range runKinds() {
		t.Run(tt.name, func(t *testing.T) {
			tr := &littleTracer{t: t}
			tt.cfg.Tracer = tr
			var c collect
			sum := run(t, tt.cfg, &c)
			for _, r := range c.recs {
				// The stages a request crossed add up to its latency.
				parts := []time.Duration{r.EdgeQueue, r.Edge, r.Uplink, r.CloudQueue, r.Cloud, r.Downlink}
				var total time.Duration
				for _, p := range parts {
					if p < 0 {
						t.Fatalf("request %d has a negative stage time: %+v", r.ID, r)
					}
					total += p
				}
				if total != r.Latency {
					t.Fatalf("request %d: stages add up to %v, latency %v: %+v", r.ID, total, r.Latency, r)
				}
			}
			if sum.Completed != sum.Requests || sum.Failed != 0 || sum.Completed == 0 {
				t.Fatalf("requests %d, completed %d, failed %d", sum.Requests, sum.Completed, sum.Failed)
			}
			if tr.inSystem != 0 {
				t.Fatalf("%d requests left in the system", tr.inSystem)
			}
			// L = λ·W: the time-average number in system against the
			// throughput times the mean latency.
			makespan := tr.last.Seconds()
			l := tr.area / 1e9 / makespan
			lw := sum.ThroughputRPS * sum.LatencyMS.Mean / 1e3
			if math.Abs(l/lw-1) > 1e-9 {
				t.Errorf("L = %.9f, λW = %.9f", l, lw)
			}
			t.Logf("L = %.4f, offload %.3f, utilization %+v, p99 %.1f ms", l, sum.OffloadRate, sum.Utilization, sum.LatencyMS.P99)
			for _, u := range []float64{sum.Utilization.Edge, sum.Utilization.Uplink, sum.Utilization.Cloud} {
				if !(u >= 0 && u <= 1) {
					t.Errorf("utilization %v outside [0, 1]", sum.Utilization)
				}
			}
		})
	}
}
