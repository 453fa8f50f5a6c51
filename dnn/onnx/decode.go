package onnx

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/tandem-edge/tandem/dnn"
	"github.com/tandem-edge/tandem/dnn/onnx/onnxpb"
)

// The default-domain opsets Decode reads. The operators it maps keep their
// meaning across these versions; where an attribute became an input (axes of
// Unsqueeze and ReduceMean, the pads of Pad) both forms are read.
const (
	minOpset = 7
	maxOpset = 21
)

// ReadFile reads the ONNX model at path; see Decode.
func ReadFile(path string) (*dnn.Graph, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	g, err := Decode(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return g, nil
}

// Decode reads a serialized ONNX model into a Graph. The model must have one
// float32 input [batch, sample...] with fixed sample dims and one output
// [batch, classes]. Its nodes are mapped onto the layer kinds of dnn.Graph,
// each layer named after its ONNX node (or, for an unnamed node, its
// output); nodes that do not lead to the output are dropped.
//
// Besides the layer operators themselves (Conv, BatchNormalization, Relu,
// MaxPool, AveragePool, GlobalAveragePool, Flatten, Gemm, Add), Decode reads
// MatMul with a bias Add as Dense; Reshape that flattens each sample, with
// its target from an initializer, a Constant or Shape, Gather, Unsqueeze and
// Concat; ReduceMean over H and W as GlobalAveragePool; Pad with zeros into
// the pads of the Conv after it; and drops Identity and Dropout, the
// identities they are at inference. The input normalisation and Meta come
// from metadata_props.
//
// An operator or attribute a Graph cannot express gives a *NodeError
// wrapping ErrUnsupported; malformed bytes, dangling inputs, cycles and
// missing or mistyped initializers give errors naming the node.
func Decode(b []byte) (*dnn.Graph, error) {
	var m onnxpb.ModelProto
	if err := proto.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("onnx: decode model: %w", err)
	}
	return decodeModel(&m)
}

// valueKind tells what an ONNX value is while a model is decoded.
type valueKind int

const (
	tensorValue valueKind = iota // computed from the graph input, per sample
	constValue                   // an initializer or a Constant output
	shapeValue                   // integers derived from Shape: sizes, some the batch size
)

// value is what decoding knows about one ONNX value name.
type value struct {
	kind valueKind

	// tensorValue
	node  string   // the layer computing it, or the graph input
	shape []int    // per-sample shape
	names []string // the ONNX value names bound to it
	// When unpadded is set, the value is unpadded surrounded by pad (top,
	// left, bottom, right) zeros in H and W, not yet applied; see pad.
	unpadded *value
	pad      [4]int

	t *onnxpb.TensorProto // constValue

	// shapeValue
	dims  []dim
	rank0 bool // a scalar rather than a vector
}

// dim is one integer of a shapeValue: the batch size, or a known number.
type dim struct {
	batch bool
	n     int64
}

type decoder struct {
	g        *dnn.Graph
	batch    int64 // the input's fixed batch size, 0 when symbolic
	vals     map[string]*value
	layers   map[string]*dnn.Node // by name, with the graph input's name reserved
	suffixes map[string]int       // layerName's next try for each base name
	reads    map[string]int       // readers of each value name; see countReads
}

