//go:build cgo && !noopenblas

package dnn

/*
#cgo linux LDFLAGS: -ldl
#include <dlfcn.h>
#include <stdlib.h>

// CBLAS enum values, fixed by the CBLAS standard.
enum { RowMajor = 101, NoTrans = 111, Trans = 112 };

typedef void (*sgemm_fn)(int, int, int, int, int, int, float, const float *, int,
                         const float *, int, float, float *, int);
typedef void (*threads_fn)(int);
typedef char *(*corename_fn)(void);

static void *blas_handle;
static sgemm_fn blas_sgemm;
static corename_fn blas_corename;

// blas_open loads cblas_sgemm from the shared library at path; it returns 0
// when the library or the symbol is missing.
static int blas_open(const char *path) {
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (h == NULL) return 0;
	sgemm_fn f = (sgemm_fn)dlsym(h, "cblas_sgemm");
	if (f == NULL) { dlclose(h); return 0; }
	blas_handle = h;
	blas_sgemm = f;
	// A Net parallelises across layers' work units itself, in a fixed
	// order; OpenBLAS's own threads would only contend with it.
	threads_fn threads = (threads_fn)dlsym(h, "openblas_set_num_threads");
	if (threads != NULL) threads(1);
	blas_corename = (corename_fn)dlsym(h, "openblas_get_corename");
	return 1;
}

static const char *blas_kernel(void) {
	return blas_corename != NULL ? blas_corename() : NULL;
}

// blas_close unloads the library blas_open loaded, so that it can be loaded
// again and pick its kernels afresh.
static void blas_close(void) {
	blas_sgemm = NULL;
	blas_corename = NULL;
	if (blas_handle != NULL) dlclose(blas_handle);
	blas_handle = NULL;
}

static void blas_call(int ta, int tb, int m, int n, int k, float alpha,
                      const float *a, int lda, const float *b, int ldb,
                      float beta, float *c, int ldc) {
	blas_sgemm(RowMajor, ta ? Trans : NoTrans, tb ? Trans : NoTrans, m, n, k,
	           alpha, a, lda, b, ldb, beta, c, ldc);
}
*/
import "C"

import (
	"os"
	"unsafe"
)

// The BLAS library is opened at run time, not linked, so that the tandem
// binary builds and runs (the simulator above all) on machines without
// OpenBLAS; there GEMM falls back to gonum's pure-Go blas32.

// blasCandidates are the shared libraries tried in order: $TANDEM_BLAS, then
// OpenBLAS under its usual sonames, then Apple's Accelerate.
func blasCandidates() []string {
	var c []string
	if p := os.Getenv("TANDEM_BLAS"); p != "" {
		c = append(c, p)
	}
	return append(c,
		"libopenblas.so.0", "libopenblas.so",
		"/usr/lib/x86_64-linux-gnu/libopenblas.so.0", "/usr/lib/aarch64-linux-gnu/libopenblas.so.0",
		"/System/Library/Frameworks/Accelerate.framework/Accelerate",
		"/opt/homebrew/opt/openblas/lib/libopenblas.dylib")
}

// cblasBuild reports whether this build can load a CBLAS library.
const cblasBuild = true

func loadBLAS() {
	for _, p := range blasCandidates() {
		if !openBLAS(p) {
			continue
		}
		gemmBackend = "openblas"
		if p == "/System/Library/Frameworks/Accelerate.framework/Accelerate" {
			gemmBackend = "accelerate"
		}
		gemmImpl = cblasGemm
		gemmKernel = loadedKernel()
		if _, set := os.LookupEnv("OPENBLAS_CORETYPE"); set {
			return
		}
		if ct := betterKernels(gemmKernel, hostFeatures()); ct != "" {
			// OpenBLAS reads OPENBLAS_CORETYPE when it is loaded; with cgo,
			// os.Setenv reaches the C environment it reads. A library that
			// does not unload keeps its first pick, which is then reported.
			C.blas_close()
			os.Setenv("OPENBLAS_CORETYPE", ct)
			kernelsChosenHere = true
			if !openBLAS(p) {
				// Loaded once, it should load again; should it not, GEMM
				// stays in Go rather than call a library that is gone.
				gemmImpl, gemmBackend, gemmKernel = gonumGemm, "gonum", ""
				return
			}
			gemmKernel = loadedKernel()
		}
		return
	}
}

// openBLAS loads the CBLAS library at path, reporting whether it did.
func openBLAS(path string) bool {
	cp := C.CString(path)
	defer C.free(unsafe.Pointer(cp))
	return C.blas_open(cp) == 1
}

// loadedKernel names the kernels the loaded library chose; "" when it does
// not say.
func loadedKernel() string {
	if k := C.blas_kernel(); k != nil {
		return C.GoString(k)
	}
	return ""
}

func cblasGemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	C.blas_call(cbool(transA), cbool(transB), C.int(m), C.int(n), C.int(k), C.float(alpha),
		(*C.float)(unsafe.Pointer(&a[0])), C.int(lda), (*C.float)(unsafe.Pointer(&b[0])), C.int(ldb),
		C.float(beta), (*C.float)(unsafe.Pointer(&c[0])), C.int(ldc))
}

func cbool(b bool) C.int {
	if b {
		return 1
	}
	return 0
}
