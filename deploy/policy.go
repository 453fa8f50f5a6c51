package deploy

import (
	"math/rand/v2"

	"github.com/tandem-edge/tandem/agents/offload"
	"github.com/tandem-edge/tandem/scenarios"
)

// PolicyFactory builds device's policy, drawing any randomness from src,
// that device's policy stream (PolicyStream).
type PolicyFactory func(device int, src rand.Source) (offload.Policy, error)

// Policies is the factory of every driver's policies for a scenario's
// policy section. learned is the trained offloader of a learned or
// cost-aware policy (nil otherwise), costs what a cost-aware policy prices
// a device's round trip with (nil: nothing); each device gets a policy of
// its own, since a learned one keeps scratch space.
func Policies(p scenarios.Policy, learned *offload.Offloader, costs func(device int) offload.Costs) PolicyFactory {
	if learned != nil && p.Kind == offload.KindLearned && p.Threshold > 0 {
		// The scenario's operating point replaces the one the offloader
		// was trained with (tandem offload tune sets it).
		o := *learned
		o.Threshold = p.Threshold
		learned = &o
	}
	return func(device int, src rand.Source) (offload.Policy, error) {
		opt := offload.Options{Src: src, Offloader: learned}
		if costs != nil {
			opt.Costs = costs(device)
		}
		if learned != nil {
			opt.Learned = offload.NewLearned(learned)
		}
		return offload.New(p.Spec(), opt)
	}
}
