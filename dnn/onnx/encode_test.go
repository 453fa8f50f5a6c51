package onnx

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/tandem-edge/tandem/dnn"
	"github.com/tandem-edge/tandem/dnn/onnx/onnxpb"
)

// asDecoded is what Decode(Encode(g)) should give: g without its Dropout
// layers (written as Identity), with the Conv default of 1 group spelled out
// and an unnamed graph named as Encode names it.
func asDecoded(g *dnn.Graph) *dnn.Graph {
	out := *g
	if out.Name == "" {
		out.Name = Producer
	}
	out.Nodes = nil
	rename := map[string]string{}
	for _, n := range g.Nodes {
		m := *n
		m.Inputs = slices.Clone(n.Inputs)
		for i, in := range m.Inputs {
			if r, ok := rename[in]; ok {
				m.Inputs[i] = r
			}
		}
		if m.Op == dnn.OpDropout {
			rename[m.Name] = m.Inputs[0]
			continue
		}
		if m.Op == dnn.OpConv && m.Groups == 0 {
			m.Groups = 1
		}
		out.Nodes = append(out.Nodes, &m)
	}
	if len(out.Meta) == 0 {
		out.Meta = nil
	}
	return &out
}

func TestRoundTrip(t *testing.T) {
	noNorm := residualNet(3)
	noNorm.InputMean, noNorm.InputStd, noNorm.Meta = nil, nil, map[string]string{}
	lastDropout := mlp(4)
	lastDropout.Nodes = append(lastDropout.Nodes, &dnn.Node{Name: "drop", Op: dnn.OpDropout, Inputs: []string{"logits"}, Rate: 0.5})
	clash := mlp(5)
	clash.Nodes[0].Name = "hidden.weight" // the name Encode would give the next layer's weight
	clash.Nodes[1].Inputs = []string{"hidden.weight"}
	for _, tc := range []struct {
		name string
		g    *dnn.Graph
	}{
		{"residual", residualNet(1)},
		{"layer named like a parameter", clash},
		{"mlp", mlp(2)},
		{"no norm or meta", noNorm},
		{"dropout last", lastDropout},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := Encode(tc.g)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Decode(b)
			if err != nil {
				t.Fatal(err)
			}
			want := asDecoded(tc.g)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("round trip differs\n got %s\nwant %s", describe(got), describe(want))
				for i := range min(len(got.Nodes), len(want.Nodes)) {
					if !reflect.DeepEqual(got.Nodes[i], want.Nodes[i]) {
						t.Errorf("layer %d: got %+v\nwant %+v", i, *got.Nodes[i], *want.Nodes[i])
					}
				}
				got.Nodes, want.Nodes = nil, nil
				if !reflect.DeepEqual(got, want) {
					t.Errorf("graph: got %+v\nwant %+v", *got, *want)
				}
			}
			again, err := Encode(got)
			if err != nil {
				t.Fatal(err)
			}
			if direct, _ := Encode(want); !bytes.Equal(again, direct) {
				t.Error("encoding the decoded graph gives other bytes")
			}
		})
	}
}

func TestEncodeIsDeterministic(t *testing.T) {
	a, err := Encode(residualNet(1))
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		b, err := Encode(residualNet(1))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Fatal("two encodings of one graph differ")
		}
	}
}

