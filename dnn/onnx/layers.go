package onnx

import (
	"fmt"
	"slices"

	"github.com/tandem-edge/tandem/dnn"
	"github.com/tandem-edge/tandem/dnn/onnx/onnxpb"
)

// Decoding of the operators that become layers one for one.

func (d *decoder) conv(n *onnxpb.NodeProto, a attrs) error {
	x, err := d.paddedIn(n, 0)
	if err != nil {
		return err
	}
	w, err := d.floatIn(n, 1, "weight")
	if err != nil {
		return err
	}
	if len(w.Shape) != 4 {
		return unsupported("convolution with weight shape %v (only 2-D is)", w.Shape)
	}
	k := [2]int{w.Shape[2], w.Shape[3]}
	ks, err := a.ints("kernel_shape", nil, 2)
	if err != nil {
		return err
	}
	if ks != nil && (ks[0] != int64(k[0]) || ks[1] != int64(k[1])) {
		return fmt.Errorf("kernel_shape %v does not match weight shape %v", ks, w.Shape)
	}
	group, err := a.int("group", 1)
	if err != nil {
		return err
	}
	if group < 1 || group > maxElems {
		return fmt.Errorf("group %d, want ≥ 1", group)
	}
	stride, pad, err := window(a, x.shape, k)
	if err != nil {
		return err
	}
	if x.unpadded != nil {
		for i := range pad {
			pad[i] += x.pad[i]
		}
		x = x.unpadded
	}
	var b *dnn.Tensor
	if hasIn(n, 2) {
		if b, err = d.floatIn(n, 2, "bias"); err != nil {
			return err
		}
	}
	l := &dnn.Node{Op: dnn.OpConv, Out: w.Shape[0], Kernel: k, Stride: stride, Pad: pad, Groups: int(group), W: w, B: b}
	_, err = d.emit(n, l, "", x)
	return err
}

func (d *decoder) batchNorm(n *onnxpb.NodeProto, a attrs) error {
	x, err := d.tensorIn(n, 0)
	if err != nil {
		return err
	}
	var p [4]*dnn.Tensor
	for i, what := range []string{"scale", "bias", "mean", "var"} {
		if p[i], err = d.floatIn(n, i+1, what); err != nil {
			return err
		}
	}
	eps, err := a.float("epsilon", 1e-5)
	if err != nil {
		return err
	}
	// spatial (before opset 9) and training_mode (opset 14 on) change what
	// the node computes; their defaults are the inference form.
	if v, err := a.int("spatial", 1); err != nil || v != 1 {
		return firstErr(err, unsupported("spatial=%d", v))
	}
	if v, err := a.int("training_mode", 0); err != nil || v != 0 {
		return firstErr(err, unsupported("training_mode=%d", v))
	}
	l := &dnn.Node{Op: dnn.OpBatchNorm, Eps: eps, Scale: p[0], Bias: p[1], Mean: p[2], Var: p[3]}
	_, err = d.emit(n, l, "", x)
	return err
}

func (d *decoder) relu(n *onnxpb.NodeProto, _ attrs) error {
	x, err := d.tensorIn(n, 0)
	if err != nil {
		return err
	}
	_, err = d.emit(n, &dnn.Node{Op: dnn.OpReLU}, "", x)
	return err
}

func (d *decoder) globalAvgPool(n *onnxpb.NodeProto, _ attrs) error {
	x, err := d.tensorIn(n, 0)
	if err != nil {
		return err
	}
	_, err = d.emit(n, &dnn.Node{Op: dnn.OpGlobalAvgPool}, "", x)
	return err
}

// pool decodes MaxPool and AveragePool.
func (d *decoder) pool(n *onnxpb.NodeProto, a attrs) error {
	x, err := d.tensorIn(n, 0)
	if err != nil {
		return err
	}
	ks, err := a.ints("kernel_shape", nil, 2)
	if err != nil {
		return err
	}
	if ks == nil {
		return fmt.Errorf("kernel_shape missing")
	}
	k, err := pair("kernel_shape", ks, 1)
	if err != nil {
		return err
	}
	stride, pad, err := window(a, x.shape, k)
	if err != nil {
		return err
	}
	if v, err := a.int("ceil_mode", 0); err != nil || v != 0 && !ceilIsFloor(x.shape, k, stride, pad) {
		return firstErr(err, unsupported("ceil_mode=%d where it adds a window", v))
	}
	l := &dnn.Node{Op: dnn.OpMaxPool, Kernel: k, Stride: stride, Pad: pad}
	if n.GetOpType() == "AveragePool" {
		l.Op = dnn.OpAvgPool
		// Without padding, counting the padding in the average or not is
		// the same; PyTorch writes count_include_pad=1 by default.
		if v, err := a.int("count_include_pad", 0); err != nil || v != 0 && pad != [4]int{} {
			return firstErr(err, unsupported("count_include_pad=%d with pads %v", v, pad))
		}
	}
	_, err = d.emit(n, l, "", x)
	return err
}

