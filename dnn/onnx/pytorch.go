package onnx

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/tandem-edge/tandem/dnn"
	"github.com/tandem-edge/tandem/dnn/onnx/onnxpb"
)

// Decoding of the operators exporters such as torch.onnx.export write around
// the layers: pass-throughs, constants, flattening by Flatten or Reshape, the
// Shape→Gather→Unsqueeze→Concat arithmetic that x.view(x.size(0), -1)
// becomes, ReduceMean as global average pooling and explicit zero padding by
// Pad (F.pad, AvgPool2d with count_include_pad). The shape arithmetic is
// evaluated while decoding, with the batch size kept symbolic, so that any
// chain ending in a Reshape that flattens each sample is recognised, not
// only the exact sequence one PyTorch version emits.

// identity decodes Identity and Dropout, which is the identity at inference.
func (d *decoder) identity(n *onnxpb.NodeProto, _ attrs) error {
	v, _, err := d.in(n, 0)
	if err != nil {
		return err
	}
	d.alias(n, v)
	return nil
}

// constant decodes Constant in its tensor form and in the scalar and list
// forms of opset 12.
func (d *decoder) constant(n *onnxpb.NodeProto, a attrs) error {
	if len(a) != 1 {
		return fmt.Errorf("has %d attributes, want 1", len(a))
	}
	var name string
	for name = range a {
	}
	floats := func(dims []int64, f []float32) *onnxpb.TensorProto {
		return &onnxpb.TensorProto{Dims: dims, DataType: proto.Int32(int32(onnxpb.TensorProto_FLOAT)), FloatData: f}
	}
	ints := func(dims []int64, v []int64) *onnxpb.TensorProto {
		return &onnxpb.TensorProto{Dims: dims, DataType: proto.Int32(int32(onnxpb.TensorProto_INT64)), Int64Data: v}
	}
	var t *onnxpb.TensorProto
	var err error
	switch name {
	case "value":
		t, err = a.tensor(name)
	case "value_float":
		var f float32
		f, err = a.float(name, 0)
		t = floats(nil, []float32{f})
	case "value_floats":
		var f []float32
		f, err = a.floats(name)
		t = floats([]int64{int64(len(f))}, f)
	case "value_int":
		var i int64
		i, err = a.int(name, 0)
		t = ints(nil, []int64{i})
	case "value_ints":
		var v []int64
		v, err = a.ints(name, nil, 0)
		t = ints([]int64{int64(len(v))}, v)
	default:
		return unsupported("Constant attribute %s", name)
	}
	if err != nil {
		return err
	}
	if t == nil {
		return fmt.Errorf("value missing")
	}
	d.vals[n.GetOutput()[0]] = &value{kind: constValue, t: t}
	return nil
}

// flatten decodes Flatten, which keeps the batch apart only with axis 1.
func (d *decoder) flatten(n *onnxpb.NodeProto, a attrs) error {
	x, err := d.tensorIn(n, 0)
	if err != nil {
		return err
	}
	axis, err := a.int("axis", 1)
	if err != nil {
		return err
	}
	if axis < 0 {
		axis += int64(len(x.shape) + 1)
	}
	if axis != 1 {
		return unsupported("axis %d (only 1 keeps the batch apart)", axis)
	}
	return d.flattenTo(n, x, "")
}

// flattenTo binds n's output to x flattened per sample: x itself when it is
// already one vector per sample.
func (d *decoder) flattenTo(n *onnxpb.NodeProto, x *value, suffix string) error {
	if len(x.shape) == 1 {
		d.alias(n, x)
		return nil
	}
	_, err := d.emit(n, &dnn.Node{Op: dnn.OpFlatten}, suffix, x)
	return err
}

// reshape decodes a Reshape that leaves every sample as it is or flattens
// it; the target shape may be a constant or computed from Shape.
func (d *decoder) reshape(n *onnxpb.NodeProto, a attrs) error {
	x, err := d.tensorIn(n, 0)
	if err != nil {
		return err
	}
	target, _, err := d.intsIn(n, 1)
	if err != nil {
		return err
	}
	allowZero, err := a.int("allowzero", 0)
	if err != nil {
		return err
	}
	if allowZero != 0 && slices.Contains(target, dim{n: 0}) {
		return unsupported("allowzero=1 with a 0 in shape %s", dimsString(target))
	}
	shape, err := d.reshapeTo(x.shape, target)
	if err != nil {
		return err
	}
	switch {
	case slices.Equal(shape, x.shape):
		d.alias(n, x)
		return nil
	case len(shape) == 1:
		return d.flattenTo(n, x, "")
	}
	return unsupported("Reshape of [N %v] to %s (only flattening to [N, -1] is)", x.shape, dimsString(target))
}