// TestEncodeFormat checks the parts of the file that ONNX Runtime and other
// tools rely on, beyond what a round trip shows.
func TestEncodeFormat(t *testing.T) {
	b, err := Encode(residualNet(1))
	if err != nil {
		t.Fatal(err)
	}
	var m onnxpb.ModelProto
	if err := proto.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if m.GetIrVersion() != 8 || len(m.GetOpsetImport()) != 1 || m.GetOpsetImport()[0].GetDomain() != "" || m.GetOpsetImport()[0].GetVersion() != 13 {
		t.Errorf("ir %d opsets %v, want ir 8 and opset 13 of the default domain", m.GetIrVersion(), m.GetOpsetImport())
	}
	if m.GetProducerName() != "tandem" {
		t.Errorf("producer %q", m.GetProducerName())
	}
	g := m.GetGraph()
	shape := func(v *onnxpb.ValueInfoProto) []string {
		var s []string
		for _, d := range v.GetType().GetTensorType().GetShape().GetDim() {
			s = append(s, dimString(d))
		}
		return s
	}
	if in := g.GetInput(); len(in) != 1 || in[0].GetName() != "image" || !slices.Equal(shape(in[0]), []string{"N", "3", "8", "8"}) {
		t.Errorf("input %v, want image [N 3 8 8]", in)
	}
	if out := g.GetOutput(); len(out) != 1 || out[0].GetName() != "fc" || !slices.Equal(shape(out[0]), []string{"N", "5"}) {
		t.Errorf("output %v, want fc [N 5]", out)
	}
	props := map[string]string{}
	for _, p := range m.GetMetadataProps() {
		props[p.GetKey()] = p.GetValue()
	}
	wantProps := map[string]string{
		"tandem.input_mean": "0.485,0.456,0.406", "tandem.input_std": "0.229,0.224,0.225",
		"arch": "resnet-tiny", "dataset": "synthetic", "seed": "7",
	}
	if !reflect.DeepEqual(props, wantProps) {
		t.Errorf("metadata %v, want %v", props, wantProps)
	}
	for _, init := range g.GetInitializer() {
		if init.GetDataType() != int32(onnxpb.TensorProto_FLOAT) || init.RawData == nil || init.FloatData != nil {
			t.Errorf("initializer %s: want FLOAT in raw_data", init.GetName())
		}
	}
	ops := map[string]*onnxpb.NodeProto{}
	for _, n := range g.GetNode() {
		if len(n.GetOutput()) != 1 || n.GetOutput()[0] != n.GetName() {
			t.Errorf("node %s outputs %v, want its own name", n.GetName(), n.GetOutput())
		}
		ops[n.GetName()] = n
	}
	for _, tc := range []struct {
		node, op string
		inputs   []string
		attrs    map[string]any
	}{
		{"conv1", "Conv", []string{"image", "conv1.weight", "conv1.bias"}, map[string]any{
			"kernel_shape": []int64{3, 3}, "strides": []int64{1, 1}, "pads": []int64{1, 1, 1, 1}, "dilations": []int64{1, 1}, "group": int64(1)}},
		{"conv2", "Conv", []string{"pool1", "conv2.weight"}, map[string]any{"group": int64(4)}},
		{"conv3", "Conv", nil, map[string]any{"kernel_shape": []int64{1, 3}, "strides": []int64{1, 2}, "pads": []int64{0, 1, 0, 1}}},
		{"bn1", "BatchNormalization", []string{"conv1", "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var"},
			map[string]any{"epsilon": float32(1e-5)}},
		{"avg1", "AveragePool", nil, map[string]any{"count_include_pad": int64(0), "pads": []int64{1, 1, 1, 1}}},
		{"pool1", "MaxPool", nil, map[string]any{"kernel_shape": []int64{2, 2}, "strides": []int64{2, 2}}},
		{"flat", "Flatten", nil, map[string]any{"axis": int64(1)}},
		{"drop", "Identity", []string{"flat"}, nil},
		{"fc", "Gemm", []string{"drop", "fc.weight", "fc.bias"}, map[string]any{"transB": int64(1)}},
		{"add1", "Add", []string{"relu2", "pool1"}, nil},
	} {
		n := ops[tc.node]
		if n == nil {
			t.Errorf("no node %s", tc.node)
			continue
		}
		if n.GetOpType() != tc.op || tc.inputs != nil && !slices.Equal(n.GetInput(), tc.inputs) {
			t.Errorf("node %s: %s%v, want %s%v", tc.node, n.GetOpType(), n.GetInput(), tc.op, tc.inputs)
		}
		a := nodeAttrs(n)
		if _, ok := a["training_mode"]; ok {
			t.Errorf("node %s has training_mode", tc.node)
		}
		for name, want := range tc.attrs {
			var got any
			switch p := a[name]; {
			case p == nil:
			case p.GetType() == onnxpb.AttributeProto_INTS:
				got = p.GetInts()
			case p.GetType() == onnxpb.AttributeProto_INT:
				got = p.GetI()
			case p.GetType() == onnxpb.AttributeProto_FLOAT:
				got = p.GetF()
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("node %s attribute %s = %v, want %v", tc.node, name, got, want)
			}
		}
	}
}

