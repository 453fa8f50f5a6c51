package hil

import (
	"testing"

	"github.com/tandem-edge/tandem/dnn/data"
	"github.com/tandem-edge/tandem/dnn/data/datatest"
)

// centroidModel is the nearest-centroid classifier of a training set as a
// linear model: the class c whose mean image μ_c is nearest x maximises
//
//	x·μ_c − ½‖μ_c‖²
func centroidModel(t *testing.T, train *data.Set) []byte {
	t.Helper()
	k := train.SampleSize()
	w := make([]float32, train.Classes*k)
	count := make([]int, train.Classes)
	for i := range train.Len() {
		c := int(train.Y[i])
		count[c]++
		for j, v := range train.Sample(i) {
			w[c*k+j] += v
		}
	}
	b := make([]float32, train.Classes)
	for c := range train.Classes {
		for j := range k {
			w[c*k+j] /= float32(count[c])
			b[c] -= w[c*k+j] * w[c*k+j] / 2
		}
	}
	model, err := LinearModel(train.Shape, w, b, nil)
	if err != nil {
		t.Fatal(err)
	}
	return model
}

// TestEvaluateFashionMNIST runs a nearest-centroid classifier over the
// Fashion-MNIST test set: real data through ONNX Runtime end to end.
func TestEvaluateFashionMNIST(t *testing.T) {
	if testing.Short() {
		t.Skip("reads all of Fashion-MNIST; runs without -short")
	}
	requireORT(t)
	d := datatest.Load(t, data.FashionMNIST)
	sp, err := d.Split(data.DefaultSplit)
	if err != nil {
		t.Fatal(err)
	}
	s, err := OpenBytes("centroids.onnx", centroidModel(t, sp.Train), Options{IntraOpThreads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	res, err := Evaluate(s, sp.Test, EvalOptions{Batch: 256})
	if err != nil {
		t.Fatal(err)
	}
	// Nearest centroid is known to reach about 68% on Fashion-MNIST.
	if res.Samples != 10000 || res.Accuracy < 0.6 || res.Accuracy > 0.75 {
		t.Errorf("accuracy %.4f on %d samples, want about 0.68 on 10000", res.Accuracy, res.Samples)
	}
	l := res.Latency
	t.Logf("nearest centroid: accuracy %.4f; batch-1 latency over %d runs: p50 %.4f ms, p90 %.4f ms, p99 %.4f ms, mean %.4f ms",
		res.Accuracy, l.Runs, Milliseconds(l.P50), Milliseconds(l.P90), Milliseconds(l.P99), Milliseconds(l.Mean))
}