// reshapeTo resolves the Reshape target for input [N sample...] and returns
// the new per-sample shape. The first dimension must stay the batch: the
// batch size itself, 0 (copy), -1 with the rest holding one whole sample, or
// the input's fixed batch size when it has one.
func (d *decoder) reshapeTo(sample []int, target []dim) ([]int, error) {
	if len(target) == 0 {
		return nil, fmt.Errorf("empty target shape")
	}
	first, rest := target[0], target[1:]
	out := make([]int, len(rest))
	infer, known := -1, 1
	for i, t := range rest {
		switch {
		case t.batch:
			return nil, unsupported("Reshape to %s moves the batch size", dimsString(target))
		case t.n == -1 && infer < 0:
			infer = i
			continue
		case t.n == 0 && i < len(sample):
			out[i] = sample[i]
		case t.n > 0 && t.n <= maxElems:
			out[i] = int(t.n)
		default:
			return nil, fmt.Errorf("invalid target shape %s", dimsString(target))
		}
		if known *= out[i]; known > maxElems {
			return nil, fmt.Errorf("target shape %s is too large", dimsString(target))
		}
	}
	size := numel(sample)
	switch {
	case first.batch || first.n == 0 || d.batch > 0 && first.n == d.batch:
		if infer >= 0 && known > 0 {
			out[infer] = size / known
		}
	case first.n == -1 && infer < 0:
	default:
		return nil, unsupported("Reshape to %s (the first dimension must stay the batch size)", dimsString(target))
	}
	if numel(out) != size {
		return nil, fmt.Errorf("reshape of [N %v] to %s changes the sample size", sample, dimsString(target))
	}
	return out, nil
}

func dimsString(ds []dim) string {
	s := make([]string, len(ds))
	for i, d := range ds {
		if d.batch {
			s[i] = "N"
		} else {
			s[i] = strconv.FormatInt(d.n, 10)
		}
	}
	return "[" + strings.Join(s, " ") + "]"
}

// reduceMean decodes the mean over H and W, which PyTorch writes for
// x.mean((2, 3)), as GlobalAveragePool, followed by Flatten when the reduced
// dimensions are not kept.
func (d *decoder) reduceMean(n *onnxpb.NodeProto, a attrs) error {
	x, err := d.tensorIn(n, 0)
	if err != nil {
		return err
	}
	axes, err := a.ints("axes", nil, 0)
	if err != nil {
		return err
	}
	if hasIn(n, 1) { // opset 18 moved axes to an input
		ds, _, err := d.intsIn(n, 1)
		if err != nil {
			return err
		}
		axes = nil
		for _, dm := range ds {
			axes = append(axes, dm.n)
		}
	}
	keep, err := a.int("keepdims", 1)
	if err != nil {
		return err
	}
	r := int64(len(x.shape) + 1)
	norm := make([]int64, len(axes))
	for i, ax := range axes {
		if ax < 0 {
			ax += r
		}
		norm[i] = ax
	}
	slices.Sort(norm)
	if r != 4 || !slices.Equal(norm, []int64{2, 3}) {
		return unsupported("ReduceMean over axes %v of [N %v] (only over H and W of [N C H W] is)", axes, x.shape)
	}
	v, err := d.emit(n, &dnn.Node{Op: dnn.OpGlobalAvgPool}, "", x)
	if err != nil || keep != 0 {
		return err
	}
	return d.flattenTo(n, v, "/flatten")
}

// pad decodes Pad. Zero pads are a no-op; PyTorch writes one before each
// AveragePool with count_include_pad. Padding of H and W with zeros is kept
// pending on the value and added to the pads of the Conv that reads it, the
// one layer whose own padding means the same; any other reader is an error.
func (d *decoder) pad(n *onnxpb.NodeProto, a attrs) error {
	x, err := d.paddedIn(n, 0)
	if err != nil {
		return err
	}
	mode, err := a.string("mode", "constant")
	if err != nil {
		return err
	}
	pads, err := a.ints("pads", nil, 0) // before opset 11
	if err != nil {
		return err
	}
	if hasIn(n, 1) {
		ds, _, err := d.intsIn(n, 1)
		if err != nil {
			return err
		}
		pads = nil
		for _, dm := range ds {
			pads = append(pads, dm.n)
		}
	}
	fill, err := a.float("value", 0)
	if err != nil {
		return err
	}
	if hasIn(n, 2) {
		c, err := d.floatIn(n, 2, "constant_value")
		if err != nil {
			return err
		}
		if len(c.Data) != 1 {
			return fmt.Errorf("constant_value of shape %v, want a scalar", c.Shape)
		}
		fill = c.Data[0]
	}
	if hasIn(n, 3) {
		return unsupported("Pad with axes")
	}
	r := len(x.shape) + 1
	if len(pads) != 2*r {
		return fmt.Errorf("%d pads for %d dimensions", len(pads), r)
	}
	if !slices.ContainsFunc(pads, func(p int64) bool { return p != 0 }) {
		d.alias(n, x)
		return nil
	}
	if mode != "constant" || fill != 0 || r != 4 || pads[0] != 0 || pads[1] != 0 || pads[4] != 0 || pads[5] != 0 ||
		slices.ContainsFunc(pads, func(p int64) bool { return p < 0 || p > maxElems }) {
		return unsupported("Pad %v in mode %s with %g (only zeros around H and W are)", pads, mode, fill)
	}
	v := &value{kind: tensorValue, node: x.node, unpadded: x,
		pad: [4]int{int(pads[2]), int(pads[3]), int(pads[6]), int(pads[7])}}
	if x.unpadded != nil {
		v.unpadded = x.unpadded
		for i := range v.pad {
			v.pad[i] += x.pad[i]
		}
	}
	base := v.unpadded.shape
	v.shape = []int{base[0], base[1] + v.pad[0] + v.pad[2], base[2] + v.pad[1] + v.pad[3]}
	d.vals[n.GetOutput()[0]] = v
	return nil
}

