package dnn

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestDenseMatchesDefinition checks a Dense layer large enough to be cut
// into blocks against its definition, forward and backward.
func TestDenseMatchesDefinition(t *testing.T) {
	const batch, in, out = 100, 300, 40
	rng := rand.New(rand.NewPCG(8, 8))
	n := denseNode("fc", "x", out, in, true)
	g := testGraph(t, []int{in}, n)
	randomise(g, rng)
	net, err := NewNet(g, batch)
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float32, batch*in)
	for i := range x {
		x[i] = float32(2*rng.Float64() - 1)
	}
	r := make([]float32, batch*out)
	for i := range r {
		r[i] = float32(2*rng.Float64() - 1)
	}
	y := make([]float32, batch*out)
	net.Forward(y, x, batch, true)
	dx := make([]float32, len(x))
	net.Backward(dx, r, batch)
	wy, wdx := make([]float32, len(y)), make([]float32, len(x))
	wdw, wdb := make([]float32, out*in), make([]float32, out)
	for s := range batch {
		for o := range out {
			sum := float64(n.B.Data[o])
			for i := range in {
				sum += float64(n.W.Data[o*in+i]) * float64(x[s*in+i])
				wdx[s*in+i] += r[s*out+o] * n.W.Data[o*in+i]
				wdw[o*in+i] += r[s*out+o] * x[s*in+i]
			}
			wy[s*out+o] = float32(sum)
			wdb[o] += r[s*out+o]
		}
	}
	for _, c := range []struct {
		what      string
		got, want []float32
	}{{"y", y, wy}, {"dx", dx, wdx}, {"dW", net.Params()[0].Grad, wdw}, {"dB", net.Params()[1].Grad, wdb}} {
		for i := range c.want {
			if math.Abs(float64(c.got[i]-c.want[i])) > 1e-3*(1+math.Abs(float64(c.want[i]))) {
				t.Fatalf("%s[%d] = %g, want %g", c.what, i, c.got[i], c.want[i])
			}
		}
	}
}
