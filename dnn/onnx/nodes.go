package onnx

import (
	"fmt"
	"strconv"

	"github.com/tandem-edge/tandem/dnn"
	"github.com/tandem-edge/tandem/dnn/onnx/onnxpb"
)

// decodeFunc maps one ONNX node onto layers of the graph, binding its first
// output. a holds the node's attributes.
type decodeFunc func(d *decoder, n *onnxpb.NodeProto, a attrs) error

// decoders lists the default-domain operators Decode reads, each by the
// function that maps it.
var decoders map[string]decodeFunc

func init() {
	decoders = map[string]decodeFunc{
		"Conv":               (*decoder).conv,
		"BatchNormalization": (*decoder).batchNorm,
		"Relu":               (*decoder).relu,
		"MaxPool":            (*decoder).pool,
		"AveragePool":        (*decoder).pool,
		"GlobalAveragePool":  (*decoder).globalAvgPool,
		"Gemm":               (*decoder).gemm,
		"MatMul":             (*decoder).matMul,
		"Add":                (*decoder).add,
		"Flatten":            (*decoder).flatten,
		"Reshape":            (*decoder).reshape,
		"ReduceMean":         (*decoder).reduceMean,
		"Identity":           (*decoder).identity,
		"Dropout":            (*decoder).identity,
		"Constant":           (*decoder).constant,
		"Shape":              (*decoder).shapeOf,
		"Gather":             (*decoder).gather,
		"Unsqueeze":          (*decoder).unsqueeze,
		"Concat":             (*decoder).concat,
		"Pad":                (*decoder).pad,
	}
}

// decodeNode maps node n, whose inputs are all decoded.
func (d *decoder) decodeNode(n *onnxpb.NodeProto) error {
	f := decoders[n.GetOpType()]
	if f == nil || !isDefaultDomain(n.GetDomain()) {
		return errUnsupportedOp
	}
	if len(n.GetOutput()) == 0 || n.GetOutput()[0] == "" {
		return fmt.Errorf("has no output")
	}
	if err := f(d, n, nodeAttrs(n)); err != nil {
		return err
	}
	// Only the first output of any operator here is a tensor of the model;
	// the others (MaxPool's indices, Dropout's mask, BatchNormalization's
	// training statistics) are fine as long as nothing reads them.
	for _, out := range n.GetOutput()[1:] {
		if out != "" && d.reads[out] > 0 {
			return unsupported("use of output %q (only the first output is read)", out)
		}
	}
	return nil
}

// countReads records in d.reads how many node inputs and graph outputs read
// each value. Reads by Shape are left out: Shape looks only at the size,
// which merging a bias into a layer does not change.
func (d *decoder) countReads(nodes []*onnxpb.NodeProto, outputs []*onnxpb.ValueInfoProto) {
	d.reads = map[string]int{}
	for _, n := range nodes {
		if n.GetOpType() == "Shape" {
			continue
		}
		for _, in := range n.GetInput() {
			d.reads[in]++
		}
	}
	for _, out := range outputs {
		d.reads[out.GetName()]++
	}
}

// readers returns how many nodes and graph outputs read tensor v under any of
// its names, not counting the reads that gave it those names: v bound to
// names x and y = Identity(x), read by Identity and twice more, has 2.
func (d *decoder) readers(v *value) int {
	n := 1 - len(v.names)
	for _, name := range v.names {
		n += d.reads[name]
	}
	return n
}

// alias binds the first output of n to v: n passes its input on unchanged.
func (d *decoder) alias(n *onnxpb.NodeProto, v *value) {
	out := n.GetOutput()[0]
	d.vals[out] = v
	if v.kind == tensorValue {
		v.names = append(v.names, out)
	}
}

// in returns the value of input i of n, which must be present.
func (d *decoder) in(n *onnxpb.NodeProto, i int) (*value, string, error) {
	if i >= len(n.GetInput()) || n.GetInput()[i] == "" {
		return nil, "", fmt.Errorf("has %d inputs, want at least %d", len(n.GetInput()), i+1)
	}
	name := n.GetInput()[i]
	v := d.vals[name]
	if v == nil {
		// sortNodes saw a producer, so that producer's mapping left it unbound.
		return nil, name, unsupported("input %q (an output that is not mapped)", name)
	}
	return v, name, nil
}

