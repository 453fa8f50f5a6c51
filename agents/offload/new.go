package offload

import (
	"errors"
	"fmt"
	"math/rand/v2"
)

// Policy kinds, as a scenario's policy.kind names them.
const (
	KindEdgeOnly  = "edge-only"
	KindCloudOnly = "cloud-only"
	KindRandom    = "random"
	KindThreshold = "threshold"
	KindLearned   = "learned"
	KindOracle    = "oracle"
	// KindSplit runs the heavy model's first layers on the device and the
	// rest in the cloud (a split point): every request goes on after its
	// device's part, and the cloud's answer stands.
	KindSplit = "split"
)

// Kinds lists the policy kinds, in the order messages list them.
var Kinds = []string{KindEdgeOnly, KindCloudOnly, KindRandom, KindThreshold, KindLearned, KindOracle, KindCostAware, KindSplit}

// Spec describes a policy by its kind and the parameters the kind reads,
// as a scenario's policy section gives them.
type Spec struct {
	Kind      string
	P         float64 // random: the offload probability
	Feature   string  // threshold: max_prob, margin or entropy (see ParseFeature)
	Threshold float64 // threshold: offload when the feature is on the unsure side of it
	Lambda    float64 // cost-aware: accuracy worth a millisecond of round trip
}

// ErrNoOffloader is returned by New for a learned policy when no trained
// offloader is supplied.
var ErrNoOffloader = errors.New("offload: policy kind \"learned\" needs a trained offloader, and none was supplied")

// Options supply what New cannot read from a scenario's policy section. The
// zero value suits every kind but random and learned.
type Options struct {
	// Src is the random source of a random policy: one stream per device,
	// seeded from the scenario, so that a run is a function of its seed.
	Src rand.Source
	// Learned is the trained offloader a learned policy uses as it is.
	Learned Policy
	// Offloader and Costs are what a cost-aware policy scores samples by
	// and prices their round trip with.
	Offloader *Offloader
	Costs     Costs
}

// New builds the policy p describes.
func New(p Spec, opt Options) (Policy, error) {
	switch p.Kind {
	case KindEdgeOnly:
		return EdgeOnly{}, nil
	case KindCloudOnly:
		return CloudOnly{}, nil
	case KindRandom:
		return NewRandom(p.P, opt.Src)
	case KindThreshold:
		f, err := ParseFeature(p.Feature)
		if err != nil {
			return nil, fmt.Errorf("offload: threshold policy: %w", err)
		}
		return NewThreshold(f, p.Threshold)
	case KindOracle:
		return Oracle{}, nil
	case KindLearned:
		if opt.Learned == nil {
			return nil, ErrNoOffloader
		}
		return opt.Learned, nil
	case KindCostAware:
		return NewCostAware(opt.Offloader, p.Lambda, opt.Costs)
	case KindSplit:
		return Split{}, nil
	}
	return nil, fmt.Errorf("offload: unknown policy kind %q (want edge-only, cloud-only, random, threshold, learned, oracle, cost-aware or split)", p.Kind)
}
