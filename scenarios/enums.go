package scenarios

import "github.com/tandem-edge/tandem/agents/offload"

// Offloading policy kinds: the policy core's (agents/offload), which the
// schema names and does not define.
const (
	PolicyEdgeOnly  = offload.KindEdgeOnly
	PolicyCloudOnly = offload.KindCloudOnly
	PolicyRandom    = offload.KindRandom
	PolicyThreshold = offload.KindThreshold
	PolicyLearned   = offload.KindLearned
	PolicyOracle    = offload.KindOracle
	PolicyCostAware = offload.KindCostAware
	PolicySplit     = offload.KindSplit
)

// Features of the edge model's output that a threshold policy reads, as
// offload.ParseFeature reads them.
const (
	FeatureMaxProb = "max_prob" // largest softmax probability, in [0, 1]
	FeatureMargin  = "margin"   // top-1 minus top-2 probability, in [0, 1]
	FeatureEntropy = "entropy"  // softmax entropy in nats, >= 0
)

// Where each device starts replaying the link traces. Devices on their own
// cellular links do not see the same fade at the same instant, so by default
// each starts at its own seeded point in the trace; aligned replays the
// trace in lockstep on every device (a shared bottleneck, or a check).
const (
	PhaseRandom  = "random"
	PhaseAligned = "aligned"
)

// The accepted values of each enumerated key, in the order messages list them.
var (
	Arrivals    = []string{ArrivalPoisson, ArrivalPeriodic, ArrivalMMPP, ArrivalTrace}
	Dists       = []string{DistDeterministic, DistExponential, DistLognormal}
	PolicyKinds = offload.Kinds
	Features    = []string{FeatureMaxProb, FeatureMargin, FeatureEntropy}
	TracePhases = []string{PhaseRandom, PhaseAligned}
)
