package compress

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestMLPGradients checks backward against finite differences, for the
// weights, the biases and the input, with and without the sigmoid output.
func TestMLPGradients(t *testing.T) {
	for _, sig := range []bool{false, true} {
		rng := rand.New(rand.NewPCG(1, 2))
		m := newMLP(rng, sig, 4, 5, 3, 2)
		// Larger last-layer weights than the init, so every path matters.
		for i := range m.w[2] {
			m.w[2][i] = rng.NormFloat64()
		}
		x := []float64{0.3, -0.7, 1.1, 0.05}
		c := []float64{0.9, -1.3}
		loss := func() float64 {
			out := m.forward(x)
			return c[0]*out[0] + c[1]*out[1]
		}
		g := m.newGrads()
		loss()
		dx := m.backward(g, c)
		const h = 1e-6
		check := func(what string, p *float64, analytic float64) {
			old := *p
			*p = old + h
			up := loss()
			*p = old - h
			down := loss()
			*p = old
			num := (up - down) / (2 * h)
			if math.Abs(num-analytic) > 1e-5*max(1, math.Abs(num)) {
				t.Errorf("sigmoid %v: %s: backward %g, finite difference %g", sig, what, analytic, num)
			}
		}
		for l := range m.w {
			for i := range m.w[l] {
				check("w", &m.w[l][i], g.w[l][i])
			}
			for i := range m.b[l] {
				check("b", &m.b[l][i], g.b[l][i])
			}
		}
		for i := range x {
			check("x", &x[i], dx[i])
		}
	}
}