func decodeModel(m *onnxpb.ModelProto) (*dnn.Graph, error) {
	if err := checkOpset(m); err != nil {
		return nil, err
	}
	gp := m.GetGraph()
	if gp == nil {
		return nil, fmt.Errorf("onnx: model has no graph")
	}
	d := &decoder{
		g:        &dnn.Graph{Name: gp.GetName()},
		vals:     map[string]*value{},
		layers:   map[string]*dnn.Node{},
		suffixes: map[string]int{},
	}
	sources := map[string]bool{}
	for _, t := range gp.GetInitializer() {
		if sources[t.GetName()] {
			return nil, fmt.Errorf("onnx: initializer %q appears twice", t.GetName())
		}
		sources[t.GetName()] = true
		d.vals[t.GetName()] = &value{kind: constValue, t: t}
	}
	if err := d.input(gp); err != nil {
		return nil, err
	}
	for _, in := range gp.GetInput() {
		sources[in.GetName()] = true
	}
	if len(gp.GetSparseInitializer()) > 0 {
		return nil, fmt.Errorf("onnx: sparse initializers are %w", ErrUnsupported)
	}
	nodes, err := sortNodes(gp.GetNode(), sources)
	if err != nil {
		return nil, err
	}
	d.countReads(nodes, gp.GetOutput())
	for i, n := range nodes {
		if err := d.decodeNode(n); err != nil {
			return nil, &NodeError{nodeLabel(n, i), opName(n), err}
		}
	}
	if err := d.output(gp); err != nil {
		return nil, err
	}
	if err := readMetadata(d.g, m.GetMetadataProps()); err != nil {
		return nil, err
	}
	if err := checkGraph(d.g); err != nil {
		return nil, err
	}
	return d.g, nil
}

func checkOpset(m *onnxpb.ModelProto) error {
	for _, o := range m.GetOpsetImport() {
		if !isDefaultDomain(o.GetDomain()) {
			continue
		}
		if v := o.GetVersion(); v < minOpset || v > maxOpset {
			return fmt.Errorf("onnx: opset %d is outside the supported %d to %d", v, minOpset, maxOpset)
		}
		return nil
	}
	return fmt.Errorf("onnx: model imports no default-domain opset")
}

func isDefaultDomain(s string) bool { return s == "" || s == "ai.onnx" }

// input finds the one graph input that is not an initializer (files of IR
// version 3 and earlier list initializers among the inputs too) and takes
// g.Input and g.InputShape from it.
func (d *decoder) input(gp *onnxpb.GraphProto) error {
	var ins []*onnxpb.ValueInfoProto
	for _, in := range gp.GetInput() {
		if _, isInit := d.vals[in.GetName()]; !isInit {
			ins = append(ins, in)
		}
	}
	if len(ins) != 1 {
		return fmt.Errorf("onnx: model has %d inputs besides initializers, want 1", len(ins))
	}
	in := ins[0]
	if in.GetName() == "" {
		return fmt.Errorf("onnx: graph input has no name")
	}
	dims, err := tensorType(in)
	if err != nil {
		return err
	}
	if len(dims) < 2 {
		return fmt.Errorf("onnx: input %q has %d dimensions, want a batch and a sample shape", in.GetName(), len(dims))
	}
	d.batch = dims[0].GetDimValue()
	shape := make([]int, len(dims)-1)
	n := int64(1)
	for i, dm := range dims[1:] {
		v := dm.GetDimValue()
		if v < 1 || v > maxElems/n {
			return fmt.Errorf("onnx: input %q dimension %d is %q, want a fixed size", in.GetName(), i+1, dimString(dm))
		}
		n *= v
		shape[i] = int(v)
	}
	d.g.Input, d.g.InputShape = in.GetName(), shape
	d.vals[in.GetName()] = &value{kind: tensorValue, node: in.GetName(), shape: shape, names: []string{in.GetName()}}
	d.layers[in.GetName()] = nil
	return nil
}

// tensorType returns the dims of a float32 tensor value.
func tensorType(v *onnxpb.ValueInfoProto) ([]*onnxpb.TensorShapeProto_Dimension, error) {
	tt := v.GetType().GetTensorType()
	if tt == nil {
		return nil, fmt.Errorf("onnx: value %q is not a tensor", v.GetName())
	}
	if et := tt.GetElemType(); et != int32(onnxpb.TensorProto_FLOAT) {
		return nil, fmt.Errorf("onnx: value %q has element type %s, want FLOAT", v.GetName(), dataTypeName(et))
	}
	if tt.GetShape() == nil {
		return nil, fmt.Errorf("onnx: value %q has no shape", v.GetName())
	}
	return tt.GetShape().GetDim(), nil
}

