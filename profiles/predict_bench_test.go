package profiles

import (
	"testing"
	"time"
)

// benchPredictor is a predictor as tandem profile --sweep-widths fitted it
// on an AVX-512 machine (rounded).
var benchPredictor = &Predictor{ChannelBlock: 16, ChannelAlign: 4, Overhead: 200,
	Kernels: []KernelModel{
		{Kernel: KernelConvNCHWc, Knots: []Knot{{25088, 1153}, {1354752, 12925}, {3612672, 33264}, {7225344, 68248}}},
		{Kernel: KernelConvNCHWcIn, Knots: []Knot{{1568, 1354}, {225792, 3911}, {451584, 5349}, {1580544, 17574}, {6773760, 73927}}, NsPerByte: 0.0011},
		{Kernel: KernelConv, Knots: []Knot{{14994, 1640}, {370440, 13405}, {989604, 21267}, {2032128, 35965}, {5729472, 80671}}},
		{Kernel: KernelGemm, Knots: []Knot{{4, 93}, {160, 186}, {125440, 6542}}},
		{Kernel: KernelPoolNCHWc, Knots: []Knot{{3136, 386}, {25088, 1831}}},
		{Kernel: KernelPool, Knots: []Knot{{196, 181}, {4704, 1905}, {24304, 5947}}},
		{Kernel: KernelGlobalPool, Knots: []Knot{{49, 166}, {12544, 1300}}, NsPerByte: 0.386},
		{Kernel: KernelReshape, Knots: []Knot{{0, 151}}},
	}}

// resnet8 is the zoo's ResNet-8 on 28×28 inputs, pruned: 31 layers.
var resnet8 = func() []LayerSpec {
	conv := func(in, out, h, k int) LayerSpec {
		return LayerSpec{Op: "Conv", InC: in, OutC: out, H: h, W: h, KH: k, KW: k, Stride: 1, Groups: 1, FLOPs: int64(2 * in * out * k * k * h * h)}
	}
	ew := func(op string, c, h int) LayerSpec {
		return LayerSpec{Op: op, InC: c, OutC: c, H: h, W: h, FLOPs: int64(c * h * h)}
	}
	block := func(in, out, h int, down bool) []LayerSpec {
		l := []LayerSpec{conv(in, out, h, 3), ew("BatchNormalization", out, h), ew("Relu", out, h), conv(out, out, h, 3), ew("BatchNormalization", out, h)}
		if down {
			l = append(l, conv(in, out, h, 1), ew("BatchNormalization", out, h))
		}
		return append(l, ew("Add", out, h), ew("Relu", out, h))
	}
	l := []LayerSpec{conv(1, 12, 28, 3), ew("BatchNormalization", 12, 28), ew("Relu", 12, 28)}
	l = append(l, block(12, 9, 28, false)...)
	l = append(l, block(12, 26, 14, true)...)
	l = append(l, block(26, 48, 7, true)...)
	return append(l, LayerSpec{Op: "GlobalAveragePool", InC: 48, OutC: 48, H: 1, W: 1, FLOPs: 48 * 49},
		LayerSpec{Op: "Flatten", InC: 48, OutC: 48, H: 1, W: 1}, LayerSpec{Op: "Gemm", InC: 48, OutC: 10, H: 1, W: 1, FLOPs: 960})
}()

var sinkDuration time.Duration

func BenchmarkPredict(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		sinkDuration = benchPredictor.Predict(resnet8, 1)
	}
}

func BenchmarkPredictLayers(b *testing.B) {
	dst := make([]time.Duration, len(resnet8))
	b.ReportAllocs()
	for b.Loop() {
		sinkDuration = benchPredictor.PredictLayers(dst, resnet8, 8)
	}
}
