package onnx

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/tandem-edge/tandem/dnn"
	"github.com/tandem-edge/tandem/dnn/onnx/onnxpb"
)

// randTensor returns a tensor of the given shape with values in [-1, 1).
func randTensor(rng *rand.Rand, shape ...int) *dnn.Tensor {
	t := dnn.NewTensor(shape...)
	for i := range t.Data {
		t.Data[i] = 2*rng.Float32() - 1
	}
	return t
}

// positive returns a tensor of values in [0.5, 1.5), for variances.
func positive(rng *rand.Rand, n int) *dnn.Tensor {
	t := dnn.NewTensor(n)
	for i := range t.Data {
		t.Data[i] = 0.5 + rng.Float32()
	}
	return t
}

func convLayer(rng *rand.Rand, name, in string, cin, out, groups int, k, s [2]int, p [4]int, bias bool) *dnn.Node {
	n := &dnn.Node{Name: name, Op: dnn.OpConv, Inputs: []string{in}, Out: out, Kernel: k, Stride: s, Pad: p, Groups: groups,
		W: randTensor(rng, out, cin/max(groups, 1), k[0], k[1])}
	if bias {
		n.B = randTensor(rng, out)
	}
	return n
}

func bnLayer(rng *rand.Rand, name, in string, c int) *dnn.Node {
	return &dnn.Node{Name: name, Op: dnn.OpBatchNorm, Inputs: []string{in}, Eps: 1e-5,
		Scale: randTensor(rng, c), Bias: randTensor(rng, c), Mean: randTensor(rng, c), Var: positive(rng, c)}
}

func layer(name string, op dnn.Op, in ...string) *dnn.Node {
	return &dnn.Node{Name: name, Op: op, Inputs: in}
}

func denseLayer(rng *rand.Rand, name, in string, cin, out int, bias bool) *dnn.Node {
	n := &dnn.Node{Name: name, Op: dnn.OpDense, Inputs: []string{in}, Out: out, W: randTensor(rng, out, cin)}
	if bias {
		n.B = randTensor(rng, out)
	}
	return n
}

// residualNet is a small network with every layer kind: grouped, biased,
// strided and asymmetric convolutions, batch norm, both pools with padding,
// a residual Add, global pooling, dropout and a dense head.
func residualNet(seed uint64) *dnn.Graph {
	rng := rand.New(rand.NewPCG(seed, 1))
	pool := &dnn.Node{Name: "pool1", Op: dnn.OpMaxPool, Inputs: []string{"relu1"}, Kernel: [2]int{2, 2}, Stride: [2]int{2, 2}}
	avg := &dnn.Node{Name: "avg1", Op: dnn.OpAvgPool, Inputs: []string{"add1"}, Kernel: [2]int{3, 3}, Stride: [2]int{1, 1}, Pad: [4]int{1, 1, 1, 1}}
	return &dnn.Graph{
		Name:       "resnet-tiny",
		Input:      "image",
		InputShape: []int{3, 8, 8},
		Classes:    5,
		Nodes: []*dnn.Node{
			convLayer(rng, "conv1", "image", 3, 8, 0, [2]int{3, 3}, [2]int{1, 1}, [4]int{1, 1, 1, 1}, true),
			bnLayer(rng, "bn1", "conv1", 8),
			layer("relu1", dnn.OpReLU, "bn1"),
			pool,
			convLayer(rng, "conv2", "pool1", 8, 8, 4, [2]int{3, 3}, [2]int{1, 1}, [4]int{1, 1, 1, 1}, false),
			bnLayer(rng, "bn2", "conv2", 8),
			layer("relu2", dnn.OpReLU, "bn2"),
			layer("add1", dnn.OpAdd, "relu2", "pool1"),
			avg,
			convLayer(rng, "conv3", "avg1", 8, 6, 1, [2]int{1, 3}, [2]int{1, 2}, [4]int{0, 1, 0, 1}, true),
			layer("gap", dnn.OpGlobalAvgPool, "conv3"),
			layer("flat", dnn.OpFlatten, "gap"),
			{Name: "drop", Op: dnn.OpDropout, Inputs: []string{"flat"}, Rate: 0.25},
			denseLayer(rng, "fc", "drop", 6, 5, true),
		},
		InputMean: []float32{0.485, 0.456, 0.406},
		InputStd:  []float32{0.229, 0.224, 0.225},
		Meta:      map[string]string{"arch": "resnet-tiny", "dataset": "synthetic", "seed": "7"},
	}
}

