package dnn

import (
	"fmt"
	"math"
)

// SoftmaxCrossEntropy computes the mean cross-entropy of n rows of logits z
// (n·classes values) against labels, with optional label smoothing ε:
//
//	p_c  = exp(z_c − m) / Σ_j exp(z_j − m),   m = max_j z_j
//	q_c  = (1 − ε)·[c = label] + ε/classes
//	loss = (1/n) Σ_rows −Σ_c q_c·log p_c
//	∂loss/∂z_c = (p_c − q_c)/n
//
// Subtracting the row maximum keeps exp from overflowing and log p_c is
// formed as z_c − m − log Σ exp(z_j − m), so no probability is rounded to 0
// before its log is taken. The gradient is written to dlogits unless it is
// nil. correct counts the rows whose largest logit is the label (ties go to
// the first). It panics on a label outside [0, classes).
func SoftmaxCrossEntropy(dlogits, logits []float32, labels []int32, classes int, smoothing float64) (loss float64, correct int) {
	n := len(labels)
	if len(logits) < n*classes || (dlogits != nil && len(dlogits) < n*classes) {
		panic(fmt.Sprintf("dnn: SoftmaxCrossEntropy: %d rows of %d classes need %d logits", n, classes, n*classes))
	}
	off := smoothing / float64(classes)
	on := 1 - smoothing + off
	inv := 1 / float64(n)
	for r := range n {
		z := logits[r*classes:][:classes]
		y := int(labels[r])
		if y < 0 || y >= classes {
			panic(fmt.Sprintf("dnn: SoftmaxCrossEntropy: label %d outside [0, %d)", y, classes))
		}
		arg := 0
		for c, v := range z {
			if v > z[arg] {
				arg = c
			}
		}
		if arg == y {
			correct++
		}
		m := float64(z[arg])
		var sum float64
		for _, v := range z {
			sum += math.Exp(float64(v) - m)
		}
		lse := m + math.Log(sum)
		for c, v := range z {
			q := off
			if c == y {
				q = on
			}
			if q != 0 {
				loss -= q * (float64(v) - lse)
			}
			if dlogits != nil {
				p := math.Exp(float64(v) - lse)
				dlogits[r*classes+c] = float32((p - q) * inv)
			}
		}
	}
	return loss * inv, correct
}
