package dnn

import (
	"os"
	"strings"
	"testing"
)

// OpenBLAS names the kernels it chose, and a compressed model's provenance
// records them: on other kernels the same command trains other bytes.
func TestGEMMNameNamesKernels(t *testing.T) {
	name := GEMMName()
	if !strings.HasPrefix(name, GEMMBackend()) {
		t.Fatalf("GEMMName %q does not start with the backend %q", name, GEMMBackend())
	}
	if GEMMBackend() != "openblas" {
		if cblasBuild && os.Getenv("CI") != "" && os.Getenv("TANDEM_BLAS") != "gonum" {
			t.Fatalf("GEMM backend %q under CI, where the setup installs OpenBLAS", GEMMBackend())
		}
		t.Skipf("GEMM backend %q: OpenBLAS alone names its kernels", GEMMBackend())
	}
	if k := GEMMKernel(); k == "" || name != "openblas ("+k+" kernels)" {
		t.Errorf("OpenBLAS: kernel %q, name %q; want a kernel, named in %q", k, name, "openblas (KERNEL kernels)")
	}
}