// mlp is a network on a one-channel image with no convolution.
func mlp(seed uint64) *dnn.Graph {
	rng := rand.New(rand.NewPCG(seed, 2))
	return &dnn.Graph{
		Input:      "x",
		InputShape: []int{1, 4, 4},
		Classes:    3,
		Nodes: []*dnn.Node{
			layer("flatten", dnn.OpFlatten, "x"),
			denseLayer(rng, "hidden", "flatten", 16, 8, true),
			layer("act", dnn.OpReLU, "hidden"),
			denseLayer(rng, "logits", "act", 8, 3, false),
		},
	}
}

// refForward evaluates g on one sample x, naively, by the definitions in the
// dnn doc comments. It stands in for dnn's own forward pass so that these
// tests check the ONNX mapping and nothing else.
func refForward(t *testing.T, g *dnn.Graph, x []float32) []float32 {
	t.Helper()
	vals := map[string]*dnn.Tensor{g.Input: {Shape: g.InputShape, Data: x}}
	for _, n := range g.Nodes {
		in := vals[n.Inputs[0]]
		var out *dnn.Tensor
		switch n.Op {
		case dnn.OpConv:
			out = refConv(n, in)
		case dnn.OpBatchNorm:
			out = in.Clone()
			per := len(in.Data) / in.Shape[0]
			for i := range out.Data {
				c := i / per
				out.Data[i] = float32((float64(in.Data[i])-float64(n.Mean.Data[c]))/
					math.Sqrt(float64(n.Var.Data[c])+float64(n.Eps))*float64(n.Scale.Data[c]) + float64(n.Bias.Data[c]))
			}
		case dnn.OpReLU:
			out = in.Clone()
			for i, v := range out.Data {
				out.Data[i] = max(v, 0)
			}
		case dnn.OpMaxPool, dnn.OpAvgPool:
			out = refPool(n, in)
		case dnn.OpGlobalAvgPool:
			per := in.Shape[1] * in.Shape[2]
			out = dnn.NewTensor(in.Shape[0], 1, 1)
			for c := range in.Shape[0] {
				s := 0.0
				for _, v := range in.Data[c*per : (c+1)*per] {
					s += float64(v)
				}
				out.Data[c] = float32(s / float64(per))
			}
		case dnn.OpFlatten:
			out = &dnn.Tensor{Shape: []int{len(in.Data)}, Data: in.Data}
		case dnn.OpDense:
			out = dnn.NewTensor(n.Out)
			for o := range n.Out {
				s := 0.0
				if n.B != nil {
					s = float64(n.B.Data[o])
				}
				for i, v := range in.Data {
					s += float64(n.W.Data[o*len(in.Data)+i]) * float64(v)
				}
				out.Data[o] = float32(s)
			}
		case dnn.OpAdd:
			out = in.Clone()
			for i, v := range vals[n.Inputs[1]].Data {
				out.Data[i] += v
			}
		case dnn.OpDropout:
			out = in
		default:
			t.Fatalf("refForward: op %s", n.Op)
		}
		vals[n.Name] = out
	}
	return vals[g.Output()].Data
}

func refConv(n *dnn.Node, in *dnn.Tensor) *dnn.Tensor {
	c, h, w := in.Shape[0], in.Shape[1], in.Shape[2]
	g := max(n.Groups, 1)
	cin, cout := c/g, n.Out/g
	oh := (h+n.Pad[0]+n.Pad[2]-n.Kernel[0])/n.Stride[0] + 1
	ow := (w+n.Pad[1]+n.Pad[3]-n.Kernel[1])/n.Stride[1] + 1
	out := dnn.NewTensor(n.Out, oh, ow)
	for o := range n.Out {
		grp := o / cout
		for i := range oh {
			for j := range ow {
				s := 0.0
				if n.B != nil {
					s = float64(n.B.Data[o])
				}
				for ci := range cin {
					for ki := range n.Kernel[0] {
						for kj := range n.Kernel[1] {
							y, x := i*n.Stride[0]-n.Pad[0]+ki, j*n.Stride[1]-n.Pad[1]+kj
							if y < 0 || y >= h || x < 0 || x >= w {
								continue
							}
							wv := n.W.Data[((o*cin+ci)*n.Kernel[0]+ki)*n.Kernel[1]+kj]
							s += float64(wv) * float64(in.Data[((grp*cin+ci)*h+y)*w+x])
						}
					}
				}
				out.Data[(o*oh+i)*ow+j] = float32(s)
			}
		}
	}
	return out
}

