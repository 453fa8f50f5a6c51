//go:build !cgo || noopenblas

package dnn

// Without cgo (or with the noopenblas tag) no CBLAS library is loaded and
// GEMM stays on gonum's pure-Go blas32.
func loadBLAS() {}
