package profiler

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/tandem-edge/tandem/dnn"
)

// RandomWidths draws a width for each group of g.ConvGroups(): the group's
// channel count times a keep ratio uniform in [lo, hi], rounded, at least 1.
func RandomWidths(g *dnn.Graph, rng *rand.Rand, lo, hi float64) map[string]int {
	widths := map[string]int{}
	for _, group := range g.ConvGroups() {
		keep := lo + (hi-lo)*rng.Float64()
		w := max(1, int(math.Round(keep*float64(g.Node(group[0]).Out))))
		for _, name := range group {
			widths[name] = w
		}
	}
	return widths
}

// WithWidths returns a copy of g in which each Conv named in widths has that
// many output channels, and every later layer the channel counts that
// follow: a structurally pruned variant of g for latency measurements. Its
// weights are new, drawn from seed (He normal); BatchNormalization starts as
// the identity. Ties between convolutions (see dnn.Graph.ConvGroups) must be
// respected, or the variant fails validation at the Add that joins them.
func WithWidths(g *dnn.Graph, widths map[string]int, seed uint64) (*dnn.Graph, error) {
	shapes, err := g.Shapes()
	if err != nil {
		return nil, err
	}
	for name, w := range widths {
		if n := g.Node(name); n == nil || n.Op != dnn.OpConv {
			return nil, fmt.Errorf("profiler: pruning %s: %q is not a Conv layer", g.Name, name)
		} else if w < 1 || w%max(n.Groups, 1) != 0 {
			return nil, fmt.Errorf("profiler: pruning %s: width %d for %s, want a positive multiple of its %d groups", g.Name, w, name, max(n.Groups, 1))
		}
	}
	rng := rand.New(rand.NewPCG(seed, 0x71d7))
	normal := func(t *dnn.Tensor, fanIn int) {
		std := math.Sqrt(2 / float64(fanIn))
		for i := range t.Data {
			t.Data[i] = float32(std * rng.NormFloat64())
		}
	}
	v := g.Clone()
	if v.Meta == nil {
		v.Meta = map[string]string{}
	}
	v.Meta["widths"] = fmt.Sprint(widthList(g, widths))
	size := map[string]int{v.Input: v.InputShape[0]} // channels, or features once flat
	for _, n := range v.Nodes {
		in := size[n.Inputs[0]]
		switch n.Op {
		case dnn.OpConv:
			if w, ok := widths[n.Name]; ok {
				n.Out = w
			}
			gr := max(n.Groups, 1)
			if in%gr != 0 {
				return nil, fmt.Errorf("profiler: pruning %s: %s has %d input channels, not divisible by its %d groups", g.Name, n.Name, in, gr)
			}
			n.W = dnn.NewTensor(n.Out, in/gr, n.Kernel[0], n.Kernel[1])
			normal(n.W, in/gr*n.Kernel[0]*n.Kernel[1])
			if n.B != nil {
				n.B = dnn.NewTensor(n.Out)
			}
			size[n.Name] = n.Out
		case dnn.OpBatchNorm:
			n.Scale, n.Bias, n.Mean, n.Var = dnn.NewTensor(in), dnn.NewTensor(in), dnn.NewTensor(in), dnn.NewTensor(in)
			for i := range in {
				n.Scale.Data[i], n.Var.Data[i] = 1, 1
			}
			size[n.Name] = in
		case dnn.OpFlatten:
			s := shapes[n.Inputs[0]]
			size[n.Name] = in
			for _, d := range s[1:] {
				size[n.Name] *= d
			}
		case dnn.OpDense:
			n.W = dnn.NewTensor(n.Out, in)
			normal(n.W, in)
			if n.B != nil {
				n.B = dnn.NewTensor(n.Out)
			}
			size[n.Name] = n.Out
		default:
			size[n.Name] = in
		}
	}
	if err := v.Validate(); err != nil {
		return nil, fmt.Errorf("profiler: pruning %s with widths %v: %w", g.Name, widthList(g, widths), err)
	}
	return v, nil
}

// widthList lists widths in g's node order, for messages and provenance.
func widthList(g *dnn.Graph, widths map[string]int) []string {
	var list []string
	for _, n := range g.Nodes {
		if w, ok := widths[n.Name]; ok {
			list = append(list, fmt.Sprintf("%s=%d", n.Name, w))
		}
	}
	return slices.Clip(list)
}
