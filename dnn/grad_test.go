package dnn

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"testing"
)

// Layer constructors for tests: parameters are filled by randomise.
func convNode(name, in string, out, k, stride int, pad [4]int, groups, cin int, bias bool) *Node {
	n := &Node{Name: name, Op: OpConv, Inputs: []string{in}, Out: out, Kernel: [2]int{k, k},
		Stride: [2]int{stride, stride}, Pad: pad, Groups: groups,
		W: NewTensor(out, cin/max(groups, 1), k, k)}
	if bias {
		n.B = NewTensor(out)
	}
	return n
}

func bnNode(name, in string, c int) *Node {
	return &Node{Name: name, Op: OpBatchNorm, Inputs: []string{in},
		Scale: NewTensor(c), Bias: NewTensor(c), Mean: NewTensor(c), Var: NewTensor(c)}
}

func opNode(name string, op Op, in ...string) *Node {
	return &Node{Name: name, Op: op, Inputs: in}
}

func poolNode(name, in string, op Op, k, stride int, pad [4]int) *Node {
	return &Node{Name: name, Op: op, Inputs: []string{in}, Kernel: [2]int{k, k}, Stride: [2]int{stride, stride}, Pad: pad}
}

func denseNode(name, in string, out, features int, bias bool) *Node {
	n := &Node{Name: name, Op: OpDense, Inputs: []string{in}, Out: out, W: NewTensor(out, features)}
	if bias {
		n.B = NewTensor(out)
	}
	return n
}

// testGraph wraps nodes into a graph whose logits are the flattened output
// of the last node.
func testGraph(t testing.TB, in []int, nodes ...*Node) *Graph {
	t.Helper()
	shapes := map[string][]int{"x": in}
	for _, n := range nodes {
		var ins [][]int
		for _, name := range n.Inputs {
			ins = append(ins, shapes[name])
		}
		s, err := n.outShape(ins)
		if err != nil {
			t.Fatalf("node %s: %v", n.Name, err)
		}
		shapes[n.Name] = s
	}
	last := shapes[nodes[len(nodes)-1].Name]
	if len(last) != 1 {
		nodes = append(nodes, opNode("out", OpFlatten, nodes[len(nodes)-1].Name))
	}
	return &Graph{Name: "test", Input: "x", InputShape: in, Classes: numel(last), Nodes: nodes}
}

// randomise fills every tensor of g from rng; variances stay positive.
func randomise(g *Graph, rng *rand.Rand) {
	fill := func(t *Tensor, lo, hi float64) {
		if t == nil {
			return
		}
		for i := range t.Data {
			t.Data[i] = float32(lo + (hi-lo)*rng.Float64())
		}
	}
	for _, n := range g.Nodes {
		fill(n.W, -0.5, 0.5)
		fill(n.B, -0.5, 0.5)
		fill(n.Scale, 0.5, 1.5)
		fill(n.Bias, -0.5, 0.5)
		fill(n.Mean, -0.2, 0.2)
		fill(n.Var, 0.5, 1.5)
	}
}

type gradCase struct {
	name  string
	in    []int
	nodes func() []*Node
	batch int
	train bool
	h     float32 // finite-difference step
	// away, when set, keeps inputs this far from zero (ReLU's kink).
	away float64
	// distinct makes inputs a shuffled ramp so that no two values of a max
	// pool window are closer than the step.
	distinct bool
	norm     bool // give the graph an input normalisation
	// colBudget, when set, overrides the im2col budget to split the batch.
	colBudget int
}

