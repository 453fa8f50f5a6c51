package plan

import (
	"fmt"
	"github.com/tandem-edge/tandem/bundles"

	"github.com/tandem-edge/tandem/scenarios"
)

// Knob is the key that sets a policy kind's operating point, the range it
// is searched over, and which end of the range is the more accurate.
type Knob struct {
	Key    string
	Lo, Hi float64
	// MoreAccurate says which way offloads, and so accuracy and
	// latency, grow: "up" when a larger value offloads more (a threshold
	// on the edge's confidence), "down" when a smaller one does (a score
	// threshold, a price).
	MoreAccurate string
}

// KnobOf is the operating point of a policy kind, if it has one.
func KnobOf(kind string) (Knob, error) {
	switch kind {
	case scenarios.PolicyThreshold:
		return Knob{Key: "policy.threshold", Lo: 0.001, Hi: 1, MoreAccurate: "up"}, nil
	case scenarios.PolicyLearned:
		return Knob{Key: "policy.threshold", Lo: 1e-5, Hi: 1, MoreAccurate: "down"}, nil
	case scenarios.PolicyCostAware:
		return Knob{Key: "policy.lambda", Lo: 1e-6, Hi: 1, MoreAccurate: "down"}, nil
	}
	return Knob{}, fmt.Errorf("plan: policy kind %q has no operating point to tune (threshold, learned and cost-aware have)", kind)
}

// Tuned is a scenario at the operating point Tune found.
type Tuned struct {
	*Result
	Knob     Knob
	Scenario *scenarios.Scenario // the input scenario with Knob.Key set to Result.Value; nil when no value meets the objectives
}

// Tune finds the policy's most accurate operating point at which sc meets
// its objectives: the bisection of Search over the policy's knob, whose
// boundary is the value that offloads the most while the objectives hold.
// It relies on offloading, and so accuracy, growing monotonically with the
// knob, which holds for each knob KnobOf names.
func Tune(sc *scenarios.Scenario, slos []SLO, tolerance float64) (*Tuned, error) {
	return TuneOn(sc, slos, tolerance, nil)
}

// TuneOn is Tune replaying outcomes in place of the bundle's (Config.Outcomes).
func TuneOn(sc *scenarios.Scenario, slos []SLO, tolerance float64, outcomes []bundles.Outcome) (*Tuned, error) {
	k, err := KnobOf(sc.Policy.Kind)
	if err != nil {
		return nil, err
	}
	if sc.Policy.Kind == scenarios.PolicyThreshold && sc.Policy.Feature == scenarios.FeatureEntropy {
		// Entropy is the one confidence feature that offloads above its
		// threshold, and it runs to ln(classes), not 1.
		k = Knob{Key: "policy.threshold", Lo: 1e-4, Hi: 10, MoreAccurate: "down"}
	}
	res, err := Search(Config{Scenario: sc, Key: k.Key, Lo: k.Lo, Hi: k.Hi, SLOs: slos, Tolerance: tolerance, Outcomes: outcomes})
	if err != nil {
		return nil, err
	}
	if res.Direction == "everywhere" && k.MoreAccurate == "down" {
		// Search reports the range's top as the answer when every value
		// meets the objectives; the most accurate end of a knob that
		// offloads more as it falls is its bottom, the first step.
		res.Value, res.At = res.Steps[0].Value, res.Steps[0].Summary
	}
	t := &Tuned{Result: res, Knob: k}
	if res.Value == "" {
		return t, nil
	}
	if t.Scenario, err = scenarios.With(sc, scenarios.Assignment{Key: k.Key, Value: res.Value}); err != nil {
		return nil, err
	}
	return t, nil
}
