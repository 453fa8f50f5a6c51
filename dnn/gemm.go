package dnn

import "fmt"

// sgemm computes, in row-major storage,
//
//	C = alpha·op(A)·op(B) + beta·C
//
// where op(X) is X or Xᵀ, op(A) is m×k, op(B) is k×n and C is m×n. It is the
// single entry point to the BLAS backend chosen on first use (a CBLAS library
// when found at run time, gonum's pure-Go blas32 otherwise), so every layer
// stays backend-agnostic. Slices too short for the given shape panic before
// any call into C can read past them.
func sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	checkMatrix("A", ar, ac, a, lda)
	checkMatrix("B", br, bc, b, ldb)
	checkMatrix("C", m, n, c, ldc)
	if k == 0 {
		// BLAS would only scale C; callers never ask for that.
		panic("dnn: sgemm with k = 0")
	}
	gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

func checkMatrix(name string, rows, cols int, x []float32, ld int) {
	if rows <= 0 || cols <= 0 || ld < cols || len(x) < (rows-1)*ld+cols {
		panic(fmt.Sprintf("dnn: sgemm: %s is %dx%d with stride %d but has %d elements", name, rows, cols, ld, len(x)))
	}
}