var gradCases = []gradCase{
	{name: "conv3x3 pad1 bias", in: []int{3, 6, 5}, batch: 2, h: 1e-2, nodes: func() []*Node {
		return []*Node{convNode("c", "x", 4, 3, 1, [4]int{1, 1, 1, 1}, 1, 3, true)}
	}},
	{name: "conv stride2 asymmetric pad groups2", in: []int{4, 7, 6}, batch: 3, h: 1e-2, nodes: func() []*Node {
		return []*Node{convNode("c", "x", 6, 3, 2, [4]int{1, 0, 2, 1}, 2, 4, false)}
	}},
	{name: "conv depthwise stride2", in: []int{3, 5, 5}, batch: 2, h: 1e-2, nodes: func() []*Node {
		return []*Node{convNode("c", "x", 3, 3, 2, [4]int{1, 1, 1, 1}, 3, 3, true)}
	}},
	{name: "conv split into chunks", in: []int{2, 5, 5}, batch: 5, h: 1e-2, colBudget: 2 * 18 * 25, nodes: func() []*Node {
		return []*Node{convNode("c", "x", 4, 3, 1, [4]int{1, 1, 1, 1}, 2, 2, true)}
	}},
	{name: "conv one sample per chunk", in: []int{2, 5, 5}, batch: 3, h: 1e-2, colBudget: 1, nodes: func() []*Node {
		return []*Node{convNode("c", "x", 4, 3, 2, [4]int{1, 1, 1, 1}, 1, 2, false)}
	}},
	{name: "conv 1x1 stride2", in: []int{4, 4, 4}, batch: 2, h: 1e-2, nodes: func() []*Node {
		return []*Node{convNode("c", "x", 5, 1, 2, [4]int{}, 1, 4, false)}
	}},
	{name: "conv 2x2 no pad batch1 normalised", in: []int{2, 5, 4}, batch: 1, h: 1e-2, norm: true, nodes: func() []*Node {
		return []*Node{convNode("c", "x", 3, 2, 1, [4]int{}, 1, 2, true)}
	}},
	{name: "batchnorm train", in: []int{3, 3, 2}, batch: 4, train: true, h: 1e-2, nodes: func() []*Node {
		return []*Node{bnNode("bn", "x", 3)}
	}},
	{name: "batchnorm inference", in: []int{3, 3, 2}, batch: 2, h: 1e-2, nodes: func() []*Node {
		return []*Node{bnNode("bn", "x", 3)}
	}},
	{name: "batchnorm on features", in: []int{5}, batch: 3, train: true, h: 1e-2, nodes: func() []*Node {
		return []*Node{bnNode("bn", "x", 5)}
	}},
	{name: "relu", in: []int{2, 3, 3}, batch: 2, h: 1e-2, away: 0.05, nodes: func() []*Node {
		return []*Node{opNode("r", OpReLU, "x")}
	}},
	{name: "maxpool 2x2", in: []int{2, 4, 6}, batch: 2, h: 1e-3, distinct: true, nodes: func() []*Node {
		return []*Node{poolNode("p", "x", OpMaxPool, 2, 2, [4]int{})}
	}},
	{name: "maxpool 3x3 stride2 pad1", in: []int{2, 5, 5}, batch: 2, h: 1e-3, distinct: true, nodes: func() []*Node {
		return []*Node{poolNode("p", "x", OpMaxPool, 3, 2, [4]int{1, 1, 1, 1})}
	}},
	{name: "avgpool 3x3 stride2 pad1", in: []int{2, 5, 6}, batch: 2, h: 1e-2, nodes: func() []*Node {
		return []*Node{poolNode("p", "x", OpAvgPool, 3, 2, [4]int{1, 1, 1, 1})}
	}},
	{name: "global avgpool", in: []int{3, 4, 3}, batch: 2, h: 1e-2, nodes: func() []*Node {
		return []*Node{opNode("g", OpGlobalAvgPool, "x")}
	}},
	{name: "flatten dense", in: []int{2, 2, 3}, batch: 3, h: 1e-2, nodes: func() []*Node {
		return []*Node{opNode("f", OpFlatten, "x"), denseNode("fc", "f", 4, 12, true)}
	}},
	{name: "dense no bias", in: []int{7}, batch: 2, h: 1e-2, nodes: func() []*Node {
		return []*Node{denseNode("fc", "x", 3, 7, false)}
	}},
	{name: "dropout train", in: []int{2, 3, 3}, batch: 2, train: true, h: 1e-2, nodes: func() []*Node {
		return []*Node{{Name: "d", Op: OpDropout, Inputs: []string{"x"}, Rate: 0.4}}
	}},
	{name: "add of input and conv (input fan-out)", in: []int{2, 4, 4}, batch: 2, h: 1e-2, nodes: func() []*Node {
		return []*Node{
			convNode("c", "x", 2, 3, 1, [4]int{1, 1, 1, 1}, 1, 2, false),
			opNode("a", OpAdd, "c", "x"),
		}
	}},
	{name: "residual block with projection, training", in: []int{2, 6, 6}, batch: 3, train: true, h: 1e-4, nodes: residualNodes},
	{name: "residual block with projection, inference", in: []int{2, 6, 6}, batch: 2, h: 1e-4, nodes: residualNodes},
}

// residualNodes is a stem and one basic block whose shortcut is a strided
// 1x1 projection: the stem's output fans out to two convolutions.
func residualNodes() []*Node {
	return []*Node{
		convNode("stem", "x", 4, 3, 1, [4]int{1, 1, 1, 1}, 1, 2, false),
		bnNode("stembn", "stem", 4),
		opNode("stemrelu", OpReLU, "stembn"),
		convNode("c1", "stemrelu", 6, 3, 2, [4]int{1, 1, 1, 1}, 1, 4, false),
		bnNode("bn1", "c1", 6),
		opNode("r1", OpReLU, "bn1"),
		convNode("c2", "r1", 6, 3, 1, [4]int{1, 1, 1, 1}, 2, 6, false),
		bnNode("bn2", "c2", 6),
		convNode("proj", "stemrelu", 6, 1, 2, [4]int{}, 1, 4, false),
		bnNode("projbn", "proj", 6),
		opNode("sum", OpAdd, "bn2", "projbn"),
		opNode("r2", OpReLU, "sum"),
		opNode("gap", OpGlobalAvgPool, "r2"),
		opNode("flat", OpFlatten, "gap"),
		denseNode("fc", "flat", 3, 6, true),
	}
}

