package dnn

import (
	"fmt"
	"math/rand/v2"
	"slices"
)

// Net is a Graph made executable for batches of up to a fixed size. It owns
// every activation, gradient and scratch buffer, allocated when the Net is
// made (gradients on the first Backward), so Forward and Backward allocate
// nothing. The parameters are not copied: each Param aliases the Data of a
// Node's tensor, so an optimizer step changes the Graph itself, and training
// BatchNorm updates the Node's running Mean and Var in place.
//
// A Net is not safe for concurrent use; make one per goroutine.
type Net struct {
	g        *Graph
	maxBatch int
	layers   []layer
	params   []*Param

	// Buffer 0 is the normalised graph input; buffer i+1 is node i's output.
	// A buffer of feature maps ([C, H, W] per sample) is stored channel
	// first, [C][n][H·W] for a pass of n samples, so that a convolution's
	// GEMM over the whole batch writes its output in place and every channel
	// is one contiguous run for BatchNorm; a flat buffer ([F] per sample) is
	// [n][F], the layout Dense multiplies and Logits returns.
	size  []int       // per-sample length of each buffer
	shape [][]int     // per-sample shape of each buffer
	act   [][]float32 // activations, maxBatch·size each
	grad  [][]float32 // their gradients; nil until the first Backward

	mean, invStd []float32   // per input channel
	wantInGrad   bool        // the current Backward computes grad[0]
	ws           []workspace // one per worker
	colLen       int
	rng          *rand.Rand // dropout masks
}

// Param is one trainable tensor of a Net and its gradient.
type Param struct {
	Name  string    // node name, a dot, and W, B, Scale or Bias
	Value []float32 // aliases the Node's tensor
	Grad  []float32 // set by Net.Backward
	Decay bool      // whether weight decay applies: Conv and Dense weights only
}

// layer is one node's forward and backward computation. backward sets the
// gradients of the node's parameters and, for each input whose gradient
// buffer exists, writes or adds (see base.acc) the input gradient.
type layer interface {
	forward(n int, train bool)
	backward(n int)
	self() *base
}

// base is what every layer knows of its place in the Net.
type base struct {
	net  *Net
	node *Node
	in   []int  // buffer index of each input
	out  int    // buffer index of the output
	acc  []bool // per input: add into its gradient rather than overwrite it

	// relu, when not zero, is the output buffer of the ReLU that is this
	// layer's only consumer and that this layer applies itself (see
	// fuseReLUs): it writes max(y, 0) there and reads its gradient there,
	// where y > 0.
	relu int
}

func (b *base) self() *base { return b }

func (b *base) x(i int) []float32 { return b.net.act[b.in[i]] }
func (b *base) y() []float32      { return b.net.act[b.out] }
func (b *base) dy() []float32     { return b.net.grad[b.out] }

// dx is the gradient buffer of input i, or nil when nobody needs it (the
// graph input outside an input-gradient Backward).
func (b *base) dx(i int) []float32 {
	if b.in[i] == 0 && !b.net.wantInGrad {
		return nil
	}
	return b.net.grad[b.in[i]]
}

