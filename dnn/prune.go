package dnn

import (
	"fmt"
	"math"
	"slices"
	"sort"

	"github.com/tandem-edge/tandem/dnn/data"
)

// ConvGroups lists the Conv layers of g whose output channels can be
// pruned, grouped by the ties between them: convolutions whose outputs meet
// at an Add (directly or through BatchNormalization, activations and
// pooling, which keep the channel count) must keep equal widths. Groups and
// their members are in node order. A group tied to the graph input, whose
// channels are the data's, is left out.
func (g *Graph) ConvGroups() [][]string {
	parent := map[string]string{}
	var find func(string) string
	find = func(x string) string {
		if p, ok := parent[x]; ok && p != x {
			r := find(p)
			parent[x] = r
			return r
		}
		return x
	}
	union := func(a, b string) {
		ra, rb := find(a), find(b)
		if ra != rb {
			parent[rb] = ra
		}
	}
	// source: the Conv (or the graph input) that sets each node's channels.
	source := map[string]string{g.Input: g.Input}
	parent[g.Input] = g.Input
	var convs []string
	for _, n := range g.Nodes {
		switch n.Op {
		case OpConv:
			source[n.Name] = n.Name
			parent[n.Name] = n.Name
			convs = append(convs, n.Name)
		case OpAdd:
			union(source[n.Inputs[0]], source[n.Inputs[1]])
			source[n.Name] = source[n.Inputs[0]]
		case OpFlatten, OpDense:
			// Features, not channels: nothing downstream ties to a Conv.
		default:
			source[n.Name] = source[n.Inputs[0]]
		}
	}
	fixed := find(g.Input)
	byRoot := map[string]int{}
	var groups [][]string
	for _, c := range convs {
		r := find(c)
		if r == fixed {
			continue
		}
		i, ok := byRoot[r]
		if !ok {
			i = len(groups)
			byRoot[r] = i
			groups = append(groups, nil)
		}
		groups[i] = append(groups[i], c)
	}
	return groups
}

// Prune returns a copy of g with only the output channels keep lists for
// each Conv named in it, and every later layer cut to match: the
// BatchNormalization after it, the input channels of the convolutions it
// feeds, and the Dense weights of the features it becomes once flattened.
// Weights of the channels kept are copied, so the pruned network computes
// what g computes on those channels: structured pruning, ready to fine-tune.
// Lists are sorted channel indices; convolutions tied at an Add (see
// ConvGroups) must keep the same list. Grouped convolutions are not pruned.
func Prune(g *Graph, keep map[string][]int) (*Graph, error) {
	shapes, err := g.Shapes()
	if err != nil {
		return nil, err
	}
	for name, idx := range keep {
		n := g.Node(name)
		if n == nil || n.Op != OpConv {
			return nil, fmt.Errorf("dnn: pruning %s: %q is not a Conv layer", g.Name, name)
		}
		if max(n.Groups, 1) != 1 {
			return nil, fmt.Errorf("dnn: pruning %s: %s is a grouped convolution; pruning those is not supported", g.Name, name)
		}
		if !increasing(idx, n.Out) {
			return nil, fmt.Errorf("dnn: pruning %s: channels of %s must be increasing indices below %d, at least one", g.Name, name, n.Out)
		}
	}
	v := g.Clone()
	// kept: for each node output, the original channel (or, once flat,
	// feature) indices that survive; nil means all of them.
	kept := map[string][]int{v.Input: nil}
	for _, n := range v.Nodes {
		in := kept[n.Inputs[0]]
		switch n.Op {
		case OpConv:
			if max(n.Groups, 1) != 1 && in != nil {
				return nil, fmt.Errorf("dnn: pruning %s: %s is a grouped convolution fed by pruned channels; not supported", g.Name, n.Name)
			}
			out := keep[n.Name]
			n.W = sliceConv(n.W, out, in)
			if n.B != nil && out != nil {
				n.B = pick(n.B, out)
			}
			if out != nil {
				n.Out = len(out)
			}
			kept[n.Name] = out
		case OpBatchNorm:
			if in != nil {
				n.Scale, n.Bias, n.Mean, n.Var = pick(n.Scale, in), pick(n.Bias, in), pick(n.Mean, in), pick(n.Var, in)
			}
			kept[n.Name] = in
		case OpAdd:
			other := kept[n.Inputs[1]]
			if !slices.Equal(in, other) {
				return nil, fmt.Errorf("dnn: pruning %s: the inputs of %s keep different channels; tied convolutions (ConvGroups) must keep the same", g.Name, n.Name)
			}
			kept[n.Name] = in
		case OpFlatten:
			if in == nil {
				kept[n.Name] = nil
				break
			}
			s := shapes[n.Inputs[0]]
			plane := 1
			for _, d := range s[1:] {
				plane *= d
			}
			feats := make([]int, 0, len(in)*plane)
			for _, c := range in {
				for p := range plane {
					feats = append(feats, c*plane+p)
				}
			}
			kept[n.Name] = feats
		case OpDense:
			if in != nil {
				w := NewTensor(n.W.Shape[0], len(in))
				for o := range n.W.Shape[0] {
					row := n.W.Data[o*n.W.Shape[1] : (o+1)*n.W.Shape[1]]
					for j, f := range in {
						w.Data[o*len(in)+j] = row[f]
					}
				}
				n.W = w
			}
			kept[n.Name] = nil
		default:
			kept[n.Name] = in
		}
	}
	if err := v.Validate(); err != nil {
		return nil, fmt.Errorf("dnn: pruning %s: %w", g.Name, err)
	}
	return v, nil
}

