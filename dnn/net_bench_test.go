package dnn

import (
	"math/rand/v2"
	"testing"
)

const (
	benchTrainBatch = 128
	benchInferBatch = 1
)

var fashionShape = []int{1, 28, 28}

func BenchmarkTrainStepVGG(b *testing.B)      { benchTrainStep(b, "vgg", benchTrainBatch) }
func BenchmarkTrainStepResNet(b *testing.B)   { benchTrainStep(b, "resnet", benchTrainBatch) }
func BenchmarkTrainStepResNet20(b *testing.B) { benchTrainStep(b, "resnet20", benchTrainBatch) }

// BenchmarkTrainStepVGG13 is the built-in bundle's heavy model, the one
// make bundle trains and tandem compress prunes and fine-tunes.
func BenchmarkTrainStepVGG13(b *testing.B) { benchTrainStep(b, "vgg13", benchTrainBatch) }
func BenchmarkForwardVGG(b *testing.B)     { benchForward(b, "vgg", benchInferBatch) }
func BenchmarkForwardVGGBatch128(b *testing.B) {
	benchForward(b, "vgg", benchTrainBatch)
}

// benchInput returns a model of arch and a batch of random pixels and labels.
func benchInput(b *testing.B, arch string, batch int) (*Net, []float32, []int32) {
	b.Helper()
	g, err := Zoo(arch, fashionShape, 10, 1, 1)
	if err != nil {
		b.Fatal(err)
	}
	net, err := NewNet(g, batch)
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	x := make([]float32, batch*net.InputSize())
	for i := range x {
		x[i] = rng.Float32()
	}
	y := make([]int32, batch)
	for i := range y {
		y[i] = int32(rng.IntN(10))
	}
	return net, x, y
}

// benchTrainStep times forward, loss, backward and an SGD update. GFLOP/s
// counts a training step as three forward passes (forward, and backward's
// two products per layer), the usual convention.
func benchTrainStep(b *testing.B, arch string, batch int) {
	net, x, y := benchInput(b, arch, batch)
	flops, _ := net.Graph().FLOPs()
	logits := make([]float32, batch*10)
	dlogits := make([]float32, batch*10)
	opt := &SGD{Momentum: 0.9, WeightDecay: 5e-4}
	step := func() {
		net.Forward(logits, x, batch, true)
		SoftmaxCrossEntropy(dlogits, logits, y, 10, 0)
		net.Backward(nil, dlogits, batch)
		opt.Step(net.Params(), 0.01)
	}
	step() // allocates gradients and optimizer state
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for b.Loop() {
		step()
	}
	cpu := cpuTime() - cpu0
	b.ReportMetric(3*float64(flops)*float64(batch)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	b.ReportMetric(float64(batch)*float64(b.N)/b.Elapsed().Seconds(), "images/s")
	b.ReportMetric(cpu.Seconds()*1e3/float64(b.N), "cpu-ms/op")
}

func benchForward(b *testing.B, arch string, batch int) {
	net, x, _ := benchInput(b, arch, batch)
	flops, _ := net.Graph().FLOPs()
	logits := make([]float32, batch*10)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for b.Loop() {
		net.Forward(logits, x, batch, false)
	}
	cpu := cpuTime() - cpu0
	b.ReportMetric(float64(flops)*float64(batch)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	b.ReportMetric(cpu.Seconds()*1e3/float64(b.N), "cpu-ms/op")
}

// BenchmarkSgemm is the GEMM library's rate on the shape of a 64-channel
// 3×3 convolution over a chunk of 7×7 planes (M 64, K 576, N 2 048): the
// ceiling a training step's GFLOP/s is read against, measured beside it.
func BenchmarkSgemm(b *testing.B) {
	const m, k, n = 64, 576, 2048
	rng := rand.New(rand.NewPCG(1, 2))
	a, x, c := make([]float32, m*k), make([]float32, k*n), make([]float32, m*n)
	for i := range a {
		a[i] = rng.Float32()
	}
	for i := range x {
		x[i] = rng.Float32()
	}
	b.ResetTimer()
	for range b.N {
		sgemm(false, false, m, n, k, 1, a, k, x, n, 0, c, n)
	}
	b.ReportMetric(2*m*k*n*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}
