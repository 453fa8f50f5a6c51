package profiles

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// synthetic measures networks on an imaginary device whose kernels take
//
//	conv (any class): 500ns + F/100 ns,  gemm: 200ns,  reshape: 100ns,
//
// a run 2µs beyond its kernels, and whose profiler adds 1µs to each node.
type synthetic struct{ lo layout }

func (s synthetic) kernelTime(l *LayerSpec, k Kernel) float64 {
	switch k {
	case KernelConvNCHWc, KernelConvNCHWcIn, KernelConv:
		return 500 + s.lo.effectiveFLOPs(l, k)/100
	case KernelGemm:
		return 200
	case KernelReshape:
		return 100
	}
	return 0
}

func (s synthetic) measure(name string, layers []LayerSpec) ModelSample {
	m := ModelSample{Name: name, Layers: layers, Profiled: make([]time.Duration, len(layers)), Nodes: make([]int, len(layers))}
	total := 2000.0
	prev := false
	for i := range layers {
		k := s.lo.kernelOf(&layers[i], prev)
		prev = fuses(k)
		if k == KernelFused {
			continue
		}
		t := s.kernelTime(&layers[i], k)
		total += t
		m.Profiled[i], m.Nodes[i] = time.Duration(t+1000), 1
	}
	m.Latency = time.Duration(total)
	return m
}

func convNet(rng *rand.Rand, convs int) []LayerSpec {
	var layers []LayerSpec
	in := 1
	for range convs {
		out := 1 + rng.IntN(64)
		layers = append(layers,
			LayerSpec{Op: "Conv", InC: in, OutC: out, H: 14, W: 14, KH: 3, KW: 3, FLOPs: int64(2 * in * out * 9 * 196)},
			LayerSpec{Op: "BatchNormalization", InC: out, OutC: out},
			LayerSpec{Op: "Relu", InC: out, OutC: out})
		in = out
	}
	return append(layers, LayerSpec{Op: "Flatten", InC: in, OutC: in * 196}, LayerSpec{Op: "Gemm", InC: in * 196, OutC: 10})
}

func TestFitPredictorSynthetic(t *testing.T) {
	dev := synthetic{layout{block: 16, align: 4}}
	rng := rand.New(rand.NewPCG(1, 2))
	var probes, nets, held []ModelSample
	for i := range 200 {
		probes = append(probes, dev.measure("probe", convNet(rng, 1)))
		if i < 12 {
			nets = append(nets, dev.measure("net", convNet(rng, 2+rng.IntN(5))))
			held = append(held, dev.measure("held", convNet(rng, 2+rng.IntN(5))))
		}
	}
	p, err := FitPredictor(probes, nets, FitOptions{ChannelBlock: 16, ChannelAlign: 4, Batches: []BatchFactor{{8, 5}}})
	if err != nil {
		t.Fatal(err)
	}
	if p.ChannelBlock != 16 || p.ChannelAlign != 4 || p.Samples != 212 || len(p.Batches) != 1 {
		t.Errorf("predictor %+v", p)
	}
	rows, sum := p.EvaluateHeldOut(held)
	for _, r := range rows {
		if math.Abs(r.Error) > 0.02 {
			t.Errorf("%s: predicted %v, measured %v", r.Name, r.Predicted, r.Measured)
		}
	}
	if sum.Networks != 12 || sum.Within10 != 1 || sum.MedianError > 0.01 || p.FitError > 0.01 {
		t.Errorf("held out %+v, fit error %g: want every network within 1%%", sum, p.FitError)
	}
	if err := p.validate(); err != nil {
		t.Errorf("the fitted predictor does not validate: %v", err)
	}
}

// validate checks p as a profile's predictor section.
func (p *Predictor) validate() error {
	d := &Device{Name: "fit", Source: "test", Models: []Model{{Name: "m", Latency: 1}}, Predictor: p}
	return d.Validate()
}

func TestFitPredictorErrors(t *testing.T) {
	ok := ModelSample{Name: "ok", Layers: []LayerSpec{{Op: "Gemm"}}, Profiled: []time.Duration{1}, Nodes: []int{1}, Latency: 1}
	short, zero := ok, ok
	short.Nodes = nil
	zero.Latency = 0
	for _, tt := range []struct {
		name         string
		probes, nets []ModelSample
		want         string
	}{
		{"nothing", nil, nil, "no measured networks"},
		{"no node counts", []ModelSample{short}, nil, "sample 0 (ok): 1 profiled times and 0 node counts for 1 layers"},
		{"zero latency", []ModelSample{ok}, []ModelSample{zero}, "sample 1 (ok): latency 0s"},
	} {
		if _, err := FitPredictor(tt.probes, tt.nets, FitOptions{}); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestBatchFactors(t *testing.T) {
	ms := []Model{
		{Name: "a", Latency: 100, Batches: []BatchPoint{{1, 100}, {4, 300}, {8, 500}}},
		{Name: "b", Latency: 200, Batches: []BatchPoint{{1, 200}, {4, 500}}},
		{Name: "c", Latency: 50},
	}
	got := BatchFactors(ms)
	if len(got) != 1 || got[0] != (BatchFactor{Size: 4, Factor: 2.75}) {
		t.Errorf("BatchFactors = %v, want [{4 2.75}]: size 8 was measured for one model only", got)
	}
	if BatchFactors(ms[2:]) != nil {
		t.Error("factors without any batch curve")
	}
}

func TestEvaluateHeldOut(t *testing.T) {
	p := &Predictor{Kernels: []KernelModel{{Kernel: KernelGemm, Knots: []Knot{{0, 1000}}}}}
	layers := []LayerSpec{{Op: "Gemm"}}
	rows, sum := p.EvaluateHeldOut([]ModelSample{
		{Name: "a", Layers: layers, Latency: 1000},
		{Name: "b", Layers: layers, Latency: 1250},
		{Name: "c", Layers: layers, Latency: 950},
	})
	if rows[1].Error != -0.2 || rows[1].Predicted != 1000 {
		t.Errorf("row b %+v, want error -20%%", rows[1])
	}
	if sum.Networks != 3 || sum.Within10 != 0.6667 || sum.MedianError != 0.0526 {
		t.Errorf("summary %+v", sum)
	}
}

// TestFitPredictorNoisyInflation fits two networks whose latencies, as a few
// short runs on a busy machine give them, put the profiler's cost per node
// above every layer's own profiled time: the fit keeps the profiled times
// rather than fail on layers of no time at all.
func TestFitPredictorNoisyInflation(t *testing.T) {
	gemm := LayerSpec{Op: "Gemm", InC: 8, OutC: 4, FLOPs: 64}
	one := ModelSample{Name: "one", Layers: []LayerSpec{gemm}, Profiled: []time.Duration{100}, Nodes: []int{1}, Latency: 10000}
	three := ModelSample{Name: "three", Layers: []LayerSpec{gemm, gemm, gemm}, Profiled: []time.Duration{100, 100, 100}, Nodes: []int{1, 1, 1}, Latency: 1000}
	if d := profilerInflation([]ModelSample{one, three}); d <= 100 {
		t.Fatalf("inflation %g ns a node: the test needs it above the layers' 100 ns", d)
	}
	p, err := FitPredictor(nil, []ModelSample{one, three}, FitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Predict(one.Layers, 1); got <= 0 {
		t.Errorf("predicted %v for a network measured at %v", got, one.Latency)
	}
}
