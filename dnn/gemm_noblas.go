//go:build !cgo || noopenblas

package dnn

// Without cgo (or with the noopenblas tag) no CBLAS library is loaded and
// GEMM stays on gonum's pure-Go blas32.
func loadBLAS() {}

// cblasBuild reports whether this build can load a CBLAS library.
const cblasBuild = false
