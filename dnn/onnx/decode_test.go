package onnx

import (
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/tandem-edge/tandem/dnn"
	"github.com/tandem-edge/tandem/dnn/onnx/onnxpb"
)

// seq returns a tensor holding 0, 1, 2, ... so that a transposition or a
// mix-up of parameters shows in the values.
func seq(shape ...int) *dnn.Tensor {
	t := dnn.NewTensor(shape...)
	for i := range t.Data {
		t.Data[i] = float32(i)
	}
	return t
}

// convStem starts a model the way torch.onnx.export writes a Conv layer:
// dynamic batch, weights in raw_data, only the attributes that differ from
// the defaults. Its output "c" is [N 4 6 6].
func convStem(opset int64) *modelBuilder {
	return newModel(opset, "input", "batch", 2, 6, 6).
		weights("conv.weight", seq(4, 2, 3, 3)).weights("conv.bias", seq(4)).
		node("Conv", "Conv_0", []string{"input", "conv.weight", "conv.bias"}, "c", attrInts("pads", 1, 1, 1, 1))
}

// head ends a model with GlobalAveragePool, Flatten and a Gemm to 3 classes.
func (b *modelBuilder) head(in string) *modelBuilder {
	return b.node("GlobalAveragePool", "GlobalAveragePool_8", []string{in}, "g").
		node("Flatten", "Flatten_9", []string{"g"}, "f").
		weights("fc.weight", seq(3, 4)).weights("fc.bias", seq(3)).
		node("Gemm", "Gemm_10", []string{"f", "fc.weight", "fc.bias"}, "logits", attrInt("transB", 1)).
		output("logits", "batch", 3)
}

