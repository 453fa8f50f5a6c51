package sim

import (
	"fmt"
	"github.com/tandem-edge/tandem/deploy"
	"math/rand/v2"
	"time"

	"github.com/tandem-edge/tandem/bundles"
	"github.com/tandem-edge/tandem/profiles"
	"github.com/tandem-edge/tandem/scenarios"
)

// constLink is a link of constant capacity.
type constLink struct{ mbps float64 }

func (l constLink) Name() string      { return fmt.Sprintf("constant %gMbps", l.mbps) }
func (l constLink) MeanMbps() float64 { return l.mbps }
func (l constLink) TransferEnd(t time.Duration, n int) time.Duration {
	return t + time.Duration(float64(n)*8e3/l.mbps+0.5) // n·8 bits at mbps·10⁶ bit/s, in ns
}

// fastLink adds nothing measurable: 1 byte crosses it in under half a
// nanosecond.
var fastLink = func(int) profiles.Link { return constLink{mbps: 1e12} }

// testOutcomes returns n synthetic outcomes whose features spread over
// [0, 1]; about a third of the edge answers and a tenth of the cloud answers
// are wrong. They exist for timing tests only.
func testOutcomes(n int, seed uint64) []bundles.Outcome {
	rng := rand.New(rand.NewPCG(seed, 99))
	out := make([]bundles.Outcome, n)
	for i := range out {
		p := rng.Float64()
		o := bundles.Outcome{Sample: i, Label: i % 10, EdgePred: i % 10, CloudPred: i % 10, MaxProb: p, Margin: p / 2, Entropy: 1 - p}
		if rng.Float64() < 0.5*(1-p) {
			o.EdgePred = (o.Label + 1) % 10
		}
		if rng.Float64() < 0.1 {
			o.CloudPred = (o.Label + 2) % 10
		}
		out[i] = o
	}
	return out
}

// exp returns an exponential service override of the given mean.
func exp(mean time.Duration) *scenarios.Service {
	return &scenarios.Service{Dist: scenarios.DistExponential, Mean: scenarios.Duration(mean)}
}

// fixed returns a deterministic service override.
func fixed(mean time.Duration) *scenarios.Service {
	return &scenarios.Service{Dist: scenarios.DistDeterministic, Mean: scenarios.Duration(mean)}
}

// baseScenario is one device, poisson arrivals, edge-only, 1000 requests.
func baseScenario() *scenarios.Scenario {
	return &scenarios.Scenario{
		Name:     "test",
		Seed:     1,
		Requests: 1000,
		Workload: scenarios.Workload{Arrival: scenarios.ArrivalPoisson, Rate: 100},
		Edge:     scenarios.EdgeGroups{{Count: 1, Concurrency: 1, Service: fixed(time.Millisecond)}},
		Link:     scenarios.Link{RTT: 0, RequestBytes: 1},
		Cloud:    scenarios.CloudPools{{Servers: 1, Service: fixed(time.Millisecond)}},
		Policy:   scenarios.Policy{Kind: "edge-only"},
	}
}

// collect is a deploy.Recorder keeping every record.
type collect struct{ recs []deploy.Record }

func (c *collect) Record(r *deploy.Record) error {
	c.recs = append(c.recs, *r)
	return nil
}

// run builds and runs cfg, failing the test on error.
func run(t interface {
	Helper()
	Fatalf(string, ...any)
}, cfg Config, rec deploy.Recorder) *deploy.Summary {
	t.Helper()
	s, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	sum, err := s.Run(rec)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return sum
}

func ftoa(f float64) string { return fmt.Sprintf("%g", f) }
func itoa(i int) string     { return fmt.Sprintf("%d", i) }
