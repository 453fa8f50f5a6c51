package dnn

import (
	"fmt"
	"slices"
)

// DefaultBNEps is the BatchNorm epsilon used when Node.Eps is zero (PyTorch's).
const DefaultBNEps = 1e-5

// groups is the effective group count of a Conv node (Groups 0 means 1).
func (n *Node) groups() int {
	if n.Groups < 1 {
		return 1
	}
	return n.Groups
}

// stride is the effective stride of a Conv or pooling node; a zero component
// means 1, as an absent ONNX strides attribute does.
func (n *Node) stride() (sh, sw int) {
	sh, sw = n.Stride[0], n.Stride[1]
	if sh < 1 {
		sh = 1
	}
	if sw < 1 {
		sw = 1
	}
	return sh, sw
}

// eps is the effective BatchNorm epsilon.
func (n *Node) eps() float32 {
	if n.Eps == 0 {
		return DefaultBNEps
	}
	return n.Eps
}

func numel(shape []int) int {
	k := 1
	for _, d := range shape {
		k *= d
	}
	return k
}

// Validate checks that g is well formed: unique node names, inputs defined
// before use, attributes and parameter shapes consistent with the shapes
// flowing in, and a last node that yields Classes logits.
func (g *Graph) Validate() error {
	_, err := g.Shapes()
	return err
}

// Shapes infers the per-sample output shape of every node (without the batch
// dimension: [C, H, W] for feature maps, [F] after Flatten or Dense), keyed by
// node name; the graph input is included under Graph.Input. It returns an
// error naming the first node whose inputs, attributes or parameters do not
// fit. Cost: O(len(g.Nodes)).
func (g *Graph) Shapes() (map[string][]int, error) {
	if len(g.InputShape) == 0 {
		return nil, fmt.Errorf("dnn: graph %q: no input shape", g.Name)
	}
	for _, d := range g.InputShape {
		if d < 1 {
			return nil, fmt.Errorf("dnn: graph %q: input shape %v has a non-positive dimension", g.Name, g.InputShape)
		}
	}
	if len(g.Nodes) == 0 {
		return nil, fmt.Errorf("dnn: graph %q: no nodes", g.Name)
	}
	if g.InputMean != nil || g.InputStd != nil {
		c := g.InputShape[0]
		if len(g.InputMean) != c || len(g.InputStd) != c {
			return nil, fmt.Errorf("dnn: graph %q: input normalisation has %d means and %d stds, want %d each (one per input channel)",
				g.Name, len(g.InputMean), len(g.InputStd), c)
		}
		for i, s := range g.InputStd {
			if !(s > 0) {
				return nil, fmt.Errorf("dnn: graph %q: input std[%d] = %g, want > 0", g.Name, i, s)
			}
		}
	}
	shapes := map[string][]int{g.Input: slices.Clone(g.InputShape)}
	for _, n := range g.Nodes {
		if n.Name == "" {
			return nil, fmt.Errorf("dnn: graph %q: a %s node has no name", g.Name, n.Op)
		}
		if _, dup := shapes[n.Name]; dup {
			return nil, fmt.Errorf("dnn: node %q: name used twice (or equal to the graph input)", n.Name)
		}
		in := make([][]int, len(n.Inputs))
		for i, name := range n.Inputs {
			s, ok := shapes[name]
			if !ok {
				return nil, fmt.Errorf("dnn: node %q: input %q is not the graph input or an earlier node", n.Name, name)
			}
			in[i] = s
		}
		out, err := n.outShape(in)
		if err != nil {
			return nil, fmt.Errorf("dnn: node %q (%s): %w", n.Name, n.Op, err)
		}
		shapes[n.Name] = out
	}
	last := g.Nodes[len(g.Nodes)-1]
	if out := shapes[last.Name]; len(out) != 1 || out[0] != g.Classes {
		return nil, fmt.Errorf("dnn: node %q: output shape %v is the graph's logits, want [%d] (Classes)", last.Name, out, g.Classes)
	}
	return shapes, nil
}