func TestGradients(t *testing.T) {
	for _, tc := range gradCases {
		t.Run(tc.name, func(t *testing.T) {
			// Seeded by name, so that adding a case leaves the others' draws alone.
			h := fnv.New64a()
			h.Write([]byte(tc.name))
			rng := rand.New(rand.NewPCG(h.Sum64(), 1))
			g := testGraph(t, tc.in, tc.nodes()...)
			randomise(g, rng)
			if tc.norm {
				for range tc.in[0] {
					g.InputMean = append(g.InputMean, float32(rng.Float64()))
					g.InputStd = append(g.InputStd, float32(0.5+rng.Float64()))
				}
			}
			if tc.colBudget > 0 {
				defer func(b int) { colBudget = b }(colBudget)
				colBudget = tc.colBudget
			}
			checkGradients(t, g, tc, rng)
		})
	}
}

func checkGradients(t *testing.T, g *Graph, tc gradCase, rng *rand.Rand) {
	net, err := NewNet(g, tc.batch)
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float32, tc.batch*net.InputSize())
	for i := range x {
		v := 2*rng.Float64() - 1
		if tc.away > 0 && math.Abs(v) < tc.away {
			v = math.Copysign(tc.away, v)
		}
		x[i] = float32(v)
	}
	if tc.distinct {
		for i, p := range rng.Perm(len(x)) {
			x[i] = float32(p) * 0.01
		}
	}
	r := make([]float32, tc.batch*g.Classes)
	for i := range r {
		r[i] = float32(2*rng.Float64() - 1)
	}
	// loss = Σ r·logits, so dloss/dlogits = r.
	loss := func() float64 {
		net.Seed(7)
		net.Forward(nil, x, tc.batch, tc.train)
		var s float64
		for i, v := range net.Logits(tc.batch) {
			s += float64(r[i]) * float64(v)
		}
		return s
	}
	loss()
	dx := make([]float32, len(x))
	net.Backward(dx, r, tc.batch)

	check := func(what string, v []float32, grad []float32) {
		t.Helper()
		grad = append([]float32(nil), grad...)
		for i := range v {
			old := v[i]
			v[i] = old + tc.h
			lp := loss()
			v[i] = old - tc.h
			lm := loss()
			v[i] = old
			num := (lp - lm) / (2 * float64(tc.h))
			ana := float64(grad[i])
			if d := math.Abs(num - ana); d > 2e-3+1e-2*max(math.Abs(num), math.Abs(ana)) {
				t.Errorf("%s[%d]: analytic %.6g, numeric %.6g", what, i, ana, num)
			}
		}
	}
	check("input", x, dx)
	for _, p := range net.Params() {
		check(p.Name, p.Value, p.Grad)
	}
}

func TestSoftmaxCrossEntropyGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	const n, k = 4, 5
	z := make([]float32, n*k)
	for i := range z {
		z[i] = float32(4 * rng.NormFloat64())
	}
	labels := []int32{0, 4, 2, 2}
	for _, eps := range []float64{0, 0.1} {
		t.Run(fmt.Sprint("smoothing ", eps), func(t *testing.T) {
			d := make([]float32, len(z))
			SoftmaxCrossEntropy(d, z, labels, k, eps)
			for i := range z {
				old := z[i]
				const h = 1e-2
				z[i] = old + h
				lp, _ := SoftmaxCrossEntropy(nil, z, labels, k, eps)
				z[i] = old - h
				lm, _ := SoftmaxCrossEntropy(nil, z, labels, k, eps)
				z[i] = old
				if num := (lp - lm) / (2 * h); math.Abs(num-float64(d[i])) > 1e-4 {
					t.Errorf("dz[%d]: analytic %.6g, numeric %.6g", i, d[i], num)
				}
			}
		})
	}
}

func TestSoftmaxCrossEntropyStable(t *testing.T) {
	z := []float32{1e4, -1e4, 0, 3e4, 3e4 - 2, -3e4}
	loss, correct := SoftmaxCrossEntropy(nil, z, []int32{0, 1}, 3, 0)
	// Row 1 is certain and right (loss 0); row 2 puts 2 nats on its label.
	want := (0 + 2 + math.Log1p(math.Exp(-2))) / 2
	if math.IsNaN(loss) || math.Abs(loss-want) > 1e-6 || correct != 1 {
		t.Errorf("loss %v correct %d, want %v and 1", loss, correct, want)
	}
}
