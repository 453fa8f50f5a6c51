package onnx

import (
	"math"
	"slices"

	"github.com/tandem-edge/tandem/dnn"
)

// foldBatchNorm returns a copy of g in which every BatchNormalization whose
// input is a Conv read by nothing else is merged into that Conv. Per output
// channel c,
//
//	s[c]  = scale[c] / √(var[c] + ε)
//	W'[c] = W[c] · s[c]
//	b'[c] = (b[c] − mean[c]) · s[c] + bias[c]
//
// computed in float64. The merged Conv keeps the Conv's name, takes the
// BatchNormalization's place in the node order (its inputs still come
// earlier) and every reference to the BatchNormalization is renamed to it.
// g must have passed checkGraph; its nodes and tensors are not modified.
func foldBatchNorm(g *dnn.Graph) *dnn.Graph {
	readers := map[string]int{}
	byName := map[string]*dnn.Node{}
	for _, n := range g.Nodes {
		byName[n.Name] = n
		for _, in := range n.Inputs {
			readers[in]++
		}
	}
	convOf := map[string]*dnn.Node{} // BatchNormalization name → the Conv it folds into
	folded := map[string]bool{}      // Conv names that move
	for _, n := range g.Nodes {
		if n.Op != dnn.OpBatchNorm {
			continue
		}
		if c := byName[n.Inputs[0]]; c != nil && c.Op == dnn.OpConv && readers[c.Name] == 1 {
			convOf[n.Name] = c
			folded[c.Name] = true
		}
	}
	out := *g
	out.Nodes = make([]*dnn.Node, 0, len(g.Nodes)-len(convOf))
	rename := map[string]string{}
	for _, n := range g.Nodes {
		if folded[n.Name] {
			continue
		}
		if c, ok := convOf[n.Name]; ok {
			out.Nodes = append(out.Nodes, foldInto(c, n))
			rename[n.Name] = c.Name
			continue
		}
		m := *n
		m.Inputs = slices.Clone(n.Inputs)
		for i, in := range m.Inputs {
			if r, ok := rename[in]; ok {
				m.Inputs[i] = r
			}
		}
		out.Nodes = append(out.Nodes, &m)
	}
	return &out
}

// foldInto returns conv c with batch normalisation bn applied to its output.
func foldInto(c, bn *dnn.Node) *dnn.Node {
	m := *c
	m.W = c.W.Clone()
	m.B = dnn.NewTensor(c.Out)
	per := len(c.W.Data) / c.Out
	for o := range c.Out {
		s := float64(bn.Scale.Data[o]) / math.Sqrt(float64(bn.Var.Data[o])+float64(bn.Eps))
		w := m.W.Data[o*per : (o+1)*per]
		for i := range w {
			w[i] = float32(float64(w[i]) * s)
		}
		b := 0.0
		if c.B != nil {
			b = float64(c.B.Data[o])
		}
		m.B.Data[o] = float32((b-float64(bn.Mean.Data[o]))*s + float64(bn.Bias.Data[o]))
	}
	return &m
}
