package onnx

import (
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/tandem-edge/tandem/dnn"
	"github.com/tandem-edge/tandem/dnn/onnx/onnxpb"
)

// The format Encode writes.
const (
	IRVersion = 8  // ONNX 1.12
	Opset     = 13 // default domain
	Producer  = "tandem"
)

// Metadata keys for the input normalisation, each a comma-separated list of
// one float per input channel.
const (
	keyMean = "tandem.input_mean"
	keyStd  = "tandem.input_std"
)

// batchDim names the symbolic batch dimension of the input and the logits.
const batchDim = "N"

// EncodeOptions configures the encoding. The zero value writes the graph
// layer for layer.
type EncodeOptions struct {
	// FoldBatchNorm merges each BatchNormalization that follows a Conv
	// feeding nothing else into that Conv's weights and bias, for
	// deployment: one node fewer per block and the same logits up to
	// rounding. The merged Conv keeps its own name. Decoding such a file
	// gives a Graph without those BatchNormalization layers.
	FoldBatchNorm bool
}

// Encode returns g as a serialized ONNX model; see EncodeOptions.Encode.
func Encode(g *dnn.Graph) ([]byte, error) { return EncodeOptions{}.Encode(g) }

// WriteFile writes g to path as an ONNX model; see EncodeOptions.Encode.
func WriteFile(path string, g *dnn.Graph) error { return EncodeOptions{}.WriteFile(path, g) }

// Encode returns g as a serialized ONNX model: IR version 8, opset 13, the
// input g.Input of shape [N, InputShape...] with a symbolic batch N, one ONNX
// node per layer named after it and with one output of the same name, and the
// logits [N, Classes] as the graph output. Parameters are float32
// initializers named "<layer>.weight", "<layer>.bias" and, for
// BatchNormalization, "<layer>.running_mean" and "<layer>.running_var" as
// PyTorch names them (with a suffix where a layer already has the name).
// Dense is written as Gemm with transB=1 and Dropout as Identity, so the
// dropout rate, which only training uses, is not kept. An unnamed graph is
// named "tandem", as the ONNX checker wants a name. g is validated first; it
// is not modified.
func (o EncodeOptions) Encode(g *dnn.Graph) ([]byte, error) {
	m, err := o.model(g)
	if err != nil {
		return nil, err
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("onnx: marshal model: %w", err)
	}
	return b, nil
}

// WriteFile writes g to path as an ONNX model.
func (o EncodeOptions) WriteFile(path string, g *dnn.Graph) error {
	b, err := o.Encode(g)
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("onnx: %w", err)
	}
	return nil
}

func (o EncodeOptions) model(g *dnn.Graph) (*onnxpb.ModelProto, error) {
	if g == nil {
		return nil, fmt.Errorf("onnx: nil graph")
	}
	if err := checkGraph(g); err != nil {
		return nil, err
	}
	if o.FoldBatchNorm {
		g = foldBatchNorm(g)
	}
	name := g.Name
	if name == "" {
		name = Producer
	}
	gp := &onnxpb.GraphProto{
		Name:   proto.String(name),
		Input:  []*onnxpb.ValueInfoProto{valueInfo(g.Input, g.InputShape)},
		Output: []*onnxpb.ValueInfoProto{valueInfo(g.Output(), []int{g.Classes})},
	}
	used := map[string]bool{g.Input: true}
	for _, n := range g.Nodes {
		used[n.Name] = true
	}
	for _, n := range g.Nodes {
		np, inits := encodeNode(n, used)
		gp.Node = append(gp.Node, np)
		gp.Initializer = append(gp.Initializer, inits...)
	}
	props, err := metadata(g)
	if err != nil {
		return nil, err
	}
	return &onnxpb.ModelProto{
		IrVersion:     proto.Int64(IRVersion),
		OpsetImport:   []*onnxpb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(Opset)}},
		ProducerName:  proto.String(Producer),
		Graph:         gp,
		MetadataProps: props,
	}, nil
}

