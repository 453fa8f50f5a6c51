package dnn

import (
	"runtime"
	"strings"

	"golang.org/x/sys/cpu"
)

// OpenBLAS built for many CPUs (DYNAMIC_ARCH, as Debian's is) picks its
// kernels by the CPU's model number when it is loaded. A CPU newer than the
// library is taken for a generic x86-64 and given kernels for CPUs without
// AVX2: Debian 12's OpenBLAS 0.3.21 gives an Emerald Rapids Xeon (family 6,
// model 207) Prescott's SSE3 kernels, on which a training step runs at a
// third of the speed of the AVX-512 kernels the same CPU runs
// (docs/performance.md).
// So, unless OPENBLAS_CORETYPE says otherwise, tandem asks for the kernels
// the CPU's features allow where OpenBLAS fell back below them, and leaves
// OpenBLAS's own pick wherever it recognised the CPU.

// kernelsChosenHere records that tandem set OPENBLAS_CORETYPE itself.
var kernelsChosenHere bool

// preAVX2Kernels are OpenBLAS's x86-64 kernel sets that use no AVX2, by
// the names openblas_get_corename reports, in lower case.
var preAVX2Kernels = map[string]bool{
	"unknown": true, "katmai": true, "coppermine": true, "northwood": true, "prescott": true,
	"banias": true, "atom": true, "core2": true, "penryn": true, "dunnington": true,
	"nehalem": true, "sandybridge": true, "opteron": true, "opteron_sse3": true,
	"barcelona": true, "bobcat": true, "bulldozer": true, "piledriver": true,
}

// cpuFeatures are the instruction-set extensions that decide which of
// OpenBLAS's kernel sets a CPU runs (each as usable: the OS saves the
// registers too).
type cpuFeatures struct {
	avx2FMA    bool // Haswell's kernels
	avx512     bool // AVX-512 F, BW, DQ and VL: SkylakeX's kernels
	avx512BF16 bool // Cooperlake's kernels
}

// hostFeatures reports this CPU's features; none off x86-64.
func hostFeatures() cpuFeatures {
	if runtime.GOARCH != "amd64" {
		return cpuFeatures{}
	}
	x := cpu.X86
	avx512 := x.HasAVX512F && x.HasAVX512BW && x.HasAVX512DQ && x.HasAVX512VL
	return cpuFeatures{
		avx2FMA:    x.HasAVX2 && x.HasFMA,
		avx512:     avx512,
		avx512BF16: avx512 && x.HasAVX512BF16,
	}
}

// betterKernels returns the OPENBLAS_CORETYPE value naming the fastest
// kernels a CPU with features f runs, when OpenBLAS picked kernels without
// AVX2 although f has AVX2 and FMA: it did not recognise the CPU. It
// returns "" when OpenBLAS's pick stands.
func betterKernels(picked string, f cpuFeatures) string {
	if !f.avx2FMA || !preAVX2Kernels[strings.ToLower(picked)] {
		return ""
	}
	switch {
	case f.avx512BF16:
		return "Cooperlake"
	case f.avx512:
		return "SkylakeX"
	default:
		return "Haswell"
	}
}
