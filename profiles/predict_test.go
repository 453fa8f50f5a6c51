package profiles

import (
	"testing"
	"time"
)

func TestKernelOf(t *testing.T) {
	avx512 := layout{block: 16, align: 4}
	tests := []struct {
		name       string
		l          LayerSpec
		lo         layout
		prevFusing bool
		want       Kernel
	}{
		{"input layer", LayerSpec{Op: "Conv", InC: 1, OutC: 16}, avx512, false, KernelConvNCHWcIn},
		{"few inputs", LayerSpec{Op: "Conv", InC: 15, OutC: 7}, avx512, false, KernelConvNCHWcIn},
		{"aligned", LayerSpec{Op: "Conv", InC: 32, OutC: 20}, avx512, false, KernelConvNCHWc},
		{"padded to a block", LayerSpec{Op: "Conv", InC: 36, OutC: 20}, avx512, false, KernelConvNCHWc},
		{"unaligned", LayerSpec{Op: "Conv", InC: 18, OutC: 20}, avx512, false, KernelConv},
		{"grouped", LayerSpec{Op: "Conv", InC: 32, OutC: 32, Groups: 32}, avx512, false, KernelConv},
		{"no blocked kernels", LayerSpec{Op: "Conv", InC: 32, OutC: 32}, layout{}, false, KernelConv},
		{"bn after conv", LayerSpec{Op: "BatchNormalization"}, avx512, true, KernelFused},
		{"bn alone", LayerSpec{Op: "BatchNormalization"}, avx512, false, KernelElementwise},
		{"residual sum", LayerSpec{Op: "Add"}, avx512, true, KernelFused},
		{"softmax", LayerSpec{Op: "Softmax"}, avx512, true, KernelElementwise},
		{"dense", LayerSpec{Op: "Gemm"}, avx512, true, KernelGemm},
		{"blocked pool", LayerSpec{Op: "MaxPool", OutC: 32}, avx512, true, KernelPoolNCHWc},
		{"plain pool", LayerSpec{Op: "MaxPool", OutC: 18}, avx512, true, KernelPool},
		{"flatten", LayerSpec{Op: "Flatten"}, avx512, true, KernelReshape},
		{"global pool", LayerSpec{Op: "GlobalAveragePool"}, avx512, true, KernelGlobalPool},
	}
	for _, tt := range tests {
		if got := tt.lo.kernelOf(&tt.l, tt.prevFusing); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, got, tt.want)
		}
	}
}

func TestEffectiveFLOPs(t *testing.T) {
	lo := layout{block: 16, align: 4}
	tests := []struct {
		l    LayerSpec
		k    Kernel
		want float64
	}{
		{LayerSpec{InC: 3, OutC: 8, FLOPs: 1000}, KernelConvNCHWcIn, 2000}, // OutC 8 → 16
		{LayerSpec{InC: 20, OutC: 32, FLOPs: 1000}, KernelConvNCHWc, 1600}, // InC 20 → 32
		{LayerSpec{InC: 18, OutC: 20, FLOPs: 1000}, KernelConv, 1000},
	}
	for _, tt := range tests {
		if got := lo.effectiveFLOPs(&tt.l, tt.k); got != tt.want {
			t.Errorf("%+v as %s: %g, want %g", tt.l, tt.k, got, tt.want)
		}
	}
}

func TestKernelModelAt(t *testing.T) {
	m := KernelModel{Knots: []Knot{{100, 10}, {200, 30}, {400, 40}}}
	tests := []struct{ f, want float64 }{
		{100, 10}, {150, 20}, {200, 30}, {300, 35}, {400, 40},
		{50, 0},   // below the first knot: the first segment's line
		{600, 50}, // beyond the last: the last segment's line
	}
	for _, tt := range tests {
		if got := m.at(tt.f); got != tt.want {
			t.Errorf("at(%g) = %g, want %g", tt.f, got, tt.want)
		}
	}
	if got := (&KernelModel{Knots: []Knot{{5, 7}}}).at(1e9); got != 7 {
		t.Errorf("one knot: %g, want the constant 7", got)
	}
	neg := KernelModel{Knots: []Knot{{100, 10}, {200, 30}}}
	if got := neg.predict(0, 0); got != 0 {
		t.Errorf("predict below zero: %g, want 0", got)
	}
}

func TestBatchFactor(t *testing.T) {
	p := &Predictor{Batches: []BatchFactor{{2, 1.5}, {4, 2.5}, {8, 4.5}}}
	for _, tt := range []struct {
		b    int
		want float64
	}{{0, 1}, {1, 1}, {2, 1.5}, {3, 2}, {8, 4.5}, {16, 8.5}} {
		if got := p.batchFactor(tt.b); got != tt.want {
			t.Errorf("batchFactor(%d) = %g, want %g", tt.b, got, tt.want)
		}
	}
	if got := (&Predictor{}).batchFactor(5); got != 5 {
		t.Errorf("no batch curve: factor %g, want 5 runs of batch 1", got)
	}
	if got := (&Predictor{Batches: []BatchFactor{{4, 3}}}).batchFactor(8); got != 6 {
		t.Errorf("one point: factor %g, want 6", got)
	}
}

func TestPredict(t *testing.T) {
	p := &Predictor{ChannelBlock: 16, ChannelAlign: 4, Overhead: 1000,
		Batches: []BatchFactor{{4, 3}},
		Kernels: []KernelModel{
			{Kernel: KernelConvNCHWcIn, Knots: []Knot{{0, 0}, {1e6, 10000}}},
			{Kernel: KernelConv, Knots: []Knot{{0, 500}, {1e6, 20500}}},
			{Kernel: KernelGemm, Knots: []Knot{{0, 300}}, NsPerByte: 0.5},
		}}
	layers := []LayerSpec{
		{Op: "Conv", InC: 1, OutC: 8, FLOPs: 500_000},     // blocked: 1e6 effective FLOPs → 10µs
		{Op: "BatchNormalization", InC: 8, OutC: 8},       // fused
		{Op: "Relu", InC: 8, OutC: 8},                     // fused
		{Op: "Conv", InC: 8, OutC: 16, FLOPs: 1_000_000},  // blocked-input class from the model of conv-nchwc-in: 10µs
		{Op: "Conv", InC: 18, OutC: 16, FLOPs: 1_000_000}, // plain: 20.5µs
		{Op: "MaxPool", InC: 16, OutC: 16, FLOPs: 4000},   // no model: 0
		{Op: "Gemm", InC: 16, OutC: 10, Bytes: 200},       // 300ns + 100ns
	}
	dst := make([]time.Duration, len(layers))
	got := p.PredictLayers(dst, layers, 1)
	want := []time.Duration{10000, 0, 0, 10000, 20500, 0, 400}
	for i := range want {
		if dst[i] != want[i] {
			t.Errorf("layer %d (%s): %v, want %v", i, layers[i].Op, dst[i], want[i])
		}
	}
	if got != 41900 {
		t.Errorf("total %v, want 41.9µs (the layers and 1µs overhead)", got)
	}
	if b4 := p.Predict(layers, 4); b4 != 3*got {
		t.Errorf("batch 4: %v, want 3 × %v", b4, got)
	}
	d := &Device{Name: "x"}
	if _, err := d.Predict(layers, 1); err == nil {
		t.Error("Device.Predict without a predictor: no error")
	}
	d.Predictor = p
	if v, err := d.Predict(layers, 1); err != nil || v != got {
		t.Errorf("Device.Predict = %v, %v", v, err)
	}
}