// NewNet makes g executable for batches of at most maxBatch samples. It
// validates g first and returns its error if g is malformed.
func NewNet(g *Graph, maxBatch int) (*Net, error) {
	if maxBatch < 1 {
		return nil, fmt.Errorf("dnn: NewNet: batch size %d, want >= 1", maxBatch)
	}
	shapes, err := g.Shapes()
	if err != nil {
		return nil, err
	}
	net := &Net{g: g, maxBatch: maxBatch, rng: rand.New(rand.NewPCG(0, 0))}
	index := map[string]int{g.Input: 0}
	net.size = []int{numel(g.InputShape)}
	net.shape = [][]int{slices.Clone(g.InputShape)}
	for i, n := range g.Nodes {
		index[n.Name] = i + 1
		net.size = append(net.size, numel(shapes[n.Name]))
		net.shape = append(net.shape, shapes[n.Name])
	}
	for _, k := range net.size {
		net.act = append(net.act, make([]float32, maxBatch*k))
	}
	c := g.InputShape[0]
	net.mean, net.invStd = make([]float32, c), make([]float32, c)
	for i := range c {
		net.invStd[i] = 1
		if g.InputMean != nil {
			net.mean[i], net.invStd[i] = g.InputMean[i], 1/g.InputStd[i]
		}
	}

	// Backward visits nodes last to first, so the last consumer of a buffer
	// (in node order) is the first to write its gradient and overwrites it;
	// earlier consumers of the same buffer add to it.
	written := make([]bool, len(net.size))
	accs := make([][]bool, len(g.Nodes))
	for i := len(g.Nodes) - 1; i >= 0; i-- {
		n := g.Nodes[i]
		accs[i] = make([]bool, len(n.Inputs))
		for j, name := range n.Inputs {
			accs[i][j] = written[index[name]]
			written[index[name]] = true
		}
	}

	for i, n := range g.Nodes {
		b := base{net: net, node: n, out: i + 1, acc: accs[i]}
		for _, name := range n.Inputs {
			b.in = append(b.in, index[name])
		}
		in := shapes[n.Inputs[0]]
		var l layer
		switch n.Op {
		case OpConv:
			l = newConv(b, in, shapes[n.Name])
		case OpBatchNorm:
			l = newBatchNorm(b, in)
		case OpReLU:
			l = &relu{base: b}
		case OpMaxPool:
			l = newPool(b, in, shapes[n.Name], true)
		case OpAvgPool:
			l = newPool(b, in, shapes[n.Name], false)
		case OpGlobalAvgPool:
			l = &globalAvgPool{base: b, c: in[0], hw: in[1] * in[2]}
		case OpFlatten:
			l = &flatten{base: b}
		case OpDense:
			l = newDense(b, in[0])
		case OpAdd:
			l = &add{base: b}
		case OpDropout:
			l = &dropout{base: b, mask: make([]float32, maxBatch*net.size[i+1])}
		default:
			panic("dnn: NewNet: op " + string(n.Op) + " passed validation but has no layer")
		}
		net.layers = append(net.layers, l)
	}
	net.fuseReLUs()
	net.ws = make([]workspace, numWorkers())
	for i := range net.ws {
		net.ws[i] = workspace{col: make([]float32, net.colLen)}
	}
	return net, nil
}

// fuseReLUs hands each ReLU whose input comes from a BatchNorm or an Add
// used by nothing else to that producer, which applies it while it writes
// its output: each such pair then makes one pass over the feature map
// instead of two in the forward pass, and one fewer in the backward pass.
func (net *Net) fuseReLUs() {
	uses := make([]int, len(net.size))
	for _, l := range net.layers {
		for _, in := range l.self().in {
			uses[in]++
		}
	}
	producer := make([]layer, len(net.size))
	for _, l := range net.layers {
		producer[l.self().out] = l
	}
	for _, l := range net.layers {
		r, ok := l.(*relu)
		if !ok || uses[r.in[0]] != 1 {
			continue
		}
		switch p := producer[r.in[0]].(type) {
		case *batchNorm:
			p.relu, r.fused = r.out, true
		case *add:
			p.relu, r.fused = r.out, true
		}
	}
}

// addParam registers a trainable tensor of node n.
func (net *Net) addParam(n *Node, field string, t *Tensor, decay bool) *Param {
	p := &Param{Name: n.Name + "." + field, Value: t.Data, Decay: decay}
	net.params = append(net.params, p)
	return p
}

// needScratch grows every worker's workspace to at least col values.
func (net *Net) needScratch(col int) {
	net.colLen = max(net.colLen, col)
}

// Graph is the graph the Net runs.
func (net *Net) Graph() *Graph { return net.g }

// MaxBatch is the largest batch Forward and Backward accept.
func (net *Net) MaxBatch() int { return net.maxBatch }

// Params lists the trainable tensors in node order. Their gradients are
// allocated by the first Backward.
func (net *Net) Params() []*Param { return net.params }

// Seed restarts the random stream that draws dropout masks.
func (net *Net) Seed(seed uint64) { net.rng = rand.New(rand.NewPCG(seed, 0x7a6d)) }

// InputSize is the number of values of one input sample (C·H·W).
func (net *Net) InputSize() int { return net.size[0] }

