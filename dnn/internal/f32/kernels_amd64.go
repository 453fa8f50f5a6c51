//go:build amd64 && !purego

package f32

// Implemented in kernels_amd64.s; the semantics are those of the Go
// versions in kernels_other.go.

//go:noescape
func Sums8(x []float32, p float32) (s, ss float32)

//go:noescape
func GradSums8(dy, x []float32, mu float32) (s, sx float32)

//go:noescape
func Affine8(dst, x []float32, a, b float32)

//go:noescape
func AffineReLU8(dst, x []float32, a, b float32)

//go:noescape
func BnGrad8(dst, dy, x []float32, k, k1, k2, mu float32)

//go:noescape
func BnGradAcc8(dst, dy, x []float32, k, k1, k2, mu float32)

//go:noescape
func ReluGrad8(dst, d, y []float32)

//go:noescape
func AddReLU8(dst, a, b []float32)

//go:noescape
func GradSumsReLU8(dr, yr, x []float32, mu float32) (s, sx float32)

//go:noescape
func BnGradReLU8(dst, dr, yr, x []float32, k, k1, k2, mu float32)

//go:noescape
func BnGradReLUAcc8(dst, dr, yr, x []float32, k, k1, k2, mu float32)