// Shape arithmetic. A shapeValue is a vector (or scalar) of integers, each
// either known or the batch size.

// maxRank bounds the length of a shapeValue, so that Concat after Concat of
// a shape with itself cannot grow without bound.
const maxRank = 64

// shapeOf decodes Shape, with opset 15's start and end.
func (d *decoder) shapeOf(n *onnxpb.NodeProto, a attrs) error {
	x, err := d.paddedIn(n, 0)
	if err != nil {
		return err
	}
	dims := []dim{{batch: true}}
	for _, s := range x.shape {
		dims = append(dims, dim{n: int64(s)})
	}
	r := int64(len(dims))
	start, err := a.int("start", 0)
	if err != nil {
		return err
	}
	end, err := a.int("end", r)
	if err != nil {
		return err
	}
	clamp := func(i int64) int64 {
		if i < 0 {
			i += r
		}
		return min(max(i, 0), r)
	}
	start, end = clamp(start), clamp(end)
	d.vals[n.GetOutput()[0]] = &value{kind: shapeValue, dims: dims[start:max(start, end)]}
	return nil
}

// gather decodes Gather of entries of a shape, such as x.size(0).
func (d *decoder) gather(n *onnxpb.NodeProto, a attrs) error {
	if err := d.shapeOnly(n); err != nil {
		return err
	}
	data, rank0, err := d.intsIn(n, 0)
	if err != nil {
		return err
	}
	idx, idxRank0, err := d.intsIn(n, 1)
	if err != nil {
		return err
	}
	if axis, err := a.int("axis", 0); err != nil || rank0 || axis != 0 && axis != -1 {
		return firstErr(err, unsupported("Gather other than of entries of a vector"))
	}
	out := make([]dim, len(idx))
	for i, ix := range idx {
		j := ix.n
		if j < 0 {
			j += int64(len(data))
		}
		if ix.batch || j < 0 || j >= int64(len(data)) {
			return fmt.Errorf("index %s out of range for %d values", dimsString(idx[i:i+1]), len(data))
		}
		out[i] = data[j]
	}
	d.vals[n.GetOutput()[0]] = &value{kind: shapeValue, dims: out, rank0: idxRank0}
	return nil
}

// unsqueeze decodes Unsqueeze of a scalar into a one-element vector, the
// step before Concat builds a shape.
func (d *decoder) unsqueeze(n *onnxpb.NodeProto, a attrs) error {
	if err := d.shapeOnly(n); err != nil {
		return err
	}
	data, rank0, err := d.intsIn(n, 0)
	if err != nil {
		return err
	}
	axes, err := a.ints("axes", nil, 0)
	if err != nil {
		return err
	}
	if hasIn(n, 1) { // opset 13 moved axes to an input
		ds, _, err := d.intsIn(n, 1)
		if err != nil {
			return err
		}
		axes = nil
		for _, dm := range ds {
			axes = append(axes, dm.n)
		}
	}
	if !rank0 || len(axes) != 1 || axes[0] != 0 && axes[0] != -1 {
		return unsupported("Unsqueeze with axes %v other than of a scalar into a vector", axes)
	}
	d.vals[n.GetOutput()[0]] = &value{kind: shapeValue, dims: data}
	return nil
}

// concat decodes Concat of vectors of integers into a shape.
func (d *decoder) concat(n *onnxpb.NodeProto, a attrs) error {
	if err := d.shapeOnly(n); err != nil {
		return err
	}
	if axis, err := a.int("axis", 0); err != nil || axis != 0 && axis != -1 {
		return firstErr(err, unsupported("Concat of shapes along axis %d", axis))
	}
	var out []dim
	for i := range n.GetInput() {
		ds, rank0, err := d.intsIn(n, i)
		if err != nil {
			return err
		}
		if rank0 {
			return fmt.Errorf("input %q is a scalar, want a vector", n.GetInput()[i])
		}
		if len(out)+len(ds) > maxRank {
			return fmt.Errorf("result longer than %d, not a shape", maxRank)
		}
		out = append(out, ds...)
	}
	d.vals[n.GetOutput()[0]] = &value{kind: shapeValue, dims: out}
	return nil
}

// shapeOnly rejects a node that reads a tensor of the model: Gather,
// Unsqueeze and Concat are mapped only as arithmetic on shapes.
func (d *decoder) shapeOnly(n *onnxpb.NodeProto) error {
	for _, in := range n.GetInput() {
		if v := d.vals[in]; v != nil && v.kind == tensorValue {
			return unsupported("operator on a tensor of the model (only on shapes)")
		}
	}
	return nil
}
