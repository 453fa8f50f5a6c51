package onnx

import (
	"fmt"
	"slices"

	"github.com/tandem-edge/tandem/dnn"
)

// checkGraph validates g the way ONNX Runtime would see its encoding: node
// names unique, every input an earlier node or the graph input, parameters of
// the shapes the layer needs, and the last node producing [Classes] logits.
// Encode runs it before writing, and Decode on what it built, so that a model
// either converts whole or fails naming the node at fault.
func checkGraph(g *dnn.Graph) error {
	if g.Input == "" {
		return fmt.Errorf("onnx: graph has no input name")
	}
	if len(g.InputShape) == 0 || slices.ContainsFunc(g.InputShape, func(d int) bool { return d < 1 }) {
		return fmt.Errorf("onnx: input shape %v is not a list of positive sizes", g.InputShape)
	}
	if len(g.Nodes) == 0 {
		return fmt.Errorf("onnx: graph has no nodes")
	}
	shapes := map[string][]int{g.Input: g.InputShape}
	for i, n := range g.Nodes {
		if n == nil {
			return fmt.Errorf("onnx: node %d is nil", i)
		}
		if n.Name == "" {
			return fmt.Errorf("onnx: node %d (op %s) has no name", i, n.Op)
		}
		if _, dup := shapes[n.Name]; dup {
			return &NodeError{n.Name, string(n.Op), fmt.Errorf("name already used by an earlier node or the input")}
		}
		in := make([][]int, len(n.Inputs))
		for j, name := range n.Inputs {
			s, ok := shapes[name]
			if !ok {
				return &NodeError{n.Name, string(n.Op), fmt.Errorf("input %q is neither an earlier node nor the graph input", name)}
			}
			in[j] = s
		}
		s, err := layerShape(n, in)
		if err != nil {
			return &NodeError{n.Name, string(n.Op), err}
		}
		shapes[n.Name] = s
	}
	if out := shapes[g.Output()]; len(out) != 1 || out[0] != g.Classes {
		return fmt.Errorf("onnx: output %q has per-sample shape %v, want [%d] (Classes)", g.Output(), out, g.Classes)
	}
	return checkNorm(g)
}

// checkNorm checks that the input normalisation has one entry per channel.
func checkNorm(g *dnn.Graph) error {
	if len(g.InputShape) != 3 {
		return nil
	}
	for _, v := range []struct {
		key string
		val []float32
	}{{keyMean, g.InputMean}, {keyStd, g.InputStd}} {
		if v.val != nil && len(v.val) != g.InputShape[0] {
			return fmt.Errorf("onnx: %s has %d values for %d input channels", v.key, len(v.val), g.InputShape[0])
		}
	}
	if slices.Contains(g.InputStd, 0) {
		return fmt.Errorf("onnx: %s %v holds a zero", keyStd, g.InputStd)
	}
	return nil
}

// layerShape checks n against the per-sample shapes of its inputs (the batch
// dimension left out) and returns the per-sample shape of its output.
func layerShape(n *dnn.Node, in [][]int) ([]int, error) {
	out, err := outputShape(n, in)
	if err != nil {
		return nil, err
	}
	// Bounding every size keeps the arithmetic on shapes from overflowing,
	// whatever pads or strides a corrupt file holds.
	size := 1
	for _, d := range out {
		if d < 1 || d > maxElems/size {
			return nil, fmt.Errorf("output shape %v is empty or too large", out)
		}
		size *= d
	}
	return out, nil
}

func outputShape(n *dnn.Node, in [][]int) ([]int, error) {
	want := 1
	if n.Op == dnn.OpAdd {
		want = 2
	}
	if len(in) != want {
		return nil, fmt.Errorf("has %d inputs, want %d", len(in), want)
	}
	x := in[0]
	switch n.Op {
	case dnn.OpConv:
		return convShape(n, x)
	case dnn.OpDense:
		return denseShape(n, x)
	case dnn.OpBatchNorm:
		if len(x) == 0 {
			return nil, fmt.Errorf("input is a scalar, want channels first")
		}
		for _, p := range []struct {
			what string
			t    *dnn.Tensor
		}{{"scale", n.Scale}, {"bias", n.Bias}, {"mean", n.Mean}, {"var", n.Var}} {
			if err := checkTensor(p.what, p.t, x[0]); err != nil {
				return nil, err
			}
		}
		return x, nil
	case dnn.OpReLU, dnn.OpDropout:
		return x, nil
	case dnn.OpMaxPool, dnn.OpAvgPool:
		if len(x) != 3 {
			return nil, fmt.Errorf("input shape %v, want [C H W]", x)
		}
		return windowShape(x, n.Kernel, n.Stride, n.Pad, x[0])
	case dnn.OpGlobalAvgPool:
		if len(x) != 3 {
			return nil, fmt.Errorf("input shape %v, want [C H W]", x)
		}
		return []int{x[0], 1, 1}, nil
	case dnn.OpFlatten:
		return []int{numel(x)}, nil
	case dnn.OpAdd:
		if !slices.Equal(x, in[1]) {
			return nil, fmt.Errorf("input shapes %v and %v differ", x, in[1])
		}
		return x, nil
	}
	return nil, errUnsupportedOp
}

