package dnn

import (
	"os"
	"sync"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
)

// The GEMM implementation is chosen once, on first use: a CBLAS library
// found at run time (OpenBLAS, or Accelerate on macOS; see gemm_blas.go),
// else gonum's pure-Go blas32. Setting TANDEM_BLAS=gonum forces the latter,
// which is how the two are benchmarked side by side.
var (
	blasOnce    sync.Once
	gemmImpl    = gonumGemm
	gemmBackend = "gonum"
	gemmKernel  string
)

func chooseBLAS() {
	if os.Getenv("TANDEM_BLAS") != "gonum" {
		loadBLAS()
	}
}

// GEMMKernel names the kernels the BLAS library chose for this CPU, as
// OpenBLAS reports them ("Haswell", "Cooperlake"); "" when it does not say.
// Training's floating-point results, and so a compressed model's bytes,
// depend on it: OpenBLAS picks by CPU, and OPENBLAS_CORETYPE overrides
// (set by dnn itself where OpenBLAS did not know the CPU: kernels.go).
func GEMMKernel() string {
	blasOnce.Do(chooseBLAS)
	return gemmKernel
}

// GEMMName is GEMMBackend with GEMMKernel's kernels when it names them:
// "openblas (Cooperlake kernels)".
func GEMMName() string {
	if k := GEMMKernel(); k != "" {
		return GEMMBackend() + " (" + k + " kernels)"
	}
	return GEMMBackend()
}

// GEMMBackend names the BLAS implementation this process multiplies with:
// "openblas", "accelerate" or "gonum".
func GEMMBackend() string {
	blasOnce.Do(chooseBLAS)
	return gemmBackend
}

func gemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	blasOnce.Do(chooseBLAS)
	gemmImpl(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

var gonumBLAS = blas32.Implementation()

func gonumGemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	ta, tb := blas.NoTrans, blas.NoTrans
	if transA {
		ta = blas.Trans
	}
	if transB {
		tb = blas.Trans
	}
	gonumBLAS.Sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}
