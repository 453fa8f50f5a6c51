package dnn

import (
	"fmt"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"
)

// Reconstruct refits, by least squares, the weights of every convolution of
// pruned whose input channels were cut, so that on the n samples x its
// outputs match those of the same convolution in orig on the channels it
// kept: the feature-map reconstruction of channel pruning (He et al.,
// "Channel Pruning for Accelerating Very Deep Neural Networks", 2017;
// ThiNet), which AMC applies to every pruned model. keep is what Prune was
// given (a Conv absent from it kept all its channels). Each convolution
// contributes positions random output positions per sample, every kernel
// tap included, as rows of one ridge regression. Convolutions are refitted
// in node order, each from the pruned network's own activations with
// everything above it already refitted, so errors do not pile up.
func Reconstruct(orig, pruned *Graph, keep map[string][]int, x []float32, n, positions int, seed uint64) error {
	r, err := NewReconstructor(orig, x, n, positions)
	if err != nil {
		return err
	}
	return r.Refit(pruned, keep, seed)
}

// Reconstructor refits many prunings of one network on the same samples,
// as a search does: the original network's outputs, which every refit
// matches, are computed once per convolution and kept.
type Reconstructor struct {
	orig      *Graph
	x         []float32
	n         int
	positions int
	want      map[string][]float32 // orig's output of each convolution on x
	shape     map[string][]int
}

// NewReconstructor prepares refits of prunings of orig on the n samples x,
// positions output positions per sample and convolution (see Reconstruct).
func NewReconstructor(orig *Graph, x []float32, n, positions int) (*Reconstructor, error) {
	if n < 1 || len(x) < n*numel(orig.InputShape) {
		return nil, fmt.Errorf("dnn: reconstruct: %d samples in %d values", n, len(x))
	}
	return &Reconstructor{orig: orig, x: x, n: n, positions: positions, want: map[string][]float32{}, shape: map[string][]int{}}, nil
}

// Refit refits pruned, a pruning of the Reconstructor's network by keep, in
// place, as Reconstruct does.
func (r *Reconstructor) Refit(pruned *Graph, keep map[string][]int, seed uint64) error {
	rng := rand.New(rand.NewPCG(seed, 0x6c73)) // "ls"
	for _, l := range pruned.Nodes {
		o := r.orig.Node(l.Name)
		if l.Op != OpConv || o == nil || l.groups() != 1 || l.W.Shape[1] == o.W.Shape[1] {
			continue
		}
		in, inShape, err := activations(pruned, l.Inputs[0], r.x, r.n)
		if err != nil {
			return err
		}
		want, ok := r.want[o.Name]
		if !ok {
			if want, r.shape[o.Name], err = activations(r.orig, o.Name, r.x, r.n); err != nil {
				return err
			}
			r.want[o.Name] = want
		}
		outs := keep[l.Name]
		if outs == nil {
			outs = make([]int, o.Out)
			for i := range outs {
				outs[i] = i
			}
		}
		if err := refit(l, in, inShape, want, r.shape[o.Name], outs, r.n, r.positions, rng); err != nil {
			return fmt.Errorf("dnn: reconstruct %s: %w", l.Name, err)
		}
	}
	return nil
}

// refit solves for l's weights from its input activations and the wanted
// outputs (all of orig's channels; outs picks l's).
func refit(l *Node, in []float32, inShape []int, want []float32, outShape []int, outs []int, n, positions int, rng *rand.Rand) error {
	cin, h, w := inShape[0], inShape[1], inShape[2]
	oc, oh, ow := outShape[0], outShape[1], outShape[2]
	kh, kw := l.Kernel[0], l.Kernel[1]
	sh, sw := l.stride()
	dims, rows := cin*kh*kw, n*positions
	X := mat.NewDense(rows, dims, nil)
	Y := mat.NewDense(rows, len(outs), nil)
	for s := range n {
		img := in[s*cin*h*w:][:cin*h*w]
		for p := range positions {
			r := s*positions + p
			oy, ox := rng.IntN(oh), rng.IntN(ow)
			row := X.RawRowView(r)
			for c := range cin {
				for ky := range kh {
					iy := oy*sh - l.Pad[0] + ky
					for kx := range kw {
						ix := ox*sw - l.Pad[1] + kx
						if iy >= 0 && iy < h && ix >= 0 && ix < w {
							row[(c*kh+ky)*kw+kx] = float64(img[(c*h+iy)*w+ix])
						}
					}
				}
			}
			yr := Y.RawRowView(r)
			for j, c := range outs {
				yr[j] = float64(want[((s*oc+c)*oh+oy)*ow+ox])
				if l.B != nil {
					yr[j] -= float64(l.B.Data[j]) // the bias stays; the weights explain the rest
				}
			}
		}
	}
	// Ridge: a small multiple of the mean diagonal keeps the normal
	// equations solvable when a kept channel is (nearly) constant or there
	// are fewer rows than weights.
	var A mat.SymDense
	A.SymOuterK(1, X.T())
	var tr float64
	for i := range dims {
		tr += A.At(i, i)
	}
	lambda := 1e-3*tr/float64(dims) + 1e-12
	for i := range dims {
		A.SetSym(i, i, A.At(i, i)+lambda)
	}
	var B mat.Dense
	B.Mul(X.T(), Y)
	var chol mat.Cholesky
	if !chol.Factorize(&A) {
		return fmt.Errorf("the normal equations of %d weights are not positive definite", dims)
	}
	var sol mat.Dense
	if err := chol.SolveTo(&sol, &B); err != nil {
		return err
	}
	// sol is dims × outputs; the weights are [out][c][ky][kx].
	for j := range outs {
		for d := range dims {
			l.W.Data[j*dims+d] = float32(sol.At(d, j))
		}
	}
	return nil
}

// activations runs g on n samples up to node name and returns its output,
// n·C·H·W values, and its per-sample shape.
func activations(g *Graph, name string, x []float32, n int) ([]float32, []int, error) {
	shapes, err := g.Shapes()
	if err != nil {
		return nil, nil, err
	}
	shape := shapes[name]
	if len(shape) != 3 {
		return nil, nil, fmt.Errorf("dnn: activations of %q: shape %v, want a feature map", name, shape)
	}
	at := -1
	for i, nd := range g.Nodes {
		if nd.Name == name {
			at = i
		}
	}
	k := numel(shape)
	// The prefix of g ending at name, flattened so that its output is the
	// feature map as one row per sample. Nodes are shared: only read.
	pre := &Graph{Name: g.Name, Input: g.Input, InputShape: g.InputShape, InputMean: g.InputMean, InputStd: g.InputStd, Classes: k}
	src := name
	if at < 0 {
		src = g.Input
	}
	pre.Nodes = append(append(pre.Nodes, g.Nodes[:at+1]...), &Node{Name: "activations.flatten", Op: OpFlatten, Inputs: []string{src}})
	batch := min(n, 128)
	net, err := NewNet(pre, batch)
	if err != nil {
		return nil, nil, err
	}
	out := make([]float32, n*k)
	d := numel(g.InputShape)
	for s0 := 0; s0 < n; s0 += batch {
		m := min(batch, n-s0)
		net.Forward(out[s0*k:(s0+m)*k], x[s0*d:(s0+m)*d], m, false)
	}
	return out, shape, nil
}
