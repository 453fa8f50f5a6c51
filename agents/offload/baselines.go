package offload

import (
	"errors"
	"fmt"
	"math/rand/v2"
)

// Compile-time checks that the baselines are policies.
var (
	_ Policy = EdgeOnly{}
	_ Policy = CloudOnly{}
	_ Policy = (*Random)(nil)
	_ Policy = (*Threshold)(nil)
	_ Policy = Oracle{}
)

// EdgeOnly answers every request with the edge model.
type EdgeOnly struct{}

func (EdgeOnly) Name() string                      { return KindEdgeOnly }
func (EdgeOnly) EdgeFirst() bool                   { return true }
func (EdgeOnly) Decide(*Sample, *Context) Decision { return Edge }

// Split sends every request on to the cloud after the device's part: the
// device runs the heavy model's first layers (what the driver times as its
// edge stage), the cloud the rest, and the answer is the heavy model's.
type Split struct{}

func (Split) Name() string                      { return KindSplit }
func (Split) EdgeFirst() bool                   { return true }
func (Split) Decide(*Sample, *Context) Decision { return Cloud }

// CloudOnly sends every raw input to the cloud at once; the edge model never
// runs.
type CloudOnly struct{}

func (CloudOnly) Name() string                      { return KindCloudOnly }
func (CloudOnly) EdgeFirst() bool                   { return false }
func (CloudOnly) Decide(*Sample, *Context) Decision { return Cloud }

// Random offloads each request with probability P after the edge model ran,
// whatever the edge model said; it is the floor any informed policy must beat
// at the same offload rate.
type Random struct {
	P   float64
	rng *rand.Rand
}

// NewRandom returns a Random policy drawing from src. It fails when p is not a
// probability or src is nil.
func NewRandom(p float64, src rand.Source) (*Random, error) {
	if !(p >= 0 && p <= 1) {
		return nil, fmt.Errorf("offload: random policy: p = %v is not in [0, 1]", p)
	}
	if src == nil {
		return nil, errors.New("offload: random policy needs a random source")
	}
	return &Random{P: p, rng: rand.New(src)}, nil
}

func (r *Random) Name() string    { return KindRandom }
func (r *Random) EdgeFirst() bool { return true }

// Decide draws one uniform number per request.
func (r *Random) Decide(*Sample, *Context) Decision {
	if r.rng.Float64() < r.P {
		return Cloud
	}
	return Edge
}

// Threshold offloads when the edge model is less sure than T by Feature:
//
//	max_prob: offload when maxProb < T
//	margin:   offload when margin  < T
//	entropy:  offload when entropy > T
type Threshold struct {
	Feature Feature
	T       float64
}

// NewThreshold returns a Threshold policy; it fails for an unknown feature or
// a threshold outside the feature's range ([0, 1] for probabilities, ≥ 0 for
// entropy).
func NewThreshold(f Feature, t float64) (*Threshold, error) {
	switch f {
	case MaxProb, Margin:
		if !(t >= 0 && t <= 1) {
			return nil, fmt.Errorf("offload: threshold policy: %v threshold %v is not in [0, 1]", f, t)
		}
	case Entropy:
		if !(t >= 0) {
			return nil, fmt.Errorf("offload: threshold policy: entropy threshold %v is negative", t)
		}
	default:
		return nil, fmt.Errorf("offload: threshold policy: unknown feature %v", f)
	}
	return &Threshold{Feature: f, T: t}, nil
}

func (t *Threshold) Name() string    { return KindThreshold }
func (t *Threshold) EdgeFirst() bool { return true }

func (t *Threshold) Decide(s *Sample, _ *Context) Decision {
	var unsure bool
	switch t.Feature {
	case MaxProb:
		unsure = s.MaxProb < t.T
	case Margin:
		unsure = s.Margin < t.T
	case Entropy:
		unsure = s.Entropy > t.T
	default:
		panic(fmt.Sprintf("offload: threshold on unknown %v", t.Feature))
	}
	if unsure {
		return Cloud
	}
	return Edge
}

// Oracle offloads exactly the requests the edge model gets wrong and the
// cloud model gets right: the best accuracy a cascade can reach at the lowest
// offload rate that reaches it. It reads ground truth, so it is a bound, not a
// deployable policy.
type Oracle struct{}

func (Oracle) Name() string    { return KindOracle }
func (Oracle) EdgeFirst() bool { return true }

func (Oracle) Decide(s *Sample, _ *Context) Decision {
	if !s.EdgeCorrect && s.CloudCorrect {
		return Cloud
	}
	return Edge
}
