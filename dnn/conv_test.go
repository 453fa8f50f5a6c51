package dnn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// refConv is the convolution of n, straight from its definition, on a
// batch x in NCHW: it returns y and, for the loss Σ r·y, the gradients
// with respect to x, W and B.
func refConv(n *Node, in []int, batch int, x, r []float32) (y, dx, dw, db []float32) {
	c, h, w := in[0], in[1], in[2]
	out, _ := n.convShape(in)
	oc, oh, ow := out[0], out[1], out[2]
	g := n.groups()
	cg, og := c/g, oc/g
	kh, kw := n.Kernel[0], n.Kernel[1]
	sh, sw := n.stride()
	y = make([]float32, batch*oc*oh*ow)
	dx = make([]float32, len(x))
	dw = make([]float32, len(n.W.Data))
	db = make([]float32, oc)
	for s := range batch {
		for o := range oc {
			for oy := range oh {
				for ox := range ow {
					at := ((s*oc+o)*oh+oy)*ow + ox
					var sum float64
					if n.B != nil {
						sum = float64(n.B.Data[o])
					}
					for ci := range cg {
						for i := range kh {
							for j := range kw {
								iy, ix := oy*sh-n.Pad[0]+i, ox*sw-n.Pad[1]+j
								if iy < 0 || iy >= h || ix < 0 || ix >= w {
									continue
								}
								xi := ((s*c+(o/og)*cg+ci)*h+iy)*w + ix
								wi := ((o*cg+ci)*kh+i)*kw + j
								sum += float64(n.W.Data[wi]) * float64(x[xi])
								dx[xi] += r[at] * n.W.Data[wi]
								dw[wi] += r[at] * x[xi]
							}
						}
					}
					y[at] = float32(sum)
					db[o] += r[at]
				}
			}
		}
	}
	return y, dx, dw, db
}

// TestConvMatchesDefinition runs convolutions of every lowering (shifted
// rows, pointwise, strided, grouped, split into chunks) forward and
// backward and compares them with refConv.
func TestConvMatchesDefinition(t *testing.T) {
	cases := []struct {
		in             []int
		out, k, stride int
		pad            [4]int
		groups, batch  int
		budget         int // im2col budget; 0 leaves the default
	}{
		{in: []int{3, 7, 6}, out: 5, k: 3, stride: 1, pad: [4]int{1, 1, 1, 1}, groups: 1, batch: 3},
		{in: []int{3, 7, 6}, out: 5, k: 3, stride: 1, pad: [4]int{1, 1, 1, 1}, groups: 1, batch: 5, budget: 2 * 27 * 42},
		{in: []int{4, 6, 6}, out: 4, k: 5, stride: 1, pad: [4]int{2, 2, 2, 2}, groups: 2, batch: 3, budget: 1},
		{in: []int{4, 5, 5}, out: 6, k: 1, stride: 1, groups: 1, batch: 4, budget: 2 * 4 * 25},
		{in: []int{4, 5, 5}, out: 6, k: 1, stride: 1, groups: 2, batch: 2},
		{in: []int{3, 8, 7}, out: 4, k: 3, stride: 2, pad: [4]int{1, 1, 1, 1}, groups: 1, batch: 3, budget: 1},
		{in: []int{2, 6, 6}, out: 3, k: 3, stride: 1, pad: [4]int{0, 1, 2, 1}, groups: 1, batch: 2},
		{in: []int{2, 6, 6}, out: 3, k: 2, stride: 1, pad: [4]int{1, 0, 0, 1}, groups: 1, batch: 2},
		// Planes smaller than the kernel's reach (VGG's last stages on 28x28
		// images), one sample a chunk: a shifted row then starts or ends
		// beyond the chunk's planes.
		{in: []int{3, 1, 1}, out: 4, k: 3, stride: 1, pad: [4]int{1, 1, 1, 1}, groups: 1, batch: 3, budget: 1},
		{in: []int{2, 2, 2}, out: 3, k: 5, stride: 1, pad: [4]int{2, 2, 2, 2}, groups: 1, batch: 3, budget: 1},
		{in: []int{3, 1, 1}, out: 4, k: 3, stride: 1, pad: [4]int{1, 1, 1, 1}, groups: 1, batch: 4},
	}
	for _, tc := range cases {
		name := fmt.Sprintf("%v k%d s%d pad%v g%d n%d budget%d", tc.in, tc.k, tc.stride, tc.pad, tc.groups, tc.batch, tc.budget)
		t.Run(name, func(t *testing.T) {
			if tc.budget > 0 {
				defer func(b int) { colBudget = b }(colBudget)
				colBudget = tc.budget
			}
			rng := rand.New(rand.NewPCG(uint64(len(name)), 5))
			n := convNode("c", "x", tc.out, tc.k, tc.stride, tc.pad, tc.groups, tc.in[0], true)
			g := testGraph(t, tc.in, n)
			randomise(g, rng)
			net, err := NewNet(g, tc.batch)
			if err != nil {
				t.Fatal(err)
			}
			x := make([]float32, tc.batch*net.InputSize())
			for i := range x {
				x[i] = float32(2*rng.Float64() - 1)
			}
			r := make([]float32, tc.batch*g.Classes)
			for i := range r {
				r[i] = float32(2*rng.Float64() - 1)
			}
			y := make([]float32, len(r))
			net.Forward(y, x, tc.batch, true)
			dx := make([]float32, len(x))
			net.Backward(dx, r, tc.batch)
			wy, wdx, wdw, wdb := refConv(n, tc.in, tc.batch, x, r)
			near := func(what string, got, want []float32) {
				t.Helper()
				for i := range want {
					if math.Abs(float64(got[i]-want[i])) > 1e-4*(1+math.Abs(float64(want[i]))) {
						t.Fatalf("%s[%d] = %g, want %g", what, i, got[i], want[i])
					}
				}
			}
			near("y", y, wy)
			near("dx", dx, wdx)
			near("dW", net.Params()[0].Grad, wdw)
			near("dB", net.Params()[1].Grad, wdb)
		})
	}
}