// window reads the sliding-window attributes that Conv and the pools share,
// for input x = [C H W] and kernel k, turning auto_pad into explicit pads.
// SAME_* pads so that H' = ⌈H / sH⌉, the odd pixel at the end (UPPER) or the
// beginning (LOWER).
func window(a attrs, x []int, k [2]int) (stride [2]int, pad [4]int, err error) {
	if len(x) != 3 {
		return stride, pad, fmt.Errorf("input shape %v, want [C H W]", x)
	}
	s, err := a.ints("strides", []int64{1, 1}, 2)
	if err == nil {
		stride, err = pair("strides", s, 1)
	}
	if err != nil {
		return stride, pad, err
	}
	dil, err := a.ints("dilations", nil, 2)
	if err != nil {
		return stride, pad, err
	}
	if slices.ContainsFunc(dil, func(v int64) bool { return v != 1 }) {
		return stride, pad, unsupported("dilations %v", dil)
	}
	mode, err := a.string("auto_pad", "NOTSET")
	if err != nil {
		return stride, pad, err
	}
	switch mode {
	case "NOTSET", "":
		p, err := a.ints("pads", []int64{0, 0, 0, 0}, 4)
		if err != nil {
			return stride, pad, err
		}
		for i, v := range p {
			if v < 0 || v > maxElems {
				return stride, pad, fmt.Errorf("pads %v, want values ≥ 0", p)
			}
			pad[i] = int(v)
		}
	case "VALID":
	case "SAME_UPPER", "SAME_LOWER":
		for i := range 2 {
			in, s := x[1+i], stride[i]
			total := max(0, ((in+s-1)/s-1)*s+k[i]-in)
			lo, hi := total/2, total-total/2
			if mode == "SAME_LOWER" {
				lo, hi = hi, lo
			}
			pad[i], pad[i+2] = lo, hi
		}
	default:
		return stride, pad, fmt.Errorf("auto_pad %q is not NOTSET, VALID, SAME_UPPER or SAME_LOWER", mode)
	}
	return stride, pad, nil
}

// ceilIsFloor tells whether rounding the window count up (ceil_mode=1) gives
// the same output size as rounding down, as it does whenever the windows
// tile the padded input exactly. A window that would start in the end
// padding is not counted, as in ONNX and PyTorch.
func ceilIsFloor(x []int, k, s [2]int, p [4]int) bool {
	for i := range 2 {
		span := x[1+i] + p[i] + p[i+2] - k[i]
		if span < 0 {
			return true // layerShape reports the kernel as too large
		}
		floor, ceil := span/s[i], (span+s[i]-1)/s[i]
		if ceil > floor && ceil*s[i] >= x[1+i]+p[i] {
			ceil--
		}
		if ceil != floor {
			return false
		}
	}
	return true
}

// gemm decodes Gemm as Dense: W is transposed to [Out In] when transB=0, and
// alpha and beta are multiplied into W and the bias.
func (d *decoder) gemm(n *onnxpb.NodeProto, a attrs) error {
	x, err := d.tensorIn(n, 0)
	if err != nil {
		return err
	}
	if len(x.shape) != 1 {
		return fmt.Errorf("input shape [N %v], want [N K]", x.shape)
	}
	if v, err := a.int("transA", 0); err != nil || v != 0 {
		return firstErr(err, unsupported("transA=%d", v))
	}
	transB, err := a.int("transB", 0)
	if err != nil {
		return err
	}
	alpha, err := a.float("alpha", 1)
	if err != nil {
		return err
	}
	beta, err := a.float("beta", 1)
	if err != nil {
		return err
	}
	w, err := d.floatIn(n, 1, "weight")
	if err != nil {
		return err
	}
	if len(w.Shape) != 2 {
		return fmt.Errorf("weight shape %v, want 2-D", w.Shape)
	}
	if transB == 0 {
		w = transpose(w)
	}
	scale(w, alpha)
	var b *dnn.Tensor
	if hasIn(n, 2) {
		c, err := d.floatIn(n, 2, "bias")
		if err != nil {
			return err
		}
		if b, err = channelVector(c, []int{w.Shape[0]}); err != nil {
			return fmt.Errorf("bias: %w", err)
		}
		scale(b, beta)
	}
	_, err = d.emit(n, &dnn.Node{Op: dnn.OpDense, Out: w.Shape[0], W: w, B: b}, "", x)
	return err
}