// outShape infers the node's per-sample output shape from its input shapes.
func (n *Node) outShape(in [][]int) ([]int, error) {
	want := 1
	if n.Op == OpAdd {
		want = 2
	}
	if len(in) != want {
		return nil, fmt.Errorf("has %d inputs, want %d", len(in), want)
	}
	x := in[0]
	switch n.Op {
	case OpConv:
		return n.convShape(x)
	case OpBatchNorm:
		c := x[0]
		for _, p := range []struct {
			name string
			t    *Tensor
		}{{"Scale", n.Scale}, {"Bias", n.Bias}, {"Mean", n.Mean}, {"Var", n.Var}} {
			if p.t == nil || len(p.t.Data) != c {
				return nil, fmt.Errorf("%s must hold %d values (one per channel of input %v), has %d", p.name, c, x, tensorLen(p.t))
			}
		}
		if n.Eps < 0 {
			return nil, fmt.Errorf("field Eps = %g, want >= 0", n.Eps)
		}
		return slices.Clone(x), nil
	case OpReLU:
		return slices.Clone(x), nil
	case OpDropout:
		if n.Rate < 0 || n.Rate >= 1 {
			return nil, fmt.Errorf("field Rate = %g, want 0 <= Rate < 1", n.Rate)
		}
		return slices.Clone(x), nil
	case OpMaxPool, OpAvgPool:
		if len(x) != 3 {
			return nil, fmt.Errorf("input shape %v, want [C, H, W]", x)
		}
		oh, ow, err := n.window(x[1], x[2])
		if err != nil {
			return nil, err
		}
		for i, p := range n.Pad {
			if p >= n.Kernel[i%2] {
				return nil, fmt.Errorf("padding %v not smaller than kernel %v", n.Pad, n.Kernel)
			}
		}
		return []int{x[0], oh, ow}, nil
	case OpGlobalAvgPool:
		if len(x) != 3 {
			return nil, fmt.Errorf("input shape %v, want [C, H, W]", x)
		}
		return []int{x[0], 1, 1}, nil
	case OpFlatten:
		return []int{numel(x)}, nil
	case OpDense:
		if len(x) != 1 {
			return nil, fmt.Errorf("input shape %v, want a flat [features] input (insert a Flatten)", x)
		}
		if n.Out < 1 {
			return nil, fmt.Errorf("field Out = %d, want >= 1", n.Out)
		}
		if n.W == nil || !slices.Equal(n.W.Shape, []int{n.Out, x[0]}) || len(n.W.Data) != n.Out*x[0] {
			return nil, fmt.Errorf("weight W has shape %v, want [%d %d] (Out, input features)", tensorShape(n.W), n.Out, x[0])
		}
		if n.B != nil && len(n.B.Data) != n.Out {
			return nil, fmt.Errorf("bias B has %d values, want %d (Out)", len(n.B.Data), n.Out)
		}
		return []int{n.Out}, nil
	case OpAdd:
		if !slices.Equal(in[0], in[1]) {
			return nil, fmt.Errorf("adds inputs of unequal shapes %v and %v", in[0], in[1])
		}
		return slices.Clone(x), nil
	default:
		return nil, fmt.Errorf("unknown op %q", n.Op)
	}
}

func (n *Node) convShape(x []int) ([]int, error) {
	if len(x) != 3 {
		return nil, fmt.Errorf("input shape %v, want [C, H, W]", x)
	}
	g := n.groups()
	if n.Out < 1 {
		return nil, fmt.Errorf("field Out = %d, want >= 1", n.Out)
	}
	if x[0]%g != 0 || n.Out%g != 0 {
		return nil, fmt.Errorf("%d input and %d output channels are not both divisible by %d groups", x[0], n.Out, g)
	}
	oh, ow, err := n.window(x[1], x[2])
	if err != nil {
		return nil, err
	}
	w := []int{n.Out, x[0] / g, n.Kernel[0], n.Kernel[1]}
	if n.W == nil || !slices.Equal(n.W.Shape, w) || len(n.W.Data) != numel(w) {
		return nil, fmt.Errorf("weight W has shape %v, want %v (Out, in channels %d / groups %d, kH, kW)", tensorShape(n.W), w, x[0], g)
	}
	if n.B != nil && len(n.B.Data) != n.Out {
		return nil, fmt.Errorf("bias B has %d values, want %d (Out)", len(n.B.Data), n.Out)
	}
	return []int{n.Out, oh, ow}, nil
}

// window returns the output size of a sliding kernel over an h×w map.
//
//	out = ⌊(in + padBegin + padEnd − kernel) / stride⌋ + 1
func (n *Node) window(h, w int) (oh, ow int, err error) {
	if n.Kernel[0] < 1 || n.Kernel[1] < 1 {
		return 0, 0, fmt.Errorf("kernel %v, want both sides >= 1", n.Kernel)
	}
	for _, p := range n.Pad {
		if p < 0 {
			return 0, 0, fmt.Errorf("padding %v has a negative side", n.Pad)
		}
	}
	sh, sw := n.stride()
	hh := h + n.Pad[0] + n.Pad[2] - n.Kernel[0]
	ww := w + n.Pad[1] + n.Pad[3] - n.Kernel[1]
	if hh < 0 || ww < 0 {
		return 0, 0, fmt.Errorf("kernel %v larger than the padded %dx%d input", n.Kernel, h+n.Pad[0]+n.Pad[2], w+n.Pad[1]+n.Pad[3])
	}
	return hh/sh + 1, ww/sw + 1, nil
}

func tensorLen(t *Tensor) int {
	if t == nil {
		return 0
	}
	return len(t.Data)
}

func tensorShape(t *Tensor) []int {
	if t == nil {
		return nil
	}
	return t.Shape
}
