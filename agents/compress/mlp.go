package compress

import (
	"math"
	"math/rand/v2"
)

// mlp is a small fully connected network in float64 with ReLU hidden layers
// and, for the actor, a sigmoid output: the DDPG agent's actor and critic.
// It is trained with Adam; its size is a few thousand weights, so plain
// loops are fast enough and keep every run deterministic.
type mlp struct {
	sizes   []int
	w, b    [][]float64 // per layer: w is out×in, row-major
	sigmoid bool        // squash the output into (0, 1)

	// Adam state, per parameter.
	mw, vw, mb, vb [][]float64
	step           int

	// Forward's activations, kept for Backward: act[0] is the input.
	act [][]float64
}

func newMLP(rng *rand.Rand, sigmoid bool, sizes ...int) *mlp {
	m := &mlp{sizes: sizes, sigmoid: sigmoid}
	for l := 0; l+1 < len(sizes); l++ {
		in, out := sizes[l], sizes[l+1]
		w := make([]float64, in*out)
		scale := math.Sqrt(2 / float64(in))
		if l+2 == len(sizes) {
			scale = 3e-3 // a small last layer starts the output near its middle
		}
		for i := range w {
			w[i] = rng.NormFloat64() * scale
		}
		m.w = append(m.w, w)
		m.b = append(m.b, make([]float64, out))
		m.mw, m.vw = append(m.mw, make([]float64, in*out)), append(m.vw, make([]float64, in*out))
		m.mb, m.vb = append(m.mb, make([]float64, out)), append(m.vb, make([]float64, out))
	}
	for _, s := range sizes {
		m.act = append(m.act, make([]float64, s))
	}
	return m
}

// forward returns the output for x (aliasing the network's buffer).
func (m *mlp) forward(x []float64) []float64 {
	copy(m.act[0], x)
	last := len(m.w) - 1
	for l, w := range m.w {
		in, out := m.act[l], m.act[l+1]
		for o := range out {
			s := m.b[l][o]
			row := w[o*len(in) : (o+1)*len(in)]
			for i, v := range in {
				s += row[i] * v
			}
			switch {
			case l < last:
				s = max(s, 0)
			case m.sigmoid:
				s = 1 / (1 + math.Exp(-s))
			}
			out[o] = s
		}
	}
	return m.act[len(m.act)-1]
}

// grads holds a network's parameter gradients.
type grads struct{ w, b [][]float64 }

func (m *mlp) newGrads() *grads {
	g := &grads{}
	for l := range m.w {
		g.w = append(g.w, make([]float64, len(m.w[l])))
		g.b = append(g.b, make([]float64, len(m.b[l])))
	}
	return g
}

// backward adds to g the gradient of a loss whose gradient with respect to
// the output of the last forward is dout, and returns the gradient with
// respect to the input.
func (m *mlp) backward(g *grads, dout []float64) []float64 {
	d := append([]float64(nil), dout...)
	last := len(m.w) - 1
	for l := last; l >= 0; l-- {
		in, out := m.act[l], m.act[l+1]
		if l == last && m.sigmoid {
			for o := range d {
				d[o] *= out[o] * (1 - out[o])
			}
		} else if l < last {
			for o := range d {
				if out[o] <= 0 {
					d[o] = 0
				}
			}
		}
		din := make([]float64, len(in))
		for o, do := range d {
			g.b[l][o] += do
			row := m.w[l][o*len(in) : (o+1)*len(in)]
			grow := g.w[l][o*len(in) : (o+1)*len(in)]
			for i, v := range in {
				grow[i] += do * v
				din[i] += do * row[i]
			}
		}
		d = din
	}
	return d
}

// adam applies the gradient g, averaged over n samples.
func (m *mlp) adam(g *grads, n int, lr float64) {
	const b1, b2, eps = 0.9, 0.999, 1e-8
	m.step++
	c1, c2 := 1-math.Pow(b1, float64(m.step)), 1-math.Pow(b2, float64(m.step))
	upd := func(p, gr, mm, vv []float64) {
		for i := range p {
			x := gr[i] / float64(n)
			mm[i] = b1*mm[i] + (1-b1)*x
			vv[i] = b2*vv[i] + (1-b2)*x*x
			p[i] -= lr * (mm[i] / c1) / (math.Sqrt(vv[i]/c2) + eps)
		}
	}
	for l := range m.w {
		upd(m.w[l], g.w[l], m.mw[l], m.vw[l])
		upd(m.b[l], g.b[l], m.mb[l], m.vb[l])
	}
}
