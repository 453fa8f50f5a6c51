package onnx

import (
	"errors"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/tandem-edge/tandem/dnn/onnx/onnxpb"
)

func TestDecodeUnsupportedOperator(t *testing.T) {
	b := convStem(13).head("c").
		node("Softmax", "Softmax_12", []string{"logits"}, "probs", attrInt("axis", 1))
	b.m.Graph.Output[0].Name = proto.String("probs")
	_, err := Decode(b.bytes(t))
	const want = `onnx: node "Softmax_12" (op Softmax): unsupported operator`
	if err == nil || err.Error() != want {
		t.Fatalf("got %v, want %s", err, want)
	}
	var ne *NodeError
	if !errors.As(err, &ne) || ne.Node != "Softmax_12" || ne.Op != "Softmax" || !errors.Is(err, ErrUnsupported) {
		t.Errorf("got %#v, want a *NodeError wrapping ErrUnsupported", err)
	}
}

func TestDecodeErrors(t *testing.T) {
	valid := func() *modelBuilder { return convStem(13).head("c") }
	// edit returns a valid model changed by f.
	edit := func(f func(m *onnxpb.ModelProto)) []byte {
		b := valid()
		f(b.m)
		out, err := proto.Marshal(b.m)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	node := func(m *onnxpb.ModelProto, name string) *onnxpb.NodeProto {
		for _, n := range m.Graph.Node {
			if n.GetName() == name {
				return n
			}
		}
		t.Fatalf("no node %s", name)
		return nil
	}
	setAttr := func(n *onnxpb.NodeProto, a *onnxpb.AttributeProto) {
		for i, p := range n.Attribute {
			if p.GetName() == a.GetName() {
				n.Attribute[i] = a
				return
			}
		}
		n.Attribute = append(n.Attribute, a)
	}
	encoded, err := Encode(residualNet(1))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name        string
		model       []byte
		want        string
		unsupported bool // the error must wrap ErrUnsupported
	}{
		{"truncated", encoded[:len(encoded)/2], "onnx: decode model:", false},
		{"garbage", []byte("\x0a\xff\xff\xff\xff\x0fnot onnx"), "onnx: decode model:", false},
		{"empty", nil, "no default-domain opset", false},
		{"no graph", edit(func(m *onnxpb.ModelProto) { m.Graph = nil }), "model has no graph", false},
		{"opset too new", edit(func(m *onnxpb.ModelProto) { m.OpsetImport[0].Version = proto.Int64(99) }), "opset 99", false},
		{"double weights", edit(func(m *onnxpb.ModelProto) {
			w := m.Graph.Initializer[0]
			w.DataType = proto.Int32(int32(onnxpb.TensorProto_DOUBLE))
			w.RawData = append(w.RawData, w.RawData...)
		}), `node "Conv_0" (op Conv): weight "conv.weight": data type DOUBLE, want FLOAT`, false},
		{"short raw_data", edit(func(m *onnxpb.ModelProto) { m.Graph.Initializer[1].RawData = m.Graph.Initializer[1].RawData[:6] }),
			`node "Conv_0" (op Conv): bias "conv.bias": raw_data holds 6 bytes for 4 floats`, false},
		{"external data", edit(func(m *onnxpb.ModelProto) {
			m.Graph.Initializer[0].DataLocation = onnxpb.TensorProto_EXTERNAL.Enum()
		}), "unsupported external data", true},
		{"input type", edit(func(m *onnxpb.ModelProto) {
			m.Graph.Input[0].Type.GetTensorType().ElemType = proto.Int32(int32(onnxpb.TensorProto_DOUBLE))
		}), `value "input" has element type DOUBLE, want FLOAT`, false},
		{"symbolic height", edit(func(m *onnxpb.ModelProto) {
			m.Graph.Input[0].Type.GetTensorType().Shape.Dim[2] = &onnxpb.TensorShapeProto_Dimension{
				Value: &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: "H"}}
		}), `input "input" dimension 2 is "H", want a fixed size`, false},
		{"two inputs", edit(func(m *onnxpb.ModelProto) { m.Graph.Input = append(m.Graph.Input, floatInfo("mask", "N", 3)) }),
			"2 inputs besides initializers", false},
		{"output is the input", edit(func(m *onnxpb.ModelProto) { m.Graph.Output[0].Name = proto.String("input") }),
			`output "input" is not computed by any layer`, false},
		{"declared classes", edit(func(m *onnxpb.ModelProto) {
			m.Graph.Output[0] = floatInfo("logits", "N", 7)
		}), "declared with 7 classes but computes 3", false},
		{"dangling input", edit(func(m *onnxpb.ModelProto) { node(m, "Flatten_9").Input[0] = "nowhere" }),
			`node "Flatten_9" (op Flatten): input "nowhere" is produced by no node, initializer or graph input`, false},
		{"missing initializer", edit(func(m *onnxpb.ModelProto) { m.Graph.Initializer = m.Graph.Initializer[1:] }),
			`node "Conv_0" (op Conv): input "conv.weight" is produced by no node`, false},
		{"cycle", edit(func(m *onnxpb.ModelProto) { node(m, "GlobalAveragePool_8").Input[0] = "f" }),
			`input "f" closes a cycle`, false},
		{"output produced twice", edit(func(m *onnxpb.ModelProto) { node(m, "Flatten_9").Output[0] = "g" }),
			`output "g" is also produced by node "GlobalAveragePool_8"`, false},
		{"weight computed at run time", edit(func(m *onnxpb.ModelProto) { node(m, "Gemm_10").Input[1] = "g" }),
			`node "Gemm_10" (op Gemm): unsupported weight "g" computed at run time`, true},
		{"kernel_shape of the wrong type", edit(func(m *onnxpb.ModelProto) { setAttr(node(m, "Conv_0"), attrInt("kernel_shape", 3)) }),
			"attribute kernel_shape has type INT, want INTS", false},
		{"kernel_shape against the weight", edit(func(m *onnxpb.ModelProto) { setAttr(node(m, "Conv_0"), attrInts("kernel_shape", 5, 5)) }),
			"kernel_shape [5 5] does not match weight shape [4 2 3 3]", false},
		{"dilations", edit(func(m *onnxpb.ModelProto) { setAttr(node(m, "Conv_0"), attrInts("dilations", 2, 2)) }),
			`node "Conv_0" (op Conv): unsupported dilations [2 2]`, true},
		{"bad auto_pad", edit(func(m *onnxpb.ModelProto) { setAttr(node(m, "Conv_0"), attrString("auto_pad", "SAME")) }),
			`auto_pad "SAME" is not`, false},
		{"channels against groups", edit(func(m *onnxpb.ModelProto) { setAttr(node(m, "Conv_0"), attrInt("group", 2)) }),
			"does not fit 2 input channels in 2 groups", false},
		{"Gemm transA", edit(func(m *onnxpb.ModelProto) { setAttr(node(m, "Gemm_10"), attrInt("transA", 1)) }),
			"unsupported transA=1", true},
		{"Gemm in features", edit(func(m *onnxpb.ModelProto) { m.Graph.Initializer[2] = floatTensor("fc.weight", seq(3, 5)) }),
			`node "Gemm_10" (op Gemm): weight shape [3 5], want [3 4]`, false},
		{"Gemm bias", edit(func(m *onnxpb.ModelProto) { setAttr(node(m, "Gemm_10"), attrInt("transB", 0)) }),
			`node "Gemm_10" (op Gemm): bias: shape [3] does not broadcast per channel over [N [4]]`, false},
		{"Flatten axis", edit(func(m *onnxpb.ModelProto) { setAttr(node(m, "Flatten_9"), attrInt("axis", 2)) }),
			"unsupported axis 2", true},
		{"non-default domain", edit(func(m *onnxpb.ModelProto) { node(m, "Flatten_9").Domain = proto.String("com.microsoft") }),
			`node "Flatten_9" (op com.microsoft.Flatten): unsupported operator`, true},
		{"reshape to 4-D", func() []byte {
			return convStem(13).constInts("shape", []int64{4}, 0, 2, 12, 6).
				node("Reshape", "Reshape_1", []string{"c", "shape"}, "r").head("r").bytes(t)
		}(), "unsupported Reshape of [N [4 6 6]] to [0 2 12 6]", true},
		{"reshape folding the batch", func() []byte {
			return convStem(13).constInts("shape", []int64{2}, 1, -1).
				node("Reshape", "Reshape_1", []string{"c", "shape"}, "r").head("r").bytes(t)
		}(), "the first dimension must stay the batch size", true},
		{"reshape changing the size", func() []byte {
			return convStem(13).constInts("shape", []int64{2}, -1, 100).
				node("Reshape", "Reshape_1", []string{"c", "shape"}, "r").head("r").bytes(t)
		}(), "changes the sample size", false},
		{"ceil_mode adding a window", func() []byte {
			return convStem(13).node("MaxPool", "MaxPool_1", []string{"c"}, "m",
				attrInts("kernel_shape", 3, 3), attrInts("strides", 2, 2), attrInt("ceil_mode", 1)).head("m").bytes(t)
		}(), "unsupported ceil_mode=1", true},
		{"count_include_pad with pads", func() []byte {
			return convStem(13).node("AveragePool", "AveragePool_1", []string{"c"}, "a",
				attrInts("kernel_shape", 3, 3), attrInts("pads", 1, 1, 1, 1), attrInt("count_include_pad", 1)).head("a").bytes(t)
		}(), "unsupported count_include_pad=1 with pads [1 1 1 1]", true},
		{"batch norm in training mode", func() []byte {
			return convStem(15).weights("s", seq(4)).
				node("BatchNormalization", "bn", []string{"c", "s", "s", "s", "s"}, "b", attrInt("training_mode", 1)).head("b").bytes(t)
		}(), "unsupported training_mode=1", true},
		{"Add of a constant after a Relu", func() []byte {
			return convStem(13).node("Relu", "Relu_1", []string{"c"}, "r").weights("k", seq(4, 1, 1)).
				node("Add", "Add_2", []string{"r", "k"}, "a").head("a").bytes(t)
		}(), `unsupported Add of constant "k"`, true},
		{"bias Add on a layer read twice", func() []byte {
			return convStem(13).weights("k", seq(4, 1, 1)).
				node("Add", "Add_1", []string{"c", "k"}, "a").node("Add", "Add_2", []string{"a", "c"}, "s").head("s").bytes(t)
		}(), `node "Add_1" (op Add): unsupported Add of constant "k"`, true},
		{"Add of differing shapes", func() []byte {
			return convStem(13).node("MaxPool", "MaxPool_1", []string{"c"}, "m", attrInts("kernel_shape", 2, 2)).
				node("Add", "Add_2", []string{"m", "c"}, "s").head("s").bytes(t)
		}(), "input shapes [4 5 5] and [4 6 6] differ", false},
		{"MaxPool indices read", func() []byte {
			b := convStem(13).node("MaxPool", "MaxPool_1", []string{"c"}, "m", attrInts("kernel_shape", 1, 1))
			n := b.m.Graph.Node[len(b.m.Graph.Node)-1]
			n.Output = append(n.Output, "idx")
			return b.node("Add", "Add_2", []string{"m", "idx"}, "s").head("s").bytes(t)
		}(), `unsupported use of output "idx"`, true},
		{"padding read by a pool", func() []byte {
			return convStem(13).constInts("pads", []int64{8}, 0, 0, 1, 1, 0, 0, 1, 1).
				node("Pad", "Pad_1", []string{"c", "pads"}, "p").
				node("MaxPool", "MaxPool_2", []string{"p"}, "m", attrInts("kernel_shape", 2, 2)).head("m").bytes(t)
		}(), `input "p" padded by a Pad node`, true},
		{"bad metadata", edit(func(m *onnxpb.ModelProto) {
			m.MetadataProps = []*onnxpb.StringStringEntryProto{{Key: proto.String(keyMean), Value: proto.String("0.5,x")}}
		}), "metadata tandem.input_mean", false},
		{"metadata for other channels", edit(func(m *onnxpb.ModelProto) {
			m.MetadataProps = []*onnxpb.StringStringEntryProto{{Key: proto.String(keyStd), Value: proto.String("1,1,1")}}
		}), "tandem.input_std has 3 values for 2 input channels", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, err := Decode(tc.model)
			if err == nil {
				t.Fatalf("no error; decoded %s", describe(g))
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "onnx: ") {
				t.Errorf("got  %v\nwant an error containing %q", err, tc.want)
			}
			if errors.Is(err, ErrUnsupported) != tc.unsupported {
				t.Errorf("errors.Is(err, ErrUnsupported) = %v, want %v", !tc.unsupported, tc.unsupported)
			}
		})
	}
}