func refPool(n *dnn.Node, in *dnn.Tensor) *dnn.Tensor {
	c, h, w := in.Shape[0], in.Shape[1], in.Shape[2]
	oh := (h+n.Pad[0]+n.Pad[2]-n.Kernel[0])/n.Stride[0] + 1
	ow := (w+n.Pad[1]+n.Pad[3]-n.Kernel[1])/n.Stride[1] + 1
	out := dnn.NewTensor(c, oh, ow)
	for ch := range c {
		for i := range oh {
			for j := range ow {
				best, sum, cnt := math.Inf(-1), 0.0, 0
				for ki := range n.Kernel[0] {
					for kj := range n.Kernel[1] {
						y, x := i*n.Stride[0]-n.Pad[0]+ki, j*n.Stride[1]-n.Pad[1]+kj
						if y < 0 || y >= h || x < 0 || x >= w {
							continue
						}
						v := float64(in.Data[(ch*h+y)*w+x])
						best, sum, cnt = max(best, v), sum+v, cnt+1
					}
				}
				if n.Op == dnn.OpAvgPool {
					best = sum / float64(cnt)
				}
				out.Data[(ch*oh+i)*ow+j] = float32(best)
			}
		}
	}
	return out
}

func maxAbsDiff(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	d := 0.0
	for i := range a {
		d = max(d, math.Abs(float64(a[i])-float64(b[i])))
	}
	return d
}

// describe lists the layers of g as "name=Op(inputs)", for comparing
// structure in failure messages.
func describe(g *dnn.Graph) string {
	s := make([]string, len(g.Nodes))
	for i, n := range g.Nodes {
		s[i] = fmt.Sprintf("%s=%s(%s)", n.Name, n.Op, strings.Join(n.Inputs, ","))
	}
	return strings.Join(s, " ")
}

// modelBuilder assembles ONNX models node by node the way an exporter
// would, for the import tests.
type modelBuilder struct {
	m *onnxpb.ModelProto
}

// newModel starts a model of the given opset with one float input whose
// dims are ints (fixed) or strings (symbolic).
func newModel(opset int64, input string, dims ...any) *modelBuilder {
	return &modelBuilder{m: &onnxpb.ModelProto{
		IrVersion:    proto.Int64(7),
		ProducerName: proto.String("pytorch"),
		OpsetImport:  []*onnxpb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(opset)}},
		Graph:        &onnxpb.GraphProto{Name: proto.String("torch_jit"), Input: []*onnxpb.ValueInfoProto{floatInfo(input, dims...)}},
	}}
}

func floatInfo(name string, dims ...any) *onnxpb.ValueInfoProto {
	var ds []*onnxpb.TensorShapeProto_Dimension
	for _, d := range dims {
		switch d := d.(type) {
		case int:
			ds = append(ds, &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: int64(d)}})
		case string:
			ds = append(ds, &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: d}})
		}
	}
	return &onnxpb.ValueInfoProto{Name: proto.String(name), Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{
		TensorType: &onnxpb.TypeProto_Tensor{ElemType: proto.Int32(int32(onnxpb.TensorProto_FLOAT)), Shape: &onnxpb.TensorShapeProto{Dim: ds}}}}}
}

// node adds a node with one output; ins may hold "" for an omitted input.
func (b *modelBuilder) node(op, name string, ins []string, out string, attrs ...*onnxpb.AttributeProto) *modelBuilder {
	b.m.Graph.Node = append(b.m.Graph.Node, &onnxpb.NodeProto{
		Name: proto.String(name), OpType: proto.String(op), Input: ins, Output: []string{out}, Attribute: attrs})
	return b
}

// weights adds t as an initializer in raw_data, as PyTorch writes it.
func (b *modelBuilder) weights(name string, t *dnn.Tensor) *modelBuilder {
	b.m.Graph.Initializer = append(b.m.Graph.Initializer, floatTensor(name, t))
	return b
}

// floatData adds t as an initializer in float_data, as some older exporters do.
func (b *modelBuilder) floatData(name string, t *dnn.Tensor) *modelBuilder {
	p := floatTensor(name, t)
	p.RawData, p.FloatData = nil, slices.Clone(t.Data)
	b.m.Graph.Initializer = append(b.m.Graph.Initializer, p)
	return b
}

// constInts adds a Constant node with an INT64 tensor of the given dims
// (nil for a scalar).
func (b *modelBuilder) constInts(out string, dims []int64, v ...int64) *modelBuilder {
	t := &onnxpb.TensorProto{Dims: dims, DataType: proto.Int32(int32(onnxpb.TensorProto_INT64)), Int64Data: v}
	return b.node("Constant", "Constant_"+out, nil, out,
		&onnxpb.AttributeProto{Name: proto.String("value"), Type: onnxpb.AttributeProto_TENSOR.Enum(), T: t})
}

func (b *modelBuilder) output(name string, dims ...any) *modelBuilder {
	b.m.Graph.Output = append(b.m.Graph.Output, floatInfo(name, dims...))
	return b
}

func (b *modelBuilder) bytes(t testing.TB) []byte {
	t.Helper()
	out, err := proto.Marshal(b.m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func attrString(name, v string) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_STRING.Enum(), S: []byte(v)}
}
