package dnn

import "github.com/tandem-edge/tandem/dnn/internal/f32"

// addTo sets dst[i] += src[i]. Long vectors go to gonum's assembly AXPY
// (with alpha 1, so every sum is rounded exactly as the plain loop would
// round it); short ones are not worth the call.
func addTo(dst, src []float32) {
	if len(src) >= 32 {
		gonumBLAS.Saxpy(len(src), 1, src, 1, dst, 1)
		return
	}
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] += v
	}
}

// sum32 returns Σ x, in four interleaved partial sums so that the adds
// overlap instead of waiting on each other.
func sum32(x []float32) float32 {
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(x); i += 4 {
		s0, s1, s2, s3 = s0+x[i], s1+x[i+1], s2+x[i+2], s3+x[i+3]
	}
	for ; i < len(x); i++ {
		s0 += x[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// The BatchNorm and ReLU loops below run their first len &^ 7 values
// through the 8-lane kernels of package f32 and the rest here, with the
// same operations; the float32 conversions keep a compiler from fusing a
// multiply and an add, which the kernels never do.

// moments returns Σ(x − p) and Σ(x − p)².
func moments(x []float32, p float32) (s, ss float32) {
	n := len(x) &^ 7
	s, ss = f32.Sums8(x[:n], p)
	for _, v := range x[n:] {
		d := v - p
		s += d
		ss += float32(d * d)
	}
	return s, ss
}

// gradMoments returns Σ d and Σ d·(x − mu) where d is dy, or, when y is
// not nil, dy where y (a ReLU output) is above zero and 0 elsewhere.
func gradMoments(dy, y, x []float32, mu float32) (s, sx float32) {
	x = x[:len(dy)]
	n := len(dy) &^ 7
	if y != nil {
		y = y[:len(dy)]
		s, sx = f32.GradSumsReLU8(dy[:n], y[:n], x[:n], mu)
	} else {
		s, sx = f32.GradSums8(dy[:n], x[:n], mu)
	}
	for i, d := range dy[n:] {
		if y != nil {
			d = reluGrad(d, y[n+i])
		}
		s += d
		sx += float32(d * (x[n+i] - mu))
	}
	return s, sx
}

// affine sets dst = x·a + b, or max(x·a + b, 0) when relu is set.
func affine(dst, x []float32, a, b float32, relu bool) {
	x = x[:len(dst)]
	n := len(dst) &^ 7
	if relu {
		f32.AffineReLU8(dst[:n], x[:n], a, b)
		for i, v := range x[n:] {
			dst[n+i] = relu32(float32(v*a) + b)
		}
		return
	}
	f32.Affine8(dst[:n], x[:n], a, b)
	for i, v := range x[n:] {
		dst[n+i] = float32(v*a) + b
	}
}

// bnGrad sets (or, when acc, adds to) dst the BatchNorm input gradient
// (k·d + k1) + k2·(x − mu), d as in gradMoments.
func bnGrad(dst, dy, y, x []float32, k, k1, k2, mu float32, acc bool) {
	dy, x = dy[:len(dst)], x[:len(dst)]
	n := len(dst) &^ 7
	switch {
	case y != nil && acc:
		f32.BnGradReLUAcc8(dst[:n], dy[:n], y[:n], x[:n], k, k1, k2, mu)
	case y != nil:
		f32.BnGradReLU8(dst[:n], dy[:n], y[:n], x[:n], k, k1, k2, mu)
	case acc:
		f32.BnGradAcc8(dst[:n], dy[:n], x[:n], k, k1, k2, mu)
	default:
		f32.BnGrad8(dst[:n], dy[:n], x[:n], k, k1, k2, mu)
	}
	for i, d := range dy[n:] {
		if y != nil {
			d = reluGrad(d, y[n+i])
		}
		v := (float32(k*d) + k1) + float32(k2*(x[n+i]-mu))
		if acc {
			dst[n+i] += v
		} else {
			dst[n+i] = v
		}
	}
}

// reluGradTo sets dst = d where y, a ReLU output, is above zero and 0
// elsewhere.
func reluGradTo(dst, d, y []float32) {
	d, y = d[:len(dst)], y[:len(dst)]
	n := len(dst) &^ 7
	f32.ReluGrad8(dst[:n], d[:n], y[:n])
	for i, v := range y[n:] {
		dst[n+i] = reluGrad(d[n+i], v)
	}
}

// addReLU sets dst = max(a + b, 0).
func addReLU(dst, a, b []float32) {
	a, b = a[:len(dst)], b[:len(dst)]
	n := len(dst) &^ 7
	f32.AddReLU8(dst[:n], a[:n], b[:n])
	for i, v := range a[n:] {
		dst[n+i] = relu32(v + b[n+i])
	}
}
