package dnn

import (
	"maps"
	"slices"
)

// Clone returns a deep copy of g: training or pruning the copy leaves g as it was.
func (g *Graph) Clone() *Graph {
	c := *g
	c.InputShape = slices.Clone(g.InputShape)
	c.InputMean = slices.Clone(g.InputMean)
	c.InputStd = slices.Clone(g.InputStd)
	c.Meta = maps.Clone(g.Meta)
	c.Nodes = make([]*Node, len(g.Nodes))
	for i, n := range g.Nodes {
		m := *n
		m.Inputs = slices.Clone(n.Inputs)
		m.W, m.B = n.W.Clone(), n.B.Clone()
		m.Scale, m.Bias, m.Mean, m.Var = n.Scale.Clone(), n.Bias.Clone(), n.Mean.Clone(), n.Var.Clone()
		c.Nodes[i] = &m
	}
	return &c
}
