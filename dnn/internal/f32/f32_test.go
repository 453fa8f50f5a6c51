package f32

import (
	"math"
	"math/rand/v2"
	"testing"
)

// The kernels must give, bit for bit, what the lane-by-lane definitions
// below give. The float32 conversions keep a compiler from fusing a
// multiply and an add, which the kernels never do.

func refHsum(a *[8]float32) float32 {
	l0, l1, l2, l3 := a[0]+a[4], a[1]+a[5], a[2]+a[6], a[3]+a[7]
	return (l0 + l1) + (l2 + l3)
}

func refRelu(v float32) float32 {
	u := math.Float32bits(v)
	return math.Float32frombits(u &^ uint32(int32(u)>>31))
}

func TestKernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	vec := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.NormFloat64())
			if rng.IntN(5) == 0 {
				v[i] = 0
			}
		}
		return v
	}
	same := func(what string, got, want []float32) {
		t.Helper()
		for i := range want {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("%s[%d] = %g, want %g", what, i, got[i], want[i])
			}
		}
	}
	for _, n := range []int{0, 8, 16, 200, 1024} {
		x, y, d := vec(n), vec(n), vec(n)
		p, a, b, k, k1, k2 := float32(0.3), float32(1.7), float32(-0.2), float32(0.9), float32(0.01), float32(-0.05)

		var sa, qa [8]float32
		for i, v := range x {
			sa[i%8] += v - p
			qa[i%8] += float32((v - p) * (v - p))
		}
		s, ss := Sums8(x, p)
		same("Sums8", []float32{s, ss}, []float32{refHsum(&sa), refHsum(&qa)})

		sa, qa = [8]float32{}, [8]float32{}
		for i, v := range d {
			sa[i%8] += v
			qa[i%8] += float32(v * (x[i] - p))
		}
		s, ss = GradSums8(d, x, p)
		same("GradSums8", []float32{s, ss}, []float32{refHsum(&sa), refHsum(&qa)})

		got, want := make([]float32, n), make([]float32, n)
		Affine8(got, x, a, b)
		for i, v := range x {
			want[i] = float32(v*a) + b
		}
		same("Affine8", got, want)
		AffineReLU8(got, x, a, b)
		for i, v := range x {
			want[i] = refRelu(float32(v*a) + b)
		}
		same("AffineReLU8", got, want)
		BnGrad8(got, d, x, k, k1, k2, p)
		for i, v := range d {
			want[i] = (float32(k*v) + k1) + float32(k2*(x[i]-p))
		}
		same("BnGrad8", got, want)
		copy(got, y)
		BnGradAcc8(got, d, x, k, k1, k2, p)
		for i, v := range d {
			want[i] = y[i] + ((float32(k*v) + k1) + float32(k2*(x[i]-p)))
		}
		same("BnGradAcc8", got, want)
		r := make([]float32, n)
		for i := range r {
			r[i] = refRelu(y[i])
		}
		AddReLU8(got, x, y)
		for i, v := range x {
			want[i] = refRelu(v + y[i])
		}
		same("AddReLU8", got, want)
		ReluGrad8(got, d, r)
		for i, v := range d {
			want[i] = 0
			if r[i] != 0 {
				want[i] = v
			}
		}
		same("ReluGrad8", got, want)

		m := make([]float32, n) // d masked by r, as ReluGrad8 gives it
		copy(m, want)
		sa, qa = [8]float32{}, [8]float32{}
		for i, v := range m {
			sa[i%8] += v
			qa[i%8] += float32(v * (x[i] - p))
		}
		s, ss = GradSumsReLU8(d, r, x, p)
		same("GradSumsReLU8", []float32{s, ss}, []float32{refHsum(&sa), refHsum(&qa)})
		BnGradReLU8(got, d, r, x, k, k1, k2, p)
		for i, v := range m {
			want[i] = (float32(k*v) + k1) + float32(k2*(x[i]-p))
		}
		same("BnGradReLU8", got, want)
		copy(got, y)
		BnGradReLUAcc8(got, d, r, x, k, k1, k2, p)
		for i, v := range m {
			want[i] = y[i] + ((float32(k*v) + k1) + float32(k2*(x[i]-p)))
		}
		same("BnGradReLUAcc8", got, want)
	}
}