func dimString(d *onnxpb.TensorShapeProto_Dimension) string {
	switch v := d.GetValue().(type) {
	case *onnxpb.TensorShapeProto_Dimension_DimValue:
		return strconv.FormatInt(v.DimValue, 10)
	case *onnxpb.TensorShapeProto_Dimension_DimParam:
		return v.DimParam
	}
	return "?"
}

// output binds the graph output, keeps only the layers it depends on and sets
// Classes from its shape.
func (d *decoder) output(gp *onnxpb.GraphProto) error {
	outs := gp.GetOutput()
	if len(outs) != 1 {
		return fmt.Errorf("onnx: model has %d outputs, want 1", len(outs))
	}
	name := outs[0].GetName()
	v := d.vals[name]
	if v == nil || v.kind != tensorValue || v.node == d.g.Input || v.unpadded != nil {
		return fmt.Errorf("onnx: output %q is not computed by any layer", name)
	}
	if len(v.shape) != 1 {
		return fmt.Errorf("onnx: output %q has per-sample shape %v, want [classes]", name, v.shape)
	}
	// The declared type is optional in ONNX; where present it must agree.
	if tt := outs[0].GetType().GetTensorType(); tt != nil {
		if et := tt.GetElemType(); et != int32(onnxpb.TensorProto_FLOAT) {
			return fmt.Errorf("onnx: output %q has element type %s, want FLOAT", name, dataTypeName(et))
		}
		if dims := tt.GetShape().GetDim(); tt.GetShape() != nil {
			if len(dims) != 2 {
				return fmt.Errorf("onnx: output %q is declared with %d dimensions, want [batch, classes]", name, len(dims))
			}
			if last := dims[1].GetDimValue(); last != 0 && last != int64(v.shape[0]) {
				return fmt.Errorf("onnx: output %q is declared with %s classes but computes %d", name, dimString(dims[1]), v.shape[0])
			}
		}
	}
	d.g.Classes = v.shape[0]
	d.g.Nodes = reachable(d.g.Nodes, v.node)
	return nil
}

// reachable returns the layers that out depends on, in their order; out is
// then the last of them.
func reachable(nodes []*dnn.Node, out string) []*dnn.Node {
	need := map[string]bool{out: true}
	keep := make([]bool, len(nodes))
	for i := len(nodes) - 1; i >= 0; i-- {
		if need[nodes[i].Name] {
			keep[i] = true
			for _, in := range nodes[i].Inputs {
				need[in] = true
			}
		}
	}
	var kept []*dnn.Node
	for i, n := range nodes {
		if keep[i] {
			kept = append(kept, n)
		}
	}
	return kept
}

// readMetadata fills the normalisation and Meta of g from metadata_props.
func readMetadata(g *dnn.Graph, props []*onnxpb.StringStringEntryProto) error {
	for _, p := range props {
		var err error
		switch k, v := p.GetKey(), p.GetValue(); k {
		case keyMean:
			g.InputMean, err = parseFloats(v)
		case keyStd:
			g.InputStd, err = parseFloats(v)
		default:
			if g.Meta == nil {
				g.Meta = map[string]string{}
			}
			g.Meta[k] = v
		}
		if err != nil {
			return fmt.Errorf("onnx: metadata %s: %w", p.GetKey(), err)
		}
	}
	return nil
}

func parseFloats(s string) ([]float32, error) {
	fields := strings.Split(s, ",")
	out := make([]float32, len(fields))
	for i, f := range fields {
		v, err := strconv.ParseFloat(strings.TrimSpace(f), 32)
		if err != nil {
			return nil, err
		}
		out[i] = float32(v)
	}
	return out, nil
}

// nodeLabel names node n (the i-th in decoding order) in errors.
func nodeLabel(n *onnxpb.NodeProto, i int) string {
	if n.GetName() != "" {
		return n.GetName()
	}
	if len(n.GetOutput()) > 0 && n.GetOutput()[0] != "" {
		return n.GetOutput()[0]
	}
	return "#" + strconv.Itoa(i)
}

func opName(n *onnxpb.NodeProto) string {
	if isDefaultDomain(n.GetDomain()) {
		return n.GetOpType()
	}
	return n.GetDomain() + "." + n.GetOpType()
}