// hasIn tells whether optional input i of n is given.
func hasIn(n *onnxpb.NodeProto, i int) bool {
	return i < len(n.GetInput()) && n.GetInput()[i] != ""
}

// tensorIn returns input i of n as a tensor computed from the graph input.
func (d *decoder) tensorIn(n *onnxpb.NodeProto, i int) (*value, error) {
	v, err := d.paddedIn(n, i)
	if err == nil && v.unpadded != nil {
		err = unsupported("input %q padded by a Pad node (only a Conv may read zero padding)", n.GetInput()[i])
	}
	return v, err
}

// paddedIn is tensorIn for the readers that accept a value with zero
// padding not yet applied.
func (d *decoder) paddedIn(n *onnxpb.NodeProto, i int) (*value, error) {
	v, name, err := d.in(n, i)
	if err != nil {
		return nil, err
	}
	if v.kind != tensorValue {
		return nil, unsupported("input %q: a constant or shape where a tensor of the model is expected", name)
	}
	return v, nil
}

// floatIn returns input i of n as float32 parameters: an initializer or a
// Constant.
func (d *decoder) floatIn(n *onnxpb.NodeProto, i int, what string) (*dnn.Tensor, error) {
	v, name, err := d.in(n, i)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if v.kind != constValue {
		return nil, unsupported("%s %q computed at run time (want an initializer)", what, name)
	}
	t, err := decodeFloats(v.t)
	if err != nil {
		return nil, fmt.Errorf("%s %q: %w", what, name, err)
	}
	return t, nil
}

// intsIn returns input i of n as integers: a constant, or sizes from Shape.
func (d *decoder) intsIn(n *onnxpb.NodeProto, i int) ([]dim, bool, error) {
	v, name, err := d.in(n, i)
	if err != nil {
		return nil, false, err
	}
	switch v.kind {
	case shapeValue:
		return v.dims, v.rank0, nil
	case constValue:
		ints, shape, err := decodeInts(v.t)
		if err != nil {
			return nil, false, fmt.Errorf("input %q: %w", name, err)
		}
		if len(shape) > 1 {
			return nil, false, unsupported("input %q of shape %v (want a scalar or a vector)", name, shape)
		}
		dims := make([]dim, len(ints))
		for j, x := range ints {
			dims[j] = dim{n: x}
		}
		return dims, len(shape) == 0, nil
	}
	return nil, false, unsupported("input %q computed from the model's tensors (want a constant or a shape)", name)
}

// emit appends layer l for node n, reading the tensors ins, after checking it
// as checkGraph would, and binds n's first output to it. suffix tells apart
// the layers of an ONNX node that maps onto several.
func (d *decoder) emit(n *onnxpb.NodeProto, l *dnn.Node, suffix string, ins ...*value) (*value, error) {
	l.Name = d.layerName(n, suffix)
	shapes := make([][]int, len(ins))
	for i, v := range ins {
		l.Inputs = append(l.Inputs, v.node)
		shapes[i] = v.shape
	}
	s, err := layerShape(l, shapes)
	if err != nil {
		return nil, err
	}
	d.layers[l.Name] = l
	d.g.Nodes = append(d.g.Nodes, l)
	v := &value{kind: tensorValue, node: l.Name, shape: s, names: []string{n.GetOutput()[0]}}
	d.vals[n.GetOutput()[0]] = v
	return v, nil
}

// layerName picks a name for a layer made from n: the node's name, else its
// first output's, with _2, _3, ... appended while the name is taken. Layer
// names become ONNX node and value names when the graph is encoded again.
func (d *decoder) layerName(n *onnxpb.NodeProto, suffix string) string {
	base := n.GetName()
	if base == "" {
		base = n.GetOutput()[0]
	}
	base += suffix
	// Counting on from the names already given keeps a file of many nodes
	// with one name linear to decode.
	for i := d.suffixes[base]; ; {
		name := base
		if i > 0 {
			name += "_" + strconv.Itoa(i+1)
		}
		i++
		if _, taken := d.layers[name]; !taken {
			d.suffixes[base] = i
			return name
		}
	}
}