// matMul decodes x·W with W an initializer [In Out] as a Dense layer without
// bias; an Add of a constant that follows gives it one (see addBias).
func (d *decoder) matMul(n *onnxpb.NodeProto, _ attrs) error {
	x, err := d.tensorIn(n, 0)
	if err != nil {
		return err
	}
	if len(x.shape) != 1 {
		return unsupported("MatMul of input shape [N %v] (only [N K] by a 2-D initializer is)", x.shape)
	}
	w, err := d.floatIn(n, 1, "weight")
	if err != nil {
		return err
	}
	if len(w.Shape) != 2 {
		return unsupported("MatMul by weight shape %v (only 2-D is)", w.Shape)
	}
	w = transpose(w)
	_, err = d.emit(n, &dnn.Node{Op: dnn.OpDense, Out: w.Shape[0], W: w}, "", x)
	return err
}

// add decodes Add: of two tensors, a residual layer; of a tensor and a
// constant, a bias merged into the layer before (see addBias).
func (d *decoder) add(n *onnxpb.NodeProto, _ attrs) error {
	var vs [2]*value
	for i := range vs {
		v, _, err := d.in(n, i)
		if err != nil {
			return err
		}
		if v.unpadded != nil {
			return unsupported("input %q padded by a Pad node (only a Conv may read zero padding)", n.GetInput()[i])
		}
		vs[i] = v
	}
	switch {
	case vs[0].kind == tensorValue && vs[1].kind == tensorValue:
		_, err := d.emit(n, &dnn.Node{Op: dnn.OpAdd}, "", vs[0], vs[1])
		return err
	case vs[0].kind == tensorValue && vs[1].kind == constValue:
		return d.addBias(n, vs[0], 1)
	case vs[0].kind == constValue && vs[1].kind == tensorValue:
		return d.addBias(n, vs[1], 0)
	}
	return unsupported("Add without a tensor of the model")
}

// addBias merges the constant input ci of Add node n into the bias of the
// Conv or Dense layer computing x. That is only the same model when nothing
// else reads the layer's output, which countReads tells.
func (d *decoder) addBias(n *onnxpb.NodeProto, x *value, ci int) error {
	l := d.layers[x.node]
	if l == nil || l.Op != dnn.OpDense && l.Op != dnn.OpConv || d.readers(x) != 1 {
		return unsupported("Add of constant %q (only as the bias of a Conv, Gemm or MatMul read by nothing else)", n.GetInput()[ci])
	}
	c, err := d.floatIn(n, ci, "bias")
	if err != nil {
		return err
	}
	b, err := channelVector(c, x.shape)
	if err != nil {
		return fmt.Errorf("bias %q: %w", n.GetInput()[ci], err)
	}
	if l.B != nil {
		for i, v := range l.B.Data {
			b.Data[i] += v
		}
	}
	l.B = b
	d.alias(n, x)
	return nil
}

// channelVector returns c as one value per channel of a tensor of per-sample
// shape x, when c broadcasts along the channel dimension only (or is a
// single value); ONNX broadcasting aligns c's dims to the right of [N x...].
func channelVector(c *dnn.Tensor, x []int) (*dnn.Tensor, error) {
	r := len(x) + 1
	if len(c.Shape) > r {
		return nil, fmt.Errorf("shape %v has more dimensions than [N %v]", c.Shape, x)
	}
	ch := 1
	for j, dm := range c.Shape {
		switch axis := r - len(c.Shape) + j; {
		case axis == 1 && dm == x[0]:
			ch = dm
		case dm != 1:
			return nil, fmt.Errorf("shape %v does not broadcast per channel over [N %v]", c.Shape, x)
		}
	}
	out := dnn.NewTensor(x[0])
	for i := range out.Data {
		out.Data[i] = c.Data[i%ch]
	}
	return out, nil
}

func transpose(t *dnn.Tensor) *dnn.Tensor {
	r, c := t.Shape[0], t.Shape[1]
	out := dnn.NewTensor(c, r)
	for i := range r {
		for j := range c {
			out.Data[j*r+i] = t.Data[i*c+j]
		}
	}
	return out
}

func scale(t *dnn.Tensor, s float32) {
	if s == 1 {
		return
	}
	for i := range t.Data {
		t.Data[i] *= s
	}
}

// firstErr returns err when it is set, else alt: an attribute of the wrong
// type is reported before its value.
func firstErr(err, alt error) error {
	if err != nil {
		return err
	}
	return alt
}
