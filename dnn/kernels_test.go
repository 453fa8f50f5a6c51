package dnn

import (
	"os"
	"testing"
)

func TestBetterKernels(t *testing.T) {
	avx2 := cpuFeatures{avx2FMA: true}
	avx512 := cpuFeatures{avx2FMA: true, avx512: true}
	bf16 := cpuFeatures{avx2FMA: true, avx512: true, avx512BF16: true}
	for _, tc := range []struct {
		picked string
		f      cpuFeatures
		want   string
	}{
		{"Prescott", bf16, "Cooperlake"}, // a Xeon newer than the library
		{"Prescott", avx512, "SkylakeX"},
		{"prescott", avx2, "Haswell"},
		{"Sandybridge", avx2, "Haswell"},
		{"Barcelona", bf16, "Cooperlake"},
		{"Prescott", cpuFeatures{}, ""}, // the CPU runs nothing better
		{"Haswell", bf16, ""},           // a recognised CPU: OpenBLAS's pick stands
		{"Zen", bf16, ""},
		{"SkylakeX", bf16, ""},
		{"Cooperlake", bf16, ""},
		{"neoversen1", cpuFeatures{}, ""}, // arm64
		{"", bf16, ""},                    // a library that does not say
	} {
		if got := betterKernels(tc.picked, tc.f); got != tc.want {
			t.Errorf("betterKernels(%q, %+v) = %q, want %q", tc.picked, tc.f, got, tc.want)
		}
	}
}

// On this machine OpenBLAS runs the best kernels the CPU allows, unless
// OPENBLAS_CORETYPE chose others before tandem loaded it.
func TestOpenBLASRunsKernelsTheCPUAllows(t *testing.T) {
	if coreType, set := os.LookupEnv("OPENBLAS_CORETYPE"); set && !kernelsChosenHere {
		t.Skipf("OPENBLAS_CORETYPE=%s was set before the library loaded: its choice stands", coreType)
	}
	if GEMMBackend() != "openblas" {
		if cblasBuild && os.Getenv("CI") != "" && os.Getenv("TANDEM_BLAS") != "gonum" {
			t.Fatalf("GEMM backend %q under CI, where the setup installs OpenBLAS", GEMMBackend())
		}
		t.Skipf("GEMM backend %q: only OpenBLAS picks kernels by CPU", GEMMBackend())
	}
	if ct := betterKernels(GEMMKernel(), hostFeatures()); ct != "" {
		t.Errorf("OpenBLAS runs %s kernels on a CPU that runs %s's", GEMMKernel(), ct)
	}
}