func TestDecodePyTorchStyle(t *testing.T) {
	for _, tc := range []struct {
		name  string
		model *modelBuilder
		want  string // describe() of the decoded graph
		check func(t *testing.T, g *dnn.Graph)
	}{{
		name:  "defaulted attributes",
		model: convStem(13).head("c"),
		want:  "Conv_0=Conv(input) GlobalAveragePool_8=GlobalAveragePool(Conv_0) Flatten_9=Flatten(GlobalAveragePool_8) Gemm_10=Dense(Flatten_9)",
		check: func(t *testing.T, g *dnn.Graph) {
			c := g.Nodes[0]
			if c.Out != 4 || c.Kernel != [2]int{3, 3} || c.Stride != [2]int{1, 1} || c.Pad != [4]int{1, 1, 1, 1} || c.Groups != 1 {
				t.Errorf("conv %+v", *c)
			}
			if !reflect.DeepEqual(c.W, seq(4, 2, 3, 3)) || !reflect.DeepEqual(c.B, seq(4)) {
				t.Error("conv parameters differ")
			}
			if g.Input != "input" || !slices.Equal(g.InputShape, []int{2, 6, 6}) || g.Classes != 3 || g.Name != "torch_jit" {
				t.Errorf("graph %q input %q %v classes %d", g.Name, g.Input, g.InputShape, g.Classes)
			}
			if fc := g.Nodes[3]; !reflect.DeepEqual(fc.W, seq(3, 4)) || fc.Out != 3 {
				t.Errorf("Gemm with transB=1 gave W %v", fc.W)
			}
		},
	}, {
		name: "batch norm with default epsilon, relu, pools",
		model: convStem(9).
			weights("bn.weight", seq(4)).weights("bn.bias", seq(4)).weights("bn.running_mean", seq(4)).weights("bn.running_var", seq(4)).
			node("BatchNormalization", "BatchNormalization_1", []string{"c", "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var"}, "b",
				attrFloat("momentum", 0.9)).
			node("Relu", "Relu_2", []string{"b"}, "r").
			node("MaxPool", "MaxPool_3", []string{"r"}, "m", attrInts("kernel_shape", 2, 2), attrInts("strides", 2, 2)).
			node("AveragePool", "AveragePool_4", []string{"m"}, "a", attrInts("kernel_shape", 3, 3), attrInts("pads", 1, 1, 1, 1)).
			head("a"),
		want: "Conv_0=Conv(input) BatchNormalization_1=BatchNormalization(Conv_0) Relu_2=Relu(BatchNormalization_1) " +
			"MaxPool_3=MaxPool(Relu_2) AveragePool_4=AveragePool(MaxPool_3) GlobalAveragePool_8=GlobalAveragePool(AveragePool_4) " +
			"Flatten_9=Flatten(GlobalAveragePool_8) Gemm_10=Dense(Flatten_9)",
		check: func(t *testing.T, g *dnn.Graph) {
			if bn := g.Nodes[1]; bn.Eps != 1e-5 || !reflect.DeepEqual(bn.Var, seq(4)) {
				t.Errorf("bn eps %g var %v", bn.Eps, bn.Var)
			}
			if p := g.Nodes[3]; p.Kernel != [2]int{2, 2} || p.Stride != [2]int{2, 2} || p.Pad != [4]int{} {
				t.Errorf("maxpool %+v", *p)
			}
			if p := g.Nodes[4]; p.Kernel != [2]int{3, 3} || p.Stride != [2]int{1, 1} || p.Pad != [4]int{1, 1, 1, 1} {
				t.Errorf("avgpool %+v", *p)
			}
		},
	}, {
		name: "Gemm with transB=0, alpha and beta",
		model: newModel(13, "x", "N", 2).
			weights("w", seq(2, 3)).weights("b", seq(3)).
			node("Gemm", "Gemm_0", []string{"x", "w", "b"}, "y", attrFloat("alpha", 2), attrFloat("beta", 0.5)).
			output("y", "N", 3),
		want: "Gemm_0=Dense(x)",
		check: func(t *testing.T, g *dnn.Graph) {
			want := &dnn.Tensor{Shape: []int{3, 2}, Data: []float32{0, 6, 2, 8, 4, 10}}
			if l := g.Nodes[0]; !reflect.DeepEqual(l.W, want) || !reflect.DeepEqual(l.B.Data, []float32{0, 0.5, 1}) {
				t.Errorf("W %v B %v, want W %v B [0 0.5 1]", l.W, l.B, want)
			}
		},
	}, {
		name: "MatMul and Add of a bias",
		model: newModel(13, "x", "N", 2).
			weights("w", seq(2, 3)).weights("b", seq(1, 3)).
			node("MatMul", "MatMul_0", []string{"x", "w"}, "m").
			node("Add", "Add_1", []string{"b", "m"}, "y").
			output("y", "N", 3),
		want: "MatMul_0=Dense(x)",
		check: func(t *testing.T, g *dnn.Graph) {
			want := &dnn.Tensor{Shape: []int{3, 2}, Data: []float32{0, 3, 1, 4, 2, 5}}
			if l := g.Nodes[0]; !reflect.DeepEqual(l.W, want) || !reflect.DeepEqual(l.B, seq(3)) {
				t.Errorf("W %v B %v", l.W, l.B)
			}
		},
	}, {
		name: "Reshape to [0, -1] from a Constant",
		model: convStem(13).constInts("shape", []int64{2}, 0, -1).
			node("Reshape", "Reshape_1", []string{"c", "shape"}, "f").
			weights("fc.weight", seq(3, 144)).
			node("Gemm", "Gemm_2", []string{"f", "fc.weight"}, "logits", attrInt("transB", 1)).
			output("logits", "batch", 3),
		want: "Conv_0=Conv(input) Reshape_1=Flatten(Conv_0) Gemm_2=Dense(Reshape_1)",
	}, {
		name: "Reshape to [-1, k] from an initializer",
		model: func() *modelBuilder {
			b := convStem(14)
			b.m.Graph.Initializer = append(b.m.Graph.Initializer, &onnxpb.TensorProto{Name: proto.String("shape"), Dims: []int64{2},
				DataType: proto.Int32(int32(onnxpb.TensorProto_INT64)), RawData: []byte{255, 255, 255, 255, 255, 255, 255, 255, 144, 0, 0, 0, 0, 0, 0, 0}})
			return b.node("Reshape", "Reshape_1", []string{"c", "shape"}, "f").
				weights("fc.weight", seq(3, 144)).
				node("Gemm", "Gemm_2", []string{"f", "fc.weight"}, "logits", attrInt("transB", 1)).
				output("logits", "batch", 3)
		}(),
		want: "Conv_0=Conv(input) Reshape_1=Flatten(Conv_0) Gemm_2=Dense(Reshape_1)",
	}, {
		name: "Reshape to [1, -1] with a fixed batch of 1",
		model: newModel(13, "input", 1, 2, 6, 6).
			constInts("shape", []int64{2}, 1, -1).
			node("Reshape", "Reshape_0", []string{"input", "shape"}, "f").
			weights("fc.weight", seq(3, 72)).
			node("Gemm", "Gemm_1", []string{"f", "fc.weight"}, "logits", attrInt("transB", 1)).
			output("logits", 1, 3),
		want: "Reshape_0=Flatten(input) Gemm_1=Dense(Reshape_0)",
	}, {
		name: "x.view(x.size(0), -1) as opset 13 writes it",
		model: convStem(13).
			node("Shape", "Shape_1", []string{"c"}, "s").
			constInts("zero", nil, 0).
			node("Gather", "Gather_2", []string{"s", "zero"}, "n", attrInt("axis", 0)).
			constInts("axes", []int64{1}, 0).
			node("Unsqueeze", "Unsqueeze_3", []string{"n", "axes"}, "n1").
			constInts("minus1", []int64{1}, -1).
			node("Concat", "Concat_4", []string{"n1", "minus1"}, "shape", attrInt("axis", 0)).
			node("Reshape", "Reshape_5", []string{"c", "shape"}, "f").
			weights("fc.weight", seq(3, 144)).
			node("Gemm", "Gemm_6", []string{"f", "fc.weight"}, "logits", attrInt("transB", 1)).
			output("logits", "batch", 3),
		want: "Conv_0=Conv(input) Reshape_5=Flatten(Conv_0) Gemm_6=Dense(Reshape_5)",
	}, {
		name: "x.view(x.size(0), -1) as opset 11 writes it",
		model: convStem(11).
			node("Shape", "Shape_1", []string{"c"}, "s").
			constInts("zero", nil, 0).
			node("Gather", "Gather_2", []string{"s", "zero"}, "n", attrInt("axis", 0)).
			node("Unsqueeze", "Unsqueeze_3", []string{"n"}, "n1", attrInts("axes", 0)).
			constInts("minus1", nil, -1).
			node("Unsqueeze", "Unsqueeze_4", []string{"minus1"}, "m1", attrInts("axes", 0)).
			node("Concat", "Concat_5", []string{"n1", "m1"}, "shape", attrInt("axis", 0)).
			node("Reshape", "Reshape_6", []string{"c", "shape"}, "f").
			weights("fc.weight", seq(3, 144)).
			node("Gemm", "Gemm_7", []string{"f", "fc.weight"}, "logits", attrInt("transB", 1)).
			output("logits", "batch", 3),
		want: "Conv_0=Conv(input) Reshape_6=Flatten(Conv_0) Gemm_7=Dense(Reshape_6)",
	}, {
		name: "auto_pad SAME_UPPER",
		model: newModel(13, "input", "N", 2, 6, 6).
			weights("w", seq(4, 2, 3, 3)).
			node("Conv", "Conv_0", []string{"input", "w"}, "c", attrString("auto_pad", "SAME_UPPER"), attrInts("strides", 2, 2)).
			head("c"),
		check: func(t *testing.T, g *dnn.Graph) {
			if c := g.Nodes[0]; c.Pad != [4]int{0, 0, 1, 1} || c.B != nil {
				t.Errorf("pads %v, want [0 0 1 1]", c.Pad)
			}
		},
	}, {
		name: "auto_pad SAME_LOWER",
		model: newModel(13, "input", "N", 2, 6, 6).
			weights("w", seq(4, 2, 3, 3)).
			node("Conv", "Conv_0", []string{"input", "w"}, "c", attrString("auto_pad", "SAME_LOWER"), attrInts("strides", 2, 2)).
			head("c"),
		check: func(t *testing.T, g *dnn.Graph) {
			if c := g.Nodes[0]; c.Pad != [4]int{1, 1, 0, 0} {
				t.Errorf("pads %v, want [1 1 0 0]", c.Pad)
			}
		},
	}, {
		name: "auto_pad VALID on a pool",
		model: convStem(13).
			node("MaxPool", "MaxPool_1", []string{"c"}, "m", attrString("auto_pad", "VALID"), attrInts("kernel_shape", 3, 3), attrInts("pads", 1, 1, 1, 1)).
			head("m"),
		check: func(t *testing.T, g *dnn.Graph) {
			if p := g.Nodes[1]; p.Pad != [4]int{} {
				t.Errorf("pads %v, want none", p.Pad)
			}
		},
	}, {
		name: "float_data initializers listed among the inputs",
		model: func() *modelBuilder {
			b := newModel(9, "input", "N", 2, 6, 6).
				floatData("conv.weight", seq(4, 2, 3, 3)).
				node("Conv", "", []string{"input", "conv.weight"}, "11", attrInts("kernel_shape", 3, 3)).
				head("11")
			b.m.Graph.Input = append(b.m.Graph.Input, floatInfo("conv.weight", 4, 2, 3, 3), floatInfo("fc.weight", 3, 4), floatInfo("fc.bias", 3))
			return b
		}(),
		want: "11=Conv(input) GlobalAveragePool_8=GlobalAveragePool(11) Flatten_9=Flatten(GlobalAveragePool_8) Gemm_10=Dense(Flatten_9)",
		check: func(t *testing.T, g *dnn.Graph) {
			if !reflect.DeepEqual(g.Nodes[0].W, seq(4, 2, 3, 3)) {
				t.Error("float_data weights differ")
			}
		},
	}, {
		name: "Identity and Dropout dropped",
		model: convStem(13).
			node("Identity", "Identity_1", []string{"c"}, "i").
			node("Dropout", "Dropout_2", []string{"i", "", ""}, "d").
			head("d"),
		want: "Conv_0=Conv(input) GlobalAveragePool_8=GlobalAveragePool(Conv_0) Flatten_9=Flatten(GlobalAveragePool_8) Gemm_10=Dense(Flatten_9)",
	}, {
		name: "ReduceMean over H and W, dims kept",
		model: convStem(13).
			node("ReduceMean", "ReduceMean_1", []string{"c"}, "g", attrInts("axes", 2, 3)).
			node("Flatten", "Flatten_2", []string{"g"}, "f").
			weights("fc.weight", seq(3, 4)).
			node("Gemm", "Gemm_3", []string{"f", "fc.weight"}, "logits", attrInt("transB", 1)).
			output("logits", "batch", 3),
		want: "Conv_0=Conv(input) ReduceMean_1=GlobalAveragePool(Conv_0) Flatten_2=Flatten(ReduceMean_1) Gemm_3=Dense(Flatten_2)",
	}, {
		name: "ReduceMean over H and W, dims dropped",
		model: convStem(13).
			node("ReduceMean", "ReduceMean_1", []string{"c"}, "g", attrInts("axes", -1, -2), attrInt("keepdims", 0)).
			weights("fc.weight", seq(3, 4)).
			node("Gemm", "Gemm_3", []string{"g", "fc.weight"}, "logits", attrInt("transB", 1)).
			output("logits", "batch", 3),
		want: "Conv_0=Conv(input) ReduceMean_1=GlobalAveragePool(Conv_0) ReduceMean_1/flatten=Flatten(ReduceMean_1) Gemm_3=Dense(ReduceMean_1/flatten)",
	}, {
		name: "zero Pad before AveragePool, padding merged into Conv",
		model: newModel(13, "input", "N", 2, 6, 6).
			constInts("pads", []int64{8}, 0, 0, 1, 0, 0, 0, 0, 2).
			node("Pad", "Pad_0", []string{"input", "pads"}, "p").
			weights("w", seq(4, 2, 3, 3)).
			node("Conv", "Conv_1", []string{"p", "w"}, "c", attrInts("pads", 1, 1, 1, 1)).
			constInts("nopads", []int64{8}, 0, 0, 0, 0, 0, 0, 0, 0).
			node("Pad", "Pad_2", []string{"c", "nopads"}, "p2").
			node("AveragePool", "AveragePool_3", []string{"p2"}, "a", attrInts("kernel_shape", 2, 2), attrInt("count_include_pad", 1)).
			head("a"),
		want: "Conv_1=Conv(input) AveragePool_3=AveragePool(Conv_1) GlobalAveragePool_8=GlobalAveragePool(AveragePool_3) " +
			"Flatten_9=Flatten(GlobalAveragePool_8) Gemm_10=Dense(Flatten_9)",
		check: func(t *testing.T, g *dnn.Graph) {
			if c := g.Nodes[0]; c.Pad != [4]int{2, 1, 1, 3} {
				t.Errorf("conv pads %v, want [2 1 1 3]", c.Pad)
			}
		},
	}, {
		name: "ceil_mode that adds no window",
		model: convStem(13).
			node("MaxPool", "MaxPool_1", []string{"c"}, "m", attrInts("kernel_shape", 2, 2), attrInts("strides", 2, 2), attrInt("ceil_mode", 1)).
			head("m"),
		want: "Conv_0=Conv(input) MaxPool_1=MaxPool(Conv_0) GlobalAveragePool_8=GlobalAveragePool(MaxPool_1) " +
			"Flatten_9=Flatten(GlobalAveragePool_8) Gemm_10=Dense(Flatten_9)",
	}, {
		name: "nodes out of order, a dead branch, metadata",
		model: func() *modelBuilder {
			b := convStem(13).head("c").node("Relu", "unused", []string{"c"}, "dead")
			nodes := b.m.Graph.Node
			slices.Reverse(nodes)
			b.m.MetadataProps = []*onnxpb.StringStringEntryProto{
				{Key: proto.String("tandem.input_mean"), Value: proto.String("0.5, 0.25")},
				{Key: proto.String("tandem.input_std"), Value: proto.String("0.5,2")},
				{Key: proto.String("dataset"), Value: proto.String("fashion-mnist")},
			}
			return b
		}(),
		want: "Conv_0=Conv(input) GlobalAveragePool_8=GlobalAveragePool(Conv_0) Flatten_9=Flatten(GlobalAveragePool_8) Gemm_10=Dense(Flatten_9)",
		check: func(t *testing.T, g *dnn.Graph) {
			if !slices.Equal(g.InputMean, []float32{0.5, 0.25}) || !slices.Equal(g.InputStd, []float32{0.5, 2}) ||
				!reflect.DeepEqual(g.Meta, map[string]string{"dataset": "fashion-mnist"}) {
				t.Errorf("mean %v std %v meta %v", g.InputMean, g.InputStd, g.Meta)
			}
		},
	}, {
		name: "nodes sharing a name",
		model: convStem(13).
			node("Relu", "Conv_0", []string{"c"}, "r1").
			node("Relu", "Conv_0", []string{"r1"}, "r2").
			head("r2"),
		want: "Conv_0=Conv(input) Conv_0_2=Relu(Conv_0) Conv_0_3=Relu(Conv_0_2) GlobalAveragePool_8=GlobalAveragePool(Conv_0_3) " +
			"Flatten_9=Flatten(GlobalAveragePool_8) Gemm_10=Dense(Flatten_9)",
	}, {
		name: "residual Add and grouped Conv",
		model: convStem(13).
			weights("g.weight", seq(4, 2, 1, 1)).
			node("Conv", "Conv_1", []string{"c", "g.weight"}, "gc", attrInt("group", 2)).
			node("Add", "Add_2", []string{"gc", "c"}, "sum").
			head("sum"),
		want: "Conv_0=Conv(input) Conv_1=Conv(Conv_0) Add_2=Add(Conv_1,Conv_0) GlobalAveragePool_8=GlobalAveragePool(Add_2) " +
			"Flatten_9=Flatten(GlobalAveragePool_8) Gemm_10=Dense(Flatten_9)",
		check: func(t *testing.T, g *dnn.Graph) {
			if c := g.Nodes[1]; c.Groups != 2 || c.Kernel != [2]int{1, 1} {
				t.Errorf("grouped conv %+v", *c)
			}
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			g, err := Decode(tc.model.bytes(t))
			if err != nil {
				t.Fatal(err)
			}
			if tc.want != "" && describe(g) != tc.want {
				t.Errorf("got  %s\nwant %s", describe(g), tc.want)
			}
			if tc.check != nil {
				tc.check(t, g)
			}
			if _, err := Encode(g); err != nil {
				t.Errorf("the decoded graph does not encode: %v", err)
			}
		})
	}
}