func convShape(n *dnn.Node, x []int) ([]int, error) {
	if len(x) != 3 {
		return nil, fmt.Errorf("input shape %v, want [C H W]", x)
	}
	if n.W == nil || len(n.W.Shape) != 4 {
		return nil, fmt.Errorf("weight shape %v, want [Out In/Groups kH kW]", tensorShape(n.W))
	}
	out, cin, kh, kw := n.W.Shape[0], n.W.Shape[1], n.W.Shape[2], n.W.Shape[3]
	g := groups(n)
	switch {
	case out < 1 || out != n.Out:
		return nil, fmt.Errorf("weight shape %v has %d output channels, Out is %d", n.W.Shape, out, n.Out)
	case [2]int{kh, kw} != n.Kernel:
		return nil, fmt.Errorf("kernel %v does not match weight shape %v", n.Kernel, n.W.Shape)
	case g < 1 || cin*g != x[0] || out%g != 0:
		return nil, fmt.Errorf("weight shape %v does not fit %d input channels in %d groups", n.W.Shape, x[0], g)
	}
	if err := checkTensor("weight", n.W, n.W.Shape...); err != nil {
		return nil, err
	}
	if n.B != nil {
		if err := checkTensor("bias", n.B, out); err != nil {
			return nil, err
		}
	}
	return windowShape(x, n.Kernel, n.Stride, n.Pad, out)
}

func denseShape(n *dnn.Node, x []int) ([]int, error) {
	if len(x) != 1 {
		return nil, fmt.Errorf("input shape %v, want [In] (flatten first)", x)
	}
	if n.Out < 1 {
		return nil, fmt.Errorf("field Out is %d, want ≥ 1", n.Out)
	}
	if err := checkTensor("weight", n.W, n.Out, x[0]); err != nil {
		return nil, err
	}
	if n.B != nil {
		if err := checkTensor("bias", n.B, n.Out); err != nil {
			return nil, err
		}
	}
	return []int{n.Out}, nil
}

// windowShape is the output of a sliding window over x = [C H W], the pads
// ordered top, left, bottom, right and the last partial window dropped:
//
//	H' = ⌊(H + top + bottom − kH) / sH⌋ + 1
func windowShape(x []int, k, s [2]int, p [4]int, c int) ([]int, error) {
	out := []int{c, 0, 0}
	for i := range 2 {
		if k[i] < 1 || s[i] < 1 || p[i] < 0 || p[i+2] < 0 {
			return nil, fmt.Errorf("kernel %v, stride %v, pads %v: want positive kernel and stride, pads ≥ 0", k, s, p)
		}
		span := x[1+i] + p[i] + p[i+2]
		if span < k[i] {
			return nil, fmt.Errorf("kernel %v larger than the padded input %v", k, x[1:])
		}
		out[1+i] = (span-k[i])/s[i] + 1
	}
	return out, nil
}

// checkTensor reports a missing tensor, one whose shape is not want, or one
// whose data does not fill its shape.
func checkTensor(what string, t *dnn.Tensor, want ...int) error {
	if t == nil {
		return fmt.Errorf("%s missing", what)
	}
	if !slices.Equal(t.Shape, want) {
		return fmt.Errorf("%s shape %v, want %v", what, t.Shape, want)
	}
	if len(t.Data) != numel(t.Shape) {
		return fmt.Errorf("%s holds %d values for shape %v", what, len(t.Data), t.Shape)
	}
	return nil
}

func tensorShape(t *dnn.Tensor) []int {
	if t == nil {
		return nil
	}
	return t.Shape
}

func groups(n *dnn.Node) int {
	if n.Groups == 0 {
		return 1
	}
	return n.Groups
}

func numel(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}
