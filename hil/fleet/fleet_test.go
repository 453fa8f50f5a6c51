package fleet

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/tandem-edge/tandem/agents/offload"
	"github.com/tandem-edge/tandem/bundles"
	"github.com/tandem-edge/tandem/hil/oip"
	"github.com/tandem-edge/tandem/profiles"
	"github.com/tandem-edge/tandem/scenarios"
	"github.com/tandem-edge/tandem/sim"
)

// The fake models read a sample's "pixels": x[0] is its label, x[1] says
// whether the edge model gets it right, x[2] how sure it is.
type fakeEdge struct{}

func (fakeEdge) Run(dst, x []float32, n int) error {
	clear(dst)
	label := int(x[0])
	pred := label
	if x[1] == 0 {
		pred = (label + 1) % len(dst)
	}
	dst[pred] = x[2]
	return nil
}

type fakeCloud struct {
	mu    sync.Mutex
	calls int
	fail  bool
}

func (c *fakeCloud) InferAnswer(_ context.Context, x []float32, n int) (*oip.Answer, error) {
	c.mu.Lock()
	c.calls++
	c.mu.Unlock()
	if c.fail {
		return nil, errors.New("connection refused")
	}
	time.Sleep(time.Millisecond)
	y := make([]float32, 3)
	y[int(x[0])] = 5
	return &oip.Answer{Y: y, Server: &oip.ResponseParameters{QueueMS: 0.1, ComputeMS: 0.5, BatchSamples: 1}}, nil
}

type keep struct{ recs []sim.Record }

func (k *keep) Record(r *sim.Record) error { k.recs = append(k.recs, *r); return nil }

func testRun(t *testing.T, kind string, cloud *fakeCloud) (*sim.Summary, []sim.Record) {
	t.Helper()
	sc := &scenarios.Scenario{Name: "fleet", Seed: 3, Requests: 60,
		Workload: scenarios.Workload{Arrival: scenarios.ArrivalPoisson, Rate: 100},
		Edge:     scenarios.Edge{Count: 3, Concurrency: 1},
		Link:     scenarios.Link{RTT: scenarios.Duration(2 * time.Millisecond), UplinkMbps: 8},
		Cloud:    scenarios.Cloud{Servers: 1},
		Policy:   scenarios.Policy{Kind: kind, Feature: scenarios.FeatureMaxProb, Threshold: 0.6},
	}
	// Outcomes: samples 0-19; the edge is wrong on every fourth.
	var outcomes []bundles.Outcome
	inputs := map[int][]float32{}
	for i := range 20 {
		o := bundles.Outcome{Sample: 100 + i, Label: i % 3, EdgePred: i % 3, CloudPred: i % 3}
		edgeOK := float32(1)
		if i%4 == 0 {
			o.EdgePred, edgeOK = (i+1)%3, 0
		}
		outcomes = append(outcomes, o)
		// Unsure (a low max_prob) on the samples it gets wrong.
		sure := float32(6)
		if edgeOK == 0 {
			sure = 0.1
		}
		inputs[o.Sample] = []float32{float32(o.Label), edgeOK, sure}
	}
	arrivals, err := sim.Schedule(sc, nil, len(outcomes))
	if err != nil {
		t.Fatal(err)
	}
	var k keep
	cfg := Config{Scenario: sc, Arrivals: arrivals, Outcomes: outcomes, Classes: 3,
		Input:        func(s int) []float32 { return inputs[s] },
		NewEdge:      func(int) (Model, error) { return fakeEdge{}, nil },
		Cloud:        cloud,
		CloudServers: 1,
		Uplink:       func(int) profiles.Link { return profiles.Constant(8) },
		RequestBytes: 1000, ResponseBytes: 64,
		NewPolicy: func(_ int, src rand.Source) (offload.Policy, error) {
			return offload.New(sc.Policy, offload.Options{Src: src})
		},
		Recorder: &k,
	}
	if kind == scenarios.PolicyEdgeOnly {
		cfg.Uplink, cfg.Cloud = nil, nil
	}
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Lateness.Len() != 60 {
		t.Errorf("lateness of %d arrivals, want 60", res.Lateness.Len())
	}
	return res.Summary, k.recs
}

func TestRunThreshold(t *testing.T) {
	cloud := &fakeCloud{}
	sum, recs := testRun(t, scenarios.PolicyThreshold, cloud)
	if sum.Mode != sim.ModeHIL || sum.Requests != 60 || sum.Completed != 60 || sum.Failed != 0 || len(recs) != 60 {
		t.Fatalf("summary %+v with %d records", sum, len(recs))
	}
	// The threshold offloads exactly the unsure samples, the ones the edge
	// gets wrong; the cloud gets them right.
	if sum.Accuracy != 1 {
		t.Errorf("accuracy %v, want 1", sum.Accuracy)
	}
	offloaded := 0
	seen := map[uint64]bool{}
	for _, r := range recs {
		seen[r.ID] = true
		if r.Decision != offload.Cloud {
			if r.Uplink != 0 || r.Latency < r.Edge {
				t.Errorf("edge answer %+v", r)
			}
			continue
		}
		offloaded++
		// 1000 bytes at 8 Mbit/s take 1 ms, plus half of the 2 ms RTT.
		if r.Uplink < 2*time.Millisecond-100*time.Microsecond || r.CloudQueue != 100*time.Microsecond || r.Batch != 1 {
			t.Errorf("offloaded request %+v: uplink under 2 ms or server times lost", r)
		}
		if r.Latency < r.Edge+r.Uplink+r.Cloud+r.Downlink {
			t.Errorf("request %d: latency %v under the sum of its stages", r.ID, r.Latency)
		}
	}
	if len(seen) != 60 || offloaded != cloud.calls || float64(offloaded)/60 != sum.OffloadRate || offloaded == 0 {
		t.Errorf("%d distinct records, %d offloaded, %d cloud calls, offload rate %v", len(seen), offloaded, cloud.calls, sum.OffloadRate)
	}
	if sum.Utilization.Uplink <= 0 || sum.Utilization.Cloud <= 0 || sum.ThroughputRPS <= 0 {
		t.Errorf("utilization %+v, throughput %v", sum.Utilization, sum.ThroughputRPS)
	}
}

func TestRunEdgeOnly(t *testing.T) {
	sum, recs := testRun(t, scenarios.PolicyEdgeOnly, nil)
	right := 0
	for _, r := range recs {
		if (r.Sample-100)%4 != 0 {
			right++
		}
		if r.Decision != offload.Edge || r.Correct != ((r.Sample-100)%4 != 0) {
			t.Errorf("record %+v", r)
		}
	}
	if sum.OffloadRate != 0 || sum.Completed != 60 || sum.Accuracy != float64(right)/60 {
		t.Errorf("summary %+v; the edge is right on %d of 60", sum, right)
	}
}

func TestRunCloudFailures(t *testing.T) {
	cloud := &fakeCloud{fail: true}
	sum, recs := testRun(t, scenarios.PolicyCloudOnly, cloud)
	if sum.Failed != 60 || sum.Completed != 0 {
		t.Errorf("summary %+v", sum)
	}
	for _, r := range recs {
		if r.Status != sim.StatusFailed {
			t.Fatalf("record %+v not failed", r)
		}
	}
}