// valueInfo describes a float32 tensor of shape [N, sample...].
func valueInfo(name string, sample []int) *onnxpb.ValueInfoProto {
	dims := []*onnxpb.TensorShapeProto_Dimension{{Value: &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: batchDim}}}
	for _, d := range sample {
		dims = append(dims, &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: int64(d)}})
	}
	return &onnxpb.ValueInfoProto{
		Name: proto.String(name),
		Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{TensorType: &onnxpb.TypeProto_Tensor{
			ElemType: proto.Int32(int32(onnxpb.TensorProto_FLOAT)),
			Shape:    &onnxpb.TensorShapeProto{Dim: dims},
		}}},
	}
}

// encodeNode returns the ONNX node for layer n and the initializers holding
// its parameters, named so as not to clash with the value names in used,
// which it extends. n has passed layerShape.
func encodeNode(n *dnn.Node, used map[string]bool) (*onnxpb.NodeProto, []*onnxpb.TensorProto) {
	np := &onnxpb.NodeProto{
		Name:   proto.String(n.Name),
		OpType: proto.String(string(n.Op)),
		Input:  slices.Clone(n.Inputs),
		Output: []string{n.Name},
	}
	var inits []*onnxpb.TensorProto
	param := func(suffix string, t *dnn.Tensor) {
		name := n.Name + "." + suffix
		for i := 2; used[name]; i++ {
			name = n.Name + "." + suffix + "_" + strconv.Itoa(i)
		}
		used[name] = true
		np.Input = append(np.Input, name)
		inits = append(inits, floatTensor(name, t))
	}
	window := func() {
		np.Attribute = append(np.Attribute,
			attrInts("kernel_shape", n.Kernel[:]...),
			attrInts("strides", n.Stride[:]...),
			attrInts("pads", n.Pad[:]...))
	}
	switch n.Op {
	case dnn.OpConv:
		param("weight", n.W)
		if n.B != nil {
			param("bias", n.B)
		}
		window()
		np.Attribute = append(np.Attribute, attrInts("dilations", 1, 1), attrInt("group", int64(groups(n))))
	case dnn.OpBatchNorm:
		param("weight", n.Scale)
		param("bias", n.Bias)
		param("running_mean", n.Mean)
		param("running_var", n.Var)
		np.Attribute = append(np.Attribute, attrFloat("epsilon", n.Eps))
	case dnn.OpMaxPool:
		window()
	case dnn.OpAvgPool:
		window()
		np.Attribute = append(np.Attribute, attrInt("count_include_pad", 0))
	case dnn.OpFlatten:
		np.Attribute = append(np.Attribute, attrInt("axis", 1))
	case dnn.OpDense:
		np.OpType = proto.String("Gemm")
		param("weight", n.W)
		if n.B != nil {
			param("bias", n.B)
		}
		np.Attribute = append(np.Attribute, attrInt("transB", 1))
	case dnn.OpDropout:
		// Dropout is the identity at inference; Identity says so to every
		// runtime without a ratio input or a training_mode to get wrong.
		np.OpType = proto.String("Identity")
	}
	return np, inits
}

// metadata returns the normalisation and g.Meta as metadata_props, sorted by
// key so that equal graphs encode to equal bytes.
func metadata(g *dnn.Graph) ([]*onnxpb.StringStringEntryProto, error) {
	kv := map[string]string{}
	for k, v := range g.Meta {
		if k == keyMean || k == keyStd {
			return nil, fmt.Errorf("onnx: Meta key %q is reserved for the input normalisation", k)
		}
		kv[k] = v
	}
	if g.InputMean != nil {
		kv[keyMean] = formatFloats(g.InputMean)
	}
	if g.InputStd != nil {
		kv[keyStd] = formatFloats(g.InputStd)
	}
	var props []*onnxpb.StringStringEntryProto
	for _, k := range slices.Sorted(maps.Keys(kv)) {
		props = append(props, &onnxpb.StringStringEntryProto{Key: proto.String(k), Value: proto.String(kv[k])})
	}
	return props, nil
}

// formatFloats writes each value in the fewest digits that read back to the
// same float32.
func formatFloats(v []float32) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.FormatFloat(float64(x), 'g', -1, 32)
	}
	return strings.Join(s, ",")
}