// TestDecodeSameLogits checks the mappings that rewrite parameters against
// the reference forward pass: a model whose Gemm has transB=0 and whose
// MatMul plus Add replaces a second Gemm computes what the same model written
// by Encode computes.
func TestDecodeSameLogits(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	w1, b1, w2, b2 := randTensor(rng, 16, 8), randTensor(rng, 8), randTensor(rng, 8, 3), randTensor(rng, 3)
	g, err := Decode(newModel(13, "x", "N", 1, 4, 4).
		node("Flatten", "flatten", []string{"x"}, "f").
		weights("w1", w1).weights("b1", b1).
		node("Gemm", "hidden", []string{"f", "w1", "b1"}, "h").
		node("Relu", "act", []string{"h"}, "a").
		weights("w2", w2).weights("b2", b2).
		node("MatMul", "logits", []string{"a", "w2"}, "m").
		node("Add", "bias", []string{"m", "b2"}, "y").
		output("y", "N", 3).bytes(t))
	if err != nil {
		t.Fatal(err)
	}
	want := &dnn.Graph{Input: "x", InputShape: []int{1, 4, 4}, Classes: 3, Nodes: []*dnn.Node{
		layer("flatten", dnn.OpFlatten, "x"),
		{Name: "hidden", Op: dnn.OpDense, Inputs: []string{"flatten"}, Out: 8, W: transpose(w1), B: b1},
		layer("act", dnn.OpReLU, "hidden"),
		{Name: "logits", Op: dnn.OpDense, Inputs: []string{"act"}, Out: 3, W: transpose(w2), B: b2},
	}}
	x := randTensor(rng, 1, 4, 4).Data
	if d := maxAbsDiff(refForward(t, g, x), refForward(t, want, x)); d > 1e-6 {
		t.Errorf("logits differ by %g: %s", d, describe(g))
	}
}
