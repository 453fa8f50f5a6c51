package dnn

// addTo sets dst[i] += src[i]. Long vectors go to gonum's assembly AXPY
// (with alpha 1, so every sum is rounded exactly as the plain loop would
// round it); short ones are not worth the call.
func addTo(dst, src []float32) {
	if len(src) >= 32 {
		gonumBLAS.Saxpy(len(src), 1, src, 1, dst, 1)
		return
	}
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] += v
	}
}

// sum32 returns Σ x, in four interleaved partial sums so that the adds
// overlap instead of waiting on each other.
func sum32(x []float32) float32 {
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(x); i += 4 {
		s0, s1, s2, s3 = s0+x[i], s1+x[i+1], s2+x[i+2], s3+x[i+3]
	}
	for ; i < len(x); i++ {
		s0 += x[i]
	}
	return (s0 + s1) + (s2 + s3)
}
