package offload

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestThreshold(t *testing.T) {
	s := &Sample{MaxProb: 0.6, Margin: 0.3, Entropy: 0.9}
	tests := []struct {
		feature Feature
		t       float64
		want    Decision
	}{
		{MaxProb, 0.7, Cloud},
		{MaxProb, 0.6, Edge}, // equal is sure enough
		{MaxProb, 0.5, Edge},
		{Margin, 0.31, Cloud},
		{Margin, 0.3, Edge},
		{Entropy, 0.8, Cloud},
		{Entropy, 0.9, Edge},
		{Entropy, 1.2, Edge},
	}
	for _, tt := range tests {
		p, err := NewThreshold(tt.feature, tt.t)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.Decide(s, &Context{}); got != tt.want {
			t.Errorf("%v threshold %v: Decide = %v, want %v", tt.feature, tt.t, got, tt.want)
		}
		if !p.EdgeFirst() || p.Name() != KindThreshold {
			t.Errorf("%v: EdgeFirst %v, Name %q", tt.feature, p.EdgeFirst(), p.Name())
		}
	}
}

func TestNewThresholdRejects(t *testing.T) {
	tests := []struct {
		feature Feature
		t       float64
	}{
		{MaxProb, 1.5}, {MaxProb, -0.1}, {Margin, math.NaN()}, {Entropy, -1}, {Feature(9), 0.5},
	}
	for _, tt := range tests {
		if _, err := NewThreshold(tt.feature, tt.t); err == nil {
			t.Errorf("NewThreshold(%v, %v) did not fail", tt.feature, tt.t)
		}
	}
}

func TestOracle(t *testing.T) {
	tests := []struct {
		edge, cloud bool
		want        Decision
	}{
		{true, true, Edge},
		{true, false, Edge},
		{false, true, Cloud},
		{false, false, Edge}, // the cloud would not help
	}
	for _, tt := range tests {
		s := &Sample{EdgeCorrect: tt.edge, CloudCorrect: tt.cloud}
		if got := (Oracle{}).Decide(s, &Context{}); got != tt.want {
			t.Errorf("edge %v cloud %v: Decide = %v, want %v", tt.edge, tt.cloud, got, tt.want)
		}
	}
}

func TestFixedPolicies(t *testing.T) {
	tests := []struct {
		p         Policy
		edgeFirst bool
		want      Decision
	}{
		{EdgeOnly{}, true, Edge},
		{CloudOnly{}, false, Cloud},
	}
	for _, tt := range tests {
		if tt.p.EdgeFirst() != tt.edgeFirst || tt.p.Decide(&Sample{}, &Context{}) != tt.want {
			t.Errorf("%s: EdgeFirst %v, Decide %v", tt.p.Name(), tt.p.EdgeFirst(), tt.p.Decide(&Sample{}, &Context{}))
		}
	}
}

func TestRandom(t *testing.T) {
	const n = 100000
	tests := []struct{ p float64 }{{0}, {0.3}, {1}}
	for _, tt := range tests {
		r, err := NewRandom(tt.p, rand.NewPCG(7, 8))
		if err != nil {
			t.Fatal(err)
		}
		cloud := 0
		for range n {
			if r.Decide(&Sample{}, &Context{}) == Cloud {
				cloud++
			}
		}
		// Binomial standard error at p = 0.3, n = 1e5: 0.00145; allow 4 of them.
		if got := float64(cloud) / n; math.Abs(got-tt.p) > 0.006 {
			t.Errorf("p = %v: offload rate %v", tt.p, got)
		}
	}
}

func TestRandomIsItsSeed(t *testing.T) {
	a, _ := NewRandom(0.5, rand.NewPCG(3, 4))
	b, _ := NewRandom(0.5, rand.NewPCG(3, 4))
	for i := range 1000 {
		if a.Decide(nil, nil) != b.Decide(nil, nil) {
			t.Fatalf("draw %d differs between equal seeds", i)
		}
	}
}

func TestNewRandomRejects(t *testing.T) {
	if _, err := NewRandom(1.1, rand.NewPCG(1, 1)); err == nil {
		t.Error("p = 1.1 accepted")
	}
	if _, err := NewRandom(0.5, nil); err == nil {
		t.Error("nil source accepted")
	}
}

// Evaluate bounds each policy's accuracy less cloud-only's from the samples
// it keeps at the edge, where alone the two can differ.
func TestEvaluateBoundsTheLeadOverTheCloud(t *testing.T) {
	// 100 samples: on 10 the edge alone is right, on 4 the cloud alone.
	samples := make([]Sample, 100)
	for i := range samples {
		samples[i] = Sample{MaxProb: 0.99, EdgeCorrect: i >= 4, CloudCorrect: i < 4 || i >= 14}
	}
	half := 1.959963984540054 * math.Sqrt((14-36.0/100)*100/99) / 100
	tests := []struct {
		p         Policy
		low, high float64
	}{
		{EdgeOnly{}, 0.06 - half, 0.06 + half},
		{CloudOnly{}, 0, 0},
		{Oracle{}, 0.10 - math.Sqrt(0.09*100/99)*1.959963984540054/10, 0.10 + math.Sqrt(0.09*100/99)*1.959963984540054/10},
	}
	for _, tc := range tests {
		r := Evaluate(tc.p, "", samples)
		if r.VsCloud == nil {
			t.Fatalf("%s: no interval against the cloud", tc.p.Name())
		}
		if math.Abs(r.VsCloud.Low-tc.low) > 1e-12 || math.Abs(r.VsCloud.High-tc.high) > 1e-12 {
			t.Errorf("%s: vs cloud [%.6f, %.6f], want [%.6f, %.6f]", tc.p.Name(), r.VsCloud.Low, r.VsCloud.High, tc.low, tc.high)
		}
	}
}
