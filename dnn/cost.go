package dnn

// LayerCost is what one node costs to run on a single sample.
type LayerCost struct {
	Name string
	Op   Op
	// FLOPs counts floating-point operations at batch 1. Convolution and
	// Dense count each multiply-add as 2 (bias adds are not counted);
	// element-wise layers count one operation per element and input read
	// (BatchNorm 2 per element as a folded scale and shift, pooling one per
	// window element, Add one per element); Flatten and Dropout cost nothing.
	FLOPs int64
	// Params is the number of trainable values: W and B, or BatchNorm's
	// Scale and Bias (its running Mean and Var are state, not parameters).
	Params int64
	// Bytes is the float32 storage of all the node's tensors (BatchNorm's
	// running statistics included) plus its output activation for one sample.
	Bytes int64
}

// Cost returns the per-node cost of g in node order. It fails as Shapes does.
func (g *Graph) Cost() ([]LayerCost, error) {
	shapes, err := g.Shapes()
	if err != nil {
		return nil, err
	}
	costs := make([]LayerCost, len(g.Nodes))
	for i, n := range g.Nodes {
		out := shapes[n.Name]
		in := shapes[n.Inputs[0]]
		elems := int64(numel(out))
		c := LayerCost{Name: n.Name, Op: n.Op, Params: n.params()}
		switch n.Op {
		case OpConv:
			c.FLOPs = 2 * elems * int64(numel(n.W.Shape[1:]))
		case OpDense:
			c.FLOPs = 2 * int64(n.W.Len())
		case OpBatchNorm:
			c.FLOPs = 2 * elems
		case OpReLU, OpAdd:
			c.FLOPs = elems
		case OpMaxPool, OpAvgPool:
			c.FLOPs = elems * int64(n.Kernel[0]*n.Kernel[1])
		case OpGlobalAvgPool:
			c.FLOPs = int64(numel(in))
		}
		var stored int64
		for _, t := range []*Tensor{n.W, n.B, n.Scale, n.Bias, n.Mean, n.Var} {
			stored += int64(tensorLen(t))
		}
		c.Bytes = 4 * (stored + elems)
		costs[i] = c
	}
	return costs, nil
}

// params counts the node's trainable values.
func (n *Node) params() int64 {
	var k int
	for _, t := range []*Tensor{n.W, n.B, n.Scale, n.Bias} {
		k += tensorLen(t)
	}
	return int64(k)
}

// Params is the number of trainable values in g (see LayerCost.Params).
// It needs no shape inference and so never fails.
func (g *Graph) Params() int64 {
	var k int64
	for _, n := range g.Nodes {
		k += n.params()
	}
	return k
}

// FLOPs is the sum of LayerCost.FLOPs over g: the work of one inference of one
// sample. It fails as Shapes does.
func (g *Graph) FLOPs() (int64, error) {
	costs, err := g.Cost()
	if err != nil {
		return 0, err
	}
	var f int64
	for _, c := range costs {
		f += c.FLOPs
	}
	return f, nil
}