func TestFoldBatchNorm(t *testing.T) {
	g := residualNet(5)
	// bn3 reads a Conv that the residual Add also reads: it must stay.
	rng := rand.New(rand.NewPCG(5, 5))
	extra := []*dnn.Node{
		convLayer(rng, "conv4", "pool1", 8, 8, 1, [2]int{1, 1}, [2]int{1, 1}, [4]int{}, true),
		bnLayer(rng, "bn4", "conv4", 8),
		layer("add2", dnn.OpAdd, "bn4", "conv4"),
	}
	i := slices.IndexFunc(g.Nodes, func(n *dnn.Node) bool { return n.Name == "add1" })
	g.Nodes = slices.Insert(g.Nodes, i, extra...)
	g.Node("add1").Inputs = []string{"relu2", "add2"}
	before, err := Encode(g)
	if err != nil {
		t.Fatal(err)
	}
	b, err := EncodeOptions{FoldBatchNorm: true}.Encode(g)
	if err != nil {
		t.Fatal(err)
	}
	folded, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := Encode(g); !bytes.Equal(again, before) {
		t.Fatal("folding modified the graph")
	}
	var bns []string
	for _, n := range folded.Nodes {
		if n.Op == dnn.OpBatchNorm {
			bns = append(bns, n.Name)
		}
	}
	if !slices.Equal(bns, []string{"bn4"}) {
		t.Errorf("batch norms left %v, want [bn4]: %s", bns, describe(folded))
	}
	if n := folded.Node("conv2"); n == nil || n.B == nil || !slices.Equal(n.Inputs, []string{"pool1"}) {
		t.Errorf("conv2 after folding: %+v", n)
	}
	if n := folded.Node("relu2"); n == nil || !slices.Equal(n.Inputs, []string{"conv2"}) {
		t.Errorf("relu2 after folding reads %v, want [conv2]", n)
	}
	rng = rand.New(rand.NewPCG(9, 9))
	for range 5 {
		x := randTensor(rng, g.InputShape...).Data
		if d := maxAbsDiff(refForward(t, g, x), refForward(t, folded, x)); d > 1e-4 {
			t.Errorf("folded logits differ by %g", d)
		}
	}
}

func TestWriteReadFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "model.onnx")
	g := mlp(1)
	if err := WriteFile(path, g); err != nil {
		t.Fatal(err)
	}
	got, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, asDecoded(g)) {
		t.Errorf("got %s", describe(got))
	}
	if _, err := ReadFile(filepath.Join(t.TempDir(), "missing.onnx")); err == nil {
		t.Error("reading a missing file gave no error")
	}
	if err := os.WriteFile(path, []byte("not a model"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFile(path); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("reading a corrupt file: %v, want an error naming the path", err)
	}
}

func TestEncodeErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(g *dnn.Graph)
		want   string
	}{
		{"no nodes", func(g *dnn.Graph) { g.Nodes = nil }, "no nodes"},
		{"duplicate name", func(g *dnn.Graph) { g.Nodes[1].Name = "conv1" }, `node "conv1" (op BatchNormalization): name already used`},
		{"unknown input", func(g *dnn.Graph) { g.Nodes[2].Inputs = []string{"nope"} }, `node "relu1" (op Relu): input "nope"`},
		{"later input", func(g *dnn.Graph) { g.Nodes[2].Inputs = []string{"fc"} }, `input "fc" is neither an earlier node`},
		{"weight shape", func(g *dnn.Graph) { g.Nodes[0].W.Shape[1] = 4 }, `node "conv1" (op Conv): weight shape`},
		{"short data", func(g *dnn.Graph) { g.Node("fc").B.Data = g.Node("fc").B.Data[:2] }, `node "fc" (op Dense): bias holds 2 values`},
		{"missing bn var", func(g *dnn.Graph) { g.Node("bn1").Var = nil }, "var missing"},
		{"zero stride", func(g *dnn.Graph) { g.Node("pool1").Stride = [2]int{} }, `node "pool1" (op MaxPool): kernel`},
		{"add shapes", func(g *dnn.Graph) { g.Node("add1").Inputs = []string{"relu2", "relu1"} }, "input shapes"},
		{"classes", func(g *dnn.Graph) { g.Classes = 4 }, "want [4] (Classes)"},
		{"unknown op", func(g *dnn.Graph) { g.Nodes[2].Op = "Softmax" }, `node "relu1" (op Softmax): unsupported operator`},
		{"mean length", func(g *dnn.Graph) { g.InputMean = []float32{0.5} }, "tandem.input_mean has 1 values for 3 input channels"},
		{"reserved meta", func(g *dnn.Graph) { g.Meta[keyStd] = "1" }, "reserved"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := residualNet(1)
			tc.change(g)
			_, err := Encode(g)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}