// Forward runs the network on n samples x (n·C·H·W pixels in [0, 1], NCHW)
// and writes n·Classes logits to logits when logits is not nil. Each input
// channel c is normalised first,
//
//	x' = (x − InputMean[c]) / InputStd[c],
//
// so callers always pass raw [0, 1] pixels (the identity when the Graph has
// no normalisation). train selects batch statistics in BatchNorm (and updates
// the running ones) and active dropout; otherwise the running statistics are
// used and dropout is the identity. Forward panics if n is out of range or a
// slice is too short.
func (net *Net) Forward(logits, x []float32, n int, train bool) {
	if n < 1 || n > net.maxBatch {
		panic(fmt.Sprintf("dnn: Forward: batch %d outside [1, %d]", n, net.maxBatch))
	}
	k := net.size[0]
	if len(x) < n*k {
		panic(fmt.Sprintf("dnn: Forward: %d input values for %d samples of %d", len(x), n, k))
	}
	hw := k / len(net.mean)
	in := net.act[0]
	for s := range n {
		for c := range net.mean {
			m, is := net.mean[c], net.invStd[c]
			src, dst := x[s*k+c*hw:][:hw], in[net.planeAt(0, n, s, c):][:hw]
			for i, v := range src {
				dst[i] = (v - m) * is
			}
		}
	}
	for _, l := range net.layers {
		l.forward(n, train)
	}
	if logits != nil {
		out := net.Logits(n)
		if len(logits) < len(out) {
			panic(fmt.Sprintf("dnn: Forward: logits has %d values, want %d", len(logits), len(out)))
		}
		copy(logits, out)
	}
}

// Logits returns the output of the last Forward for its first n samples,
// aliasing the Net's buffer (valid until the next Forward).
func (net *Net) Logits(n int) []float32 {
	return net.act[len(net.act)-1][:n*net.g.Classes]
}

// Backward propagates dlogits, the gradient of the loss with respect to the
// n·Classes logits of the last Forward, back through the network. It sets the
// gradient of every Param (overwriting, not accumulating) and, when dx is not
// nil, writes the gradient with respect to the raw input pixels into dx. The
// first call allocates the gradient buffers. Backward after an inference
// Forward differentiates the inference function (running BatchNorm
// statistics, no dropout).
func (net *Net) Backward(dx, dlogits []float32, n int) {
	if n < 1 || n > net.maxBatch {
		panic(fmt.Sprintf("dnn: Backward: batch %d outside [1, %d]", n, net.maxBatch))
	}
	if len(dlogits) < n*net.g.Classes {
		panic(fmt.Sprintf("dnn: Backward: dlogits has %d values, want %d", len(dlogits), n*net.g.Classes))
	}
	if dx != nil && len(dx) < n*net.size[0] {
		panic(fmt.Sprintf("dnn: Backward: dx has %d values, want %d", len(dx), n*net.size[0]))
	}
	net.allocGrads(dx != nil)
	net.wantInGrad = dx != nil
	last := len(net.grad) - 1
	copy(net.grad[last], dlogits[:n*net.g.Classes])
	for i := len(net.layers) - 1; i >= 0; i-- {
		net.layers[i].backward(n)
	}
	if dx != nil {
		k := net.size[0]
		hw := k / len(net.mean)
		g0 := net.grad[0]
		for s := range n {
			for c, is := range net.invStd {
				src, dst := g0[net.planeAt(0, n, s, c):][:hw], dx[s*k+c*hw:][:hw]
				for i, v := range src {
					dst[i] = v * is
				}
			}
		}
	}
}

func (net *Net) allocGrads(input bool) {
	if net.grad == nil {
		net.grad = make([][]float32, len(net.size))
		for i := 1; i < len(net.size); i++ {
			net.grad[i] = make([]float32, net.maxBatch*net.size[i])
		}
		for _, p := range net.params {
			p.Grad = make([]float32, len(p.Value))
		}
	}
	if input && net.grad[0] == nil {
		net.grad[0] = make([]float32, net.maxBatch*net.size[0])
	}
}

// planeAt is the offset in buffer b, during a pass of n samples, of the
// values of sample s in channel c (one plane of a feature map, one value
// of a flat buffer).
func (net *Net) planeAt(b, n, s, c int) int {
	if !net.planar(b) {
		return s*net.size[b] + c
	}
	return (c*n + s) * (net.size[b] / net.shape[b][0])
}

// planar is whether buffer b holds feature maps, stored channel first.
func (net *Net) planar(b int) bool { return len(net.shape[b]) == 3 }

// store writes src into dst, or adds it when acc is set.
func store(dst, src []float32, acc bool) {
	if !acc {
		copy(dst, src)
		return
	}
	addTo(dst, src)
}
