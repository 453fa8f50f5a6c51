//go:build !amd64 || purego

package f32

import "math"

// The kernels in Go, for machines without the assembly ones. Each works on
// 8 lanes exactly as the assembly does (lane j takes values j, j+8, ...;
// the lanes are then summed as hsum8 does), so both give the same bits.

func Sums8(x []float32, p float32) (s, ss float32) {
	var a, q [8]float32
	for i := 0; i+8 <= len(x); i += 8 {
		for j, v := range x[i : i+8] {
			d := v - p
			a[j] += d
			q[j] += float32(d * d)
		}
	}
	return hsum8(&a), hsum8(&q)
}

func GradSums8(dy, x []float32, mu float32) (s, sx float32) {
	x = x[:len(dy)]
	var a, q [8]float32
	for i := 0; i+8 <= len(dy); i += 8 {
		for j, d := range dy[i : i+8] {
			a[j] += d
			q[j] += float32(d * (x[i+j] - mu))
		}
	}
	return hsum8(&a), hsum8(&q)
}

func Affine8(dst, x []float32, a, b float32) {
	x = x[:len(dst)]
	for i, v := range x {
		dst[i] = float32(v*a) + b
	}
}

func AffineReLU8(dst, x []float32, a, b float32) {
	x = x[:len(dst)]
	for i, v := range x {
		u := math.Float32bits(float32(v*a) + b)
		dst[i] = math.Float32frombits(u &^ uint32(int32(u)>>31))
	}
}

func BnGrad8(dst, dy, x []float32, k, k1, k2, mu float32) {
	dy, x = dy[:len(dst)], x[:len(dst)]
	for i, d := range dy {
		dst[i] = (float32(k*d) + k1) + float32(k2*(x[i]-mu))
	}
}

func BnGradAcc8(dst, dy, x []float32, k, k1, k2, mu float32) {
	dy, x = dy[:len(dst)], x[:len(dst)]
	for i, d := range dy {
		dst[i] += (float32(k*d) + k1) + float32(k2*(x[i]-mu))
	}
}

func ReluGrad8(dst, d, y []float32) {
	d, y = d[:len(dst)], y[:len(dst)]
	for i, v := range y {
		dst[i] = masked(d[i], v)
	}
}

func AddReLU8(dst, a, b []float32) {
	a, b = a[:len(dst)], b[:len(dst)]
	for i, v := range a {
		u := math.Float32bits(v + b[i])
		dst[i] = math.Float32frombits(u &^ uint32(int32(u)>>31))
	}
}

func GradSumsReLU8(dr, yr, x []float32, mu float32) (s, sx float32) {
	yr, x = yr[:len(dr)], x[:len(dr)]
	var a, q [8]float32
	for i := 0; i+8 <= len(dr); i += 8 {
		for j := range 8 {
			d := masked(dr[i+j], yr[i+j])
			a[j] += d
			q[j] += float32(d * (x[i+j] - mu))
		}
	}
	return hsum8(&a), hsum8(&q)
}

func BnGradReLU8(dst, dr, yr, x []float32, k, k1, k2, mu float32) {
	dr, yr, x = dr[:len(dst)], yr[:len(dst)], x[:len(dst)]
	for i, v := range dr {
		d := masked(v, yr[i])
		dst[i] = (float32(k*d) + k1) + float32(k2*(x[i]-mu))
	}
}

func BnGradReLUAcc8(dst, dr, yr, x []float32, k, k1, k2, mu float32) {
	dr, yr, x = dr[:len(dst)], yr[:len(dst)], x[:len(dst)]
	for i, v := range dr {
		d := masked(v, yr[i])
		dst[i] += (float32(k*d) + k1) + float32(k2*(x[i]-mu))
	}
}

// masked is d where the bits of y are not all zero, and 0 where they are.
func masked(d, y float32) float32 {
	b := math.Float32bits(y)
	return math.Float32frombits(math.Float32bits(d) & uint32(int32(b|-b)>>31))
}

// hsum8 adds the lanes of a: lanes j and j+4 first, then as
// (l0 + l1) + (l2 + l3).
func hsum8(a *[8]float32) float32 {
	l0, l1, l2, l3 := a[0]+a[4], a[1]+a[5], a[2]+a[6], a[3]+a[7]
	return (l0 + l1) + (l2 + l3)
}
