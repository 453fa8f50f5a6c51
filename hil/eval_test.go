package hil

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/tandem-edge/tandem/dnn/data"
	"github.com/tandem-edge/tandem/dnn/onnx/onnxpb"
)

// evalSet holds five 1x2x2 samples; under the identity model (logits = x)
// four of them are classified right, the third is not.
func evalSet() *data.Set {
	return &data.Set{
		Name: "five", Shape: []int{1, 2, 2}, Classes: 4,
		X: []float32{
			1, 0, 0, 0,
			0, 0.5, 0, 0,
			0, 0, 0, 1,
			0.2, 0.1, 0.9, 0.3,
			0, 0, 0, 0.7,
		},
		Y: []int32{0, 1, 2, 2, 3},
	}
}

var identity4 = []float32{1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1}

// withFixedBatch rewrites a model's batch dimension from dynamic to n.
func withFixedBatch(t *testing.T, model []byte, n int64) []byte {
	t.Helper()
	var m onnxpb.ModelProto
	if err := proto.Unmarshal(model, &m); err != nil {
		t.Fatal(err)
	}
	m.Graph.Input[0].Type.GetTensorType().Shape.Dim[0].Value = &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: n}
	out, err := proto.Marshal(&m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestEvaluate(t *testing.T) {
	requireORT(t)
	// The bias on class 3 wins every sample unless the input is normalised
	// with mean 0.5 and std 0.25, which scales the pixels by 4: then the
	// accuracy is that of the identity model again.
	shifted := []float32{0, 0, 0, 1.5}
	norm := map[string]string{MetaInputMean: "0.5", MetaInputStd: "0.25"}
	tests := []struct {
		name       string
		bias       []float32
		meta       map[string]string
		opts       EvalOptions
		fixedBatch int64
		accuracy   float64
		pred       []int32
	}{
		{name: "identity", bias: make([]float32, 4), opts: EvalOptions{Batch: 2}, accuracy: 0.8, pred: []int32{0, 1, 3, 2, 3}},
		{name: "unnormalised", bias: shifted, opts: EvalOptions{Batch: 3}, accuracy: 0.2, pred: []int32{3, 3, 3, 3, 3}},
		{name: "normalised by metadata", bias: shifted, meta: norm, accuracy: 0.8, pred: []int32{0, 1, 3, 2, 3}},
		{name: "normalised by options", bias: shifted, opts: EvalOptions{Mean: []float32{0.5}, Std: []float32{0.25}}, accuracy: 0.8},
		{name: "fixed batch of 3", bias: make([]float32, 4), fixedBatch: 3, accuracy: 0.8, pred: []int32{0, 1, 3, 2, 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			model, err := LinearModel([]int{1, 2, 2}, identity4, tt.bias, tt.meta)
			if err != nil {
				t.Fatal(err)
			}
			if tt.fixedBatch > 0 {
				model = withFixedBatch(t, model, tt.fixedBatch)
			}
			s, err := OpenBytes(tt.name, model, Options{IntraOpThreads: 1})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			tt.opts.LatencyRuns, tt.opts.Warmup = 30, 5
			res, err := Evaluate(s, evalSet(), tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if res.Samples != 5 || math.Abs(res.Accuracy-tt.accuracy) > 1e-9 || res.Correct != int(tt.accuracy*5+0.5) {
				t.Errorf("%d of %d right (%g), want accuracy %g", res.Correct, res.Samples, res.Accuracy, tt.accuracy)
			}
			if tt.pred != nil && !slices.Equal(res.Pred, tt.pred) {
				t.Errorf("predictions %v, want %v", res.Pred, tt.pred)
			}
			l := res.Latency
			if tt.fixedBatch > 1 {
				if l.Runs != 0 {
					t.Errorf("%d latency runs on a model fixed at batch %d", l.Runs, tt.fixedBatch)
				}
				return
			}
			if l.Runs != 30 || len(l.Times) != 30 || !(0 < l.P50 && l.P50 <= l.P90 && l.P90 <= l.P99 && l.P99 <= l.Max) {
				t.Errorf("latency %+v", l)
			}
		})
	}
}

func TestEvaluateErrors(t *testing.T) {
	requireORT(t)
	s := linearSession(t, []int{1, 2, 2}, identity4, make([]float32, 4), nil, Options{})
	wide := evalSet()
	wide.Classes = 7
	tests := []struct {
		name    string
		set     *data.Set
		opts    EvalOptions
		wantErr string
	}{
		{name: "shape", set: &data.Set{Name: "big", Shape: []int{1, 3, 3}, Classes: 2, X: make([]float32, 9), Y: []int32{0}},
			wantErr: "dataset big has samples 1x3x3, model expects 1x2x2"},
		{name: "classes", set: wide, wantErr: "gives 4 outputs per sample but dataset five has 7 classes"},
		{name: "empty", set: &data.Set{Name: "none", Shape: []int{1, 2, 2}}, wantErr: "no samples"},
		{name: "bad normalisation", set: evalSet(), opts: EvalOptions{Mean: []float32{0}, Std: []float32{-1}}, wantErr: "deviation -1 is not positive"},
	}
	for _, tt := range tests {
		_, err := Evaluate(s, tt.set, tt.opts)
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.wantErr)
		}
	}
}

func TestNewLatency(t *testing.T) {
	ms := func(v ...float64) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x * float64(time.Millisecond))
		}
		return out
	}
	tests := []struct {
		name                     string
		times                    []time.Duration
		mean, p50, p90, p99, max float64
	}{
		{name: "one", times: ms(2), mean: 2, p50: 2, p90: 2, p99: 2, max: 2},
		{name: "unsorted", times: ms(4, 1, 3, 2), mean: 2.5, p50: 2.5, p90: 3.7, p99: 3.97, max: 4},
		{name: "eleven", times: ms(10, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9), mean: 5, p50: 5, p90: 9, p99: 9.9, max: 10},
	}
	for _, tt := range tests {
		l := NewLatency(tt.times)
		got := []float64{Milliseconds(l.Mean), Milliseconds(l.P50), Milliseconds(l.P90), Milliseconds(l.P99), Milliseconds(l.Max)}
		want := []float64{tt.mean, tt.p50, tt.p90, tt.p99, tt.max}
		for i := range got {
			if math.Abs(got[i]-want[i]) > 1e-6 {
				t.Errorf("%s: mean, p50, p90, p99, max = %v, want %v", tt.name, got, want)
				break
			}
		}
	}
	if l := NewLatency(nil); l.Runs != 0 || l.P99 != 0 {
		t.Errorf("no runs: %+v", l)
	}
}
