package compress

import (
	"math"
	"testing"
	"time"

	"github.com/tandem-edge/tandem/bundles"
	"github.com/tandem-edge/tandem/profiles"
	"github.com/tandem-edge/tandem/scenarios"
)

func TestParityThreshold(t *testing.T) {
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
		conf float64
		tol  float64
		want float64
	}{
		{"the edge is as good already", []bundles.Outcome{o(0.9, true, true), o(0.5, true, false)}, 0.5, 0, 0},
		// Offloading the least sure (0.3, edge wrong, cloud right) is enough.
		{"one offload", []bundles.Outcome{o(0.9, true, true), o(0.3, false, true), o(0.6, true, true)}, 0.5, 0, 0.45},
		// The least sure is right on the edge and wrong in the cloud:
		// sending it costs one, so three must go before the cascade
		// catches up.
		{"past a loss", []bundles.Outcome{o(0.2, true, false), o(0.4, false, true), o(0.7, false, true), o(0.9, true, true)}, 0.5, 0, 0.8},
		{"everything", []bundles.Outcome{o(0.2, false, true), o(0.4, false, true)}, 0.5, 0, 1},
		// Parity after one offload, but a resample that draws the sure
		// mistake (0.95, edge wrong, cloud right) more often than the
		// edge's lone win (0.5) needs everything sent: so does the
		// 95th percentile, not the median.
		{"sure mistake, median", []bundles.Outcome{o(0.1, false, true), o(0.5, true, false), o(0.8, true, true), o(0.95, false, true)}, 0.5, 0, 0.3},
		{"sure mistake, 95%", []bundles.Outcome{o(0.1, false, true), o(0.5, true, false), o(0.8, true, true), o(0.95, false, true)}, 0.95, 0, 1},
		// One image in three may be lost: the least sure need not go.
		{"one offload, tolerated", []bundles.Outcome{o(0.9, true, true), o(0.3, false, true), o(0.6, true, true)}, 0.5, 1.0 / 3, 0},
	}
	for _, c := range cases {
		if got := parityThreshold(c.outs, c.conf, c.tol); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("%s: threshold %v, want %v", c.name, got, c.want)
		}
	}
}

// A candidate borrows a measured model's cold curve, scaled to its own
// back-to-back latency, and pays the same share of it after idling: the
// heavy model's when the edge profile has it, else the bundle's edge
// model's, else none.
func TestCandidateBorrowsColdCurve(t *testing.T) {
	const heavySum = "3f2a000000000000000000000000000000000000000000000000000000000000"
	const edgeSum = "7c1b000000000000000000000000000000000000000000000000000000000000"
	ms := time.Millisecond
	heavy := profiles.Model{Name: "b/heavy", SHA256: heavySum, Latency: 2 * ms, Spread: 0.1,
		Cold: []profiles.ColdLatency{{Gap: 10 * ms, Latency: 3 * ms, Runs: 5}, {Gap: 100 * ms, Latency: 4 * ms, Runs: 5}}}
	edge := profiles.Model{Name: "b/edge", SHA256: edgeSum, Latency: 1 * ms, Spread: 0.2,
		Cold: []profiles.ColdLatency{{Gap: 10 * ms, Latency: 3 * ms, Runs: 5}}}
	cases := []struct {
		name                  string
		measured              []profiles.Model
		heavySHA, edgeSHA     string
		spread                float64
		after100ms, after10ms time.Duration
	}{
		{"the heavy model's, measured", []profiles.Model{edge, heavy}, heavySum, edgeSum, 0.1, ms, ms / 2},
		{"the edge model's when the heavy one is not measured", []profiles.Model{edge}, heavySum, edgeSum, 0.2, 2 * ms, 2 * ms},
		{"nothing measured", []profiles.Model{heavy, edge}, "other", "another", 0, 0, 0},
	}
	for _, c := range cases {
		in := &scenarios.Inputs{Bundle: &bundles.Bundle{}, EdgeDevice: &profiles.Device{Models: c.measured}}
		in.Bundle.Models.Heavy.SHA256, in.Bundle.Models.Edge.SHA256 = c.heavySHA, c.edgeSHA
		dp := &deployer{in: in}
		got := dp.candidate("cand", ms)
		if got.Latency != ms || got.Spread != c.spread || got.IdlePenalty(100*ms) != c.after100ms || got.IdlePenalty(10*ms) != c.after10ms {
			t.Errorf("%s: candidate %+v: spread %v, penalties %v after 100 ms and %v after 10 ms; want %v, %v and %v",
				c.name, got, got.Spread, got.IdlePenalty(100*ms), got.IdlePenalty(10*ms), c.spread, c.after100ms, c.after10ms)
		}
	}
}

func TestThresholdRule(t *testing.T) {
	for _, tc := range []struct {
		conf, tol float64
		want      string
	}{
		{0.5, 0, "max_prob, the lowest offload rate at least as accurate as cloud-only (validation)"},
		{0.95, 0, "max_prob, the offload rate at least as accurate as cloud-only in 0.95 of 500 bootstrap resamples (validation)"},
		{0.5, 0.001, "max_prob, the lowest offload rate within 0.1 points of cloud-only's accuracy (validation)"},
	} {
		if got := thresholdRule(tc.conf, tc.tol); got != tc.want {
			t.Errorf("confidence %g, tolerance %g: %q, want %q", tc.conf, tc.tol, got, tc.want)
		}
	}
}