// sliceConv keeps output channels out and input channels in of a Conv
// weight [O, I, kH, kW]; nil keeps all.
func sliceConv(w *Tensor, out, in []int) *Tensor {
	o, i, kh, kw := w.Shape[0], w.Shape[1], w.Shape[2], w.Shape[3]
	if out == nil {
		out = seq(o)
	}
	if in == nil {
		in = seq(i)
	}
	k := kh * kw
	t := NewTensor(len(out), len(in), kh, kw)
	for a, oc := range out {
		for b, ic := range in {
			copy(t.Data[(a*len(in)+b)*k:(a*len(in)+b+1)*k], w.Data[(oc*i+ic)*k:(oc*i+ic+1)*k])
		}
	}
	return t
}

func pick(t *Tensor, idx []int) *Tensor {
	out := NewTensor(len(idx))
	for j, i := range idx {
		out.Data[j] = t.Data[i]
	}
	return out
}

// increasing reports whether idx is a non-empty, strictly increasing list of
// indices in [0, n).
func increasing(idx []int, n int) bool {
	if len(idx) == 0 || idx[0] < 0 || idx[len(idx)-1] >= n {
		return false
	}
	for i := 1; i < len(idx); i++ {
		if idx[i] <= idx[i-1] {
			return false
		}
	}
	return true
}

func seq(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

// L1Channels returns the k output channels of a tied group of convolutions
// with the largest summed L1 norm of their filters, sorted by index: the
// channels magnitude pruning keeps (Li et al., "Pruning Filters for
// Efficient ConvNets", 2017). Ties go to the lower index.
func L1Channels(g *Graph, group []string, k int) []int {
	first := g.Node(group[0])
	norms := make([]float64, first.Out)
	for _, name := range group {
		w := g.Node(name).W
		per := len(w.Data) / w.Shape[0]
		for c := range w.Shape[0] {
			for _, x := range w.Data[c*per : (c+1)*per] {
				norms[c] += math.Abs(float64(x))
			}
		}
	}
	idx := seq(len(norms))
	sort.SliceStable(idx, func(a, b int) bool { return norms[idx[a]] > norms[idx[b]] })
	top := slices.Clone(idx[:min(max(k, 1), len(idx))])
	slices.Sort(top)
	return top
}

// RecalibrateBN re-estimates the running statistics of every
// BatchNormalization in g from batches of batchSize samples of set, taken
// in order: after pruning, the statistics recorded for the whole network no
// longer describe the channels' inputs, and a few forward passes fix that
// without training (the adaptive-BN evaluation of Li et al., "EagleEye",
// ECCV 2020). It changes g's BatchNormalization statistics only.
func RecalibrateBN(g *Graph, set *data.Set, batches, batchSize int) error {
	n := min(batches*batchSize, set.Len())
	if n == 0 {
		return nil
	}
	net, err := NewNet(g, batchSize)
	if err != nil {
		return err
	}
	net.Seed(1)
	k := set.SampleSize()
	for at := 0; at < n; at += batchSize {
		m := min(batchSize, n-at)
		net.Forward(nil, set.X[at*k:(at+m)*k], m, true)
	}
	return nil
}
