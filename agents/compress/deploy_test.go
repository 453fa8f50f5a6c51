package compress

import (
	"math"
	"testing"
	"time"

	"github.com/tandem-edge/tandem/bundles"
	"github.com/tandem-edge/tandem/profiles"
	"github.com/tandem-edge/tandem/scenarios"
)

func TestCloudThreshold(t *testing.T) {
	// label 0 always; edge right when EdgePred 0, cloud when CloudPred 0.
	o := func(p float64, edge, cloud bool) bundles.Outcome {
		out := bundles.Outcome{MaxProb: p, EdgePred: 1, CloudPred: 1}
		if edge {
			out.EdgePred = 0
		}
		if cloud {
			out.CloudPred = 0
		}
		return out
	}
	cases := []struct {
		name string
		outs []bundles.Outcome
		want float64
	}{
		{"the edge is as good already", []bundles.Outcome{o(0.9, true, true), o(0.5, true, false)}, 0},
		// Offloading the least sure (0.3, edge wrong, cloud right) is enough.
		{"one offload", []bundles.Outcome{o(0.9, true, true), o(0.3, false, true), o(0.6, true, true)}, 0.45},
		// The least sure is right on the edge and wrong in the cloud:
		// sending it costs one, so three must go before the cascade
		// catches up.
		{"past a loss", []bundles.Outcome{o(0.2, true, false), o(0.4, false, true), o(0.7, false, true), o(0.9, true, true)}, 0.8},
		{"everything", []bundles.Outcome{o(0.2, false, true), o(0.4, false, true)}, 1},
	}
	for _, c := range cases {
		if got := cloudThreshold(c.outs); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("%s: threshold %v, want %v", c.name, got, c.want)
		}
	}
}

// A candidate borrows the bundle's edge model's cold curve, scaled to its
// own back-to-back latency, and pays the same share of it after idling.
func TestCandidateBorrowsColdCurve(t *testing.T) {
	const sum = "3f2a000000000000000000000000000000000000000000000000000000000000"
	ms := time.Millisecond
	measured := profiles.Model{Name: "b/edge", SHA256: sum, Latency: 2 * ms, Spread: 0.1,
		Cold: []profiles.ColdLatency{{Gap: 10 * ms, Latency: 3 * ms, Runs: 5}, {Gap: 100 * ms, Latency: 4 * ms, Runs: 5}}}
	in := &scenarios.Inputs{Bundle: &bundles.Bundle{}, EdgeDevice: &profiles.Device{Models: []profiles.Model{measured}}}
	in.Bundle.Models.Edge.SHA256 = sum
	dp := &deployer{in: in}
	c := dp.candidate("cand", ms)
	if c.Latency != ms || c.Spread != 0.1 || c.IdlePenalty(100*ms) != ms || c.IdlePenalty(10*ms) != ms/2 {
		t.Errorf("candidate %+v: penalties %v after 100 ms, %v after 10 ms; want 1 ms and 0.5 ms", c, c.IdlePenalty(100*ms), c.IdlePenalty(10*ms))
	}
	in.Bundle.Models.Edge.SHA256 = "other"
	if c := dp.candidate("cand", ms); c.Latency != ms || len(c.Cold) != 0 {
		t.Errorf("candidate of an unmeasured bundle model %+v: want the predicted latency alone", c)
	}
}
