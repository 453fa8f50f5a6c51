package compress

import (
	"math"
	"testing"

	"github.com/tandem-edge/tandem/bundles"
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
