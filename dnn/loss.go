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

// DistillCrossEntropy is knowledge distillation's loss (Hinton et al.,
// "Distilling the Knowledge in a Neural Network", 2015) for n rows of
// student logits z against a teacher's logits t at temperature T, mixed
// with the hard labels by weight α:
//
//	p^T_c = softmax(z/T)_c,   q^T_c = softmax(t/T)_c
//	loss  = (1 − α)·CE(z, label) + α·T²·Σ_c q^T_c·(log q^T_c − log p^T_c)
//	∂loss/∂z_c = (1 − α)·(p_c − [c = label])/n + α·T·(p^T_c − q^T_c)/n
//
// The T² keeps the soft term's gradient on the scale of the hard one's as T
// changes. Label smoothing applies to the hard term. correct counts the rows
// whose largest student logit is the label. It panics as
// SoftmaxCrossEntropy does.
func DistillCrossEntropy(dlogits, logits, teacher []float32, labels []int32, classes int, temperature, alpha, smoothing float64) (loss float64, correct int) {
	n := len(labels)
	if len(teacher) < n*classes {
		panic(fmt.Sprintf("dnn: DistillCrossEntropy: %d rows of %d classes need %d teacher logits", n, classes, n*classes))
	}
	hard, correct := SoftmaxCrossEntropy(dlogits, logits, labels, classes, smoothing)
	if alpha == 0 {
		return hard, correct
	}
	if dlogits != nil && alpha != 1 {
		for i := range dlogits[:n*classes] {
			dlogits[i] *= float32(1 - alpha)
		}
	}
	invT := 1 / temperature
	g := alpha * temperature / float64(n)
	var soft float64
	for r := range n {
		z, t := logits[r*classes:][:classes], teacher[r*classes:][:classes]
		lz, lt := logSumExp(z, invT), logSumExp(t, invT)
		for c := range classes {
			lp := float64(z[c])*invT - lz
			lq := float64(t[c])*invT - lt
			q := math.Exp(lq)
			soft += q * (lq - lp)
			if dlogits != nil {
				if alpha == 1 {
					dlogits[r*classes+c] = 0
				}
				dlogits[r*classes+c] += float32(g * (math.Exp(lp) - q))
			}
		}
	}
	return (1-alpha)*hard + alpha*temperature*temperature*soft/float64(n), correct
}

// logSumExp is log Σ exp(s·x_i), formed around the largest term.
func logSumExp(x []float32, s float64) float64 {
	m := math.Inf(-1)
	for _, v := range x {
		m = max(m, s*float64(v))
	}
	var sum float64
	for _, v := range x {
		sum += math.Exp(s*float64(v) - m)
	}
	return m + math.Log(sum)
}
