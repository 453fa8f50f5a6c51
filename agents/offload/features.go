package offload

import (
	"fmt"
	"math"
)

// Feature names one measure of how sure the edge model is of its answer.
type Feature uint8

// Features a threshold policy can compare.
const (
	MaxProb Feature = iota + 1 // largest softmax probability; low means unsure
	Margin                     // top-1 minus top-2 probability; low means unsure
	Entropy                    // softmax entropy in nats; high means unsure
)

func (f Feature) String() string {
	switch f {
	case MaxProb:
		return "max_prob"
	case Margin:
		return "margin"
	case Entropy:
		return "entropy"
	}
	return fmt.Sprintf("Feature(%d)", uint8(f))
}

// ParseFeature returns the feature a scenario names (max_prob, margin or
// entropy).
func ParseFeature(s string) (Feature, error) {
	for _, f := range []Feature{MaxProb, Margin, Entropy} {
		if f.String() == s {
			return f, nil
		}
	}
	return 0, fmt.Errorf("offload: unknown feature %q (want max_prob, margin or entropy)", s)
}

// Value returns feature f of a sample.
func (f Feature) Value(s *Sample) float64 {
	switch f {
	case MaxProb:
		return s.MaxProb
	case Margin:
		return s.Margin
	case Entropy:
		return s.Entropy
	}
	panic(fmt.Sprintf("offload: value of unknown %v", f))
}

// Features computes the edge model's confidence features from its logits l
// through a softmax shifted by the largest logit m, so that no exponential
// overflows:
//
//	z_i     = exp(l_i - m)            (z_i ≤ 1, the top one is 1)
//	S       = Σ_i z_i
//	p_i     = z_i / S
//	maxProb = p_top1 = 1 / S
//	margin  = p_top1 - p_top2 = (1 - z_top2) / S      (1 with one class)
//	entropy = -Σ_i p_i ln p_i = ln S - Σ_i p_i (l_i - m)   (nats)
//
// The last form needs no logarithm of a probability that may underflow to 0.
// Features panics when logits is empty.
func Features(logits []float32) (maxProb, margin, entropy float64) {
	if len(logits) == 0 {
		panic("offload: Features of no logits")
	}
	top := 0
	for i, l := range logits {
		if l > logits[top] {
			top = i
		}
	}
	m := float64(logits[top])
	var sum, weighted, second float64
	for i, l := range logits {
		d := float64(l) - m
		z := math.Exp(d)
		sum += z
		weighted += float64(z * d) // rounded apart: no fused multiply-add on any architecture
		if i != top && z > second {
			second = z
		}
	}
	maxProb = 1 / sum
	margin = (1 - second) / sum
	entropy = math.Log(sum) - weighted/sum
	if entropy < 0 { // rounding when one class takes all the mass
		entropy = 0
	}
	return maxProb, margin, entropy
}

// NewSample returns the sample a policy sees for an edge model's logits, with
// its features computed by Features and the ground truth the oracle reads.
func NewSample(logits []float32, edgeCorrect, cloudCorrect bool) Sample {
	s := Sample{Logits: logits, EdgeCorrect: edgeCorrect, CloudCorrect: cloudCorrect}
	s.MaxProb, s.Margin, s.Entropy = Features(logits)
	return s
}
