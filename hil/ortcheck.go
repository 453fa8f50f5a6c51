package hil

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/tandem-edge/tandem/dnn/onnx/onnxpb"
)

// LinearModel encodes an ONNX model (IR version 8, opset 13) of a linear
// classifier over samples of the given shape:
//
//	logits = Flatten(x)·Wᵀ + b,   W [classes, ∏shape], b [classes]
//
// with input "x" of shape [N, shape...], a dynamic batch N, output "logits"
// [N, classes], and meta as its metadata_props. `tandem ort check` runs one
// to prove that ONNX Runtime works; tests use it as a model whose outputs
// are known.
func LinearModel(shape []int, w, b []float32, meta map[string]string) ([]byte, error) {
	k := 1
	for _, d := range shape {
		if d <= 0 {
			return nil, fmt.Errorf("hil: linear model: sample shape %v", shape)
		}
		k *= d
	}
	classes := len(b)
	if classes == 0 || len(w) != classes*k {
		return nil, fmt.Errorf("hil: linear model: %d weights and %d biases for %d inputs: want classes·%d and classes", len(w), len(b), k, k)
	}
	in := append([]int64{-1}, int64s(shape)...)
	g := &onnxpb.GraphProto{
		Name: proto.String("linear"),
		Node: []*onnxpb.NodeProto{
			node("Flatten", []string{"x"}, "flat", intAttr("axis", 1)),
			node("Gemm", []string{"flat", "W", "b"}, "logits", intAttr("transB", 1)),
		},
		Initializer: []*onnxpb.TensorProto{
			floatTensor("W", []int64{int64(classes), int64(k)}, w),
			floatTensor("b", []int64{int64(classes)}, b),
		},
		Input:  []*onnxpb.ValueInfoProto{floatValue("x", in...)},
		Output: []*onnxpb.ValueInfoProto{floatValue("logits", -1, int64(classes))},
	}
	return encodeModel(g, meta)
}

// encodeModel wraps a graph into a model of IR version 8, opset 13, the
// versions of the onnx.proto the onnxpb types come from.
func encodeModel(g *onnxpb.GraphProto, meta map[string]string) ([]byte, error) {
	m := &onnxpb.ModelProto{
		IrVersion:    proto.Int64(8),
		ProducerName: proto.String("tandem"),
		OpsetImport:  []*onnxpb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(13)}},
		Graph:        g,
	}
	keys := make([]string, 0, len(meta))
	for k := range meta {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		m.MetadataProps = append(m.MetadataProps, &onnxpb.StringStringEntryProto{Key: proto.String(k), Value: proto.String(meta[k])})
	}
	out, err := proto.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("hil: encoding model %s: %w", g.GetName(), err)
	}
	return out, nil
}

func node(op string, inputs []string, output string, attrs ...*onnxpb.AttributeProto) *onnxpb.NodeProto {
	return &onnxpb.NodeProto{OpType: proto.String(op), Name: proto.String(output), Input: inputs, Output: []string{output}, Attribute: attrs}
}

func intAttr(name string, v int64) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_INT.Enum(), I: proto.Int64(v)}
}

func floatTensor(name string, dims []int64, v []float32) *onnxpb.TensorProto {
	return &onnxpb.TensorProto{Name: proto.String(name), DataType: proto.Int32(int32(onnxpb.TensorProto_FLOAT)), Dims: dims, FloatData: v}
}

// floatValue describes a float32 tensor; a negative dimension is the
// symbolic batch dimension N.
func floatValue(name string, dims ...int64) *onnxpb.ValueInfoProto {
	shape := &onnxpb.TensorShapeProto{}
	for _, d := range dims {
		dim := &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: d}}
		if d < 0 {
			dim.Value = &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: "N"}
		}
		shape.Dim = append(shape.Dim, dim)
	}
	return &onnxpb.ValueInfoProto{
		Name: proto.String(name),
		Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{TensorType: &onnxpb.TypeProto_Tensor{
			ElemType: proto.Int32(int32(onnxpb.TensorProto_FLOAT)), Shape: shape}}},
	}
}

func int64s(v []int) []int64 {
	out := make([]int64, len(v))
	for i, x := range v {
		out[i] = int64(x)
	}
	return out
}

// CheckResult is what CheckORT found.
type CheckResult struct {
	ORTInfo
	MaxAbsError float64       // largest difference between ONNX Runtime's logits and Go's
	RunTime     time.Duration // one batch-1 run, the fastest of a few
}

// CheckORT loads ONNX Runtime (see InitORT) and runs a small linear model
// through it on one thread, comparing its output with the same arithmetic
// done in Go.
func CheckORT() (*CheckResult, error) {
	info, err := InitORT()
	if err != nil {
		return nil, err
	}
	const k, classes = 12, 3
	shape := []int{1, 3, 4}
	w := make([]float32, classes*k)
	for i := range w {
		w[i] = float32(i%7) - 3
	}
	b := []float32{0.5, -1, 2}
	model, err := LinearModel(shape, w, b, nil)
	if err != nil {
		return nil, err
	}
	s, err := OpenBytes("check.onnx", model, Options{IntraOpThreads: 1})
	if err != nil {
		return nil, err
	}
	defer s.Close()

	x := make([]float32, 2*k)
	for i := range x {
		x[i] = float32(i) / 24
	}
	got := make([]float32, 2*classes)
	if err := s.Run(got, x, 2); err != nil {
		return nil, err
	}
	res := &CheckResult{ORTInfo: info}
	for n := range 2 {
		for c := range classes {
			want := float64(b[c])
			for i := range k {
				want += float64(x[n*k+i]) * float64(w[c*k+i])
			}
			res.MaxAbsError = max(res.MaxAbsError, math.Abs(float64(got[n*classes+c])-want))
		}
	}
	if res.MaxAbsError > 1e-4 {
		return res, fmt.Errorf("hil: ONNX Runtime %s at %s computes a linear model wrongly: logits off by %g", info.Version, info.Library, res.MaxAbsError)
	}
	one := got[:classes]
	times := make([]time.Duration, 5)
	for i := range times {
		start := time.Now()
		if err := s.Run(one, x[:k], 1); err != nil {
			return nil, err
		}
		times[i] = time.Since(start)
	}
	res.RunTime = slices.Min(times)
	return res, nil
}
