package scenarios

// Offloading policy kinds.
const (
	PolicyEdgeOnly  = "edge-only"
	PolicyCloudOnly = "cloud-only"
	PolicyRandom    = "random"
	PolicyThreshold = "threshold"
	PolicyLearned   = "learned"
	PolicyOracle    = "oracle"
)

// Features of the edge model's output that a threshold policy reads.
const (
	FeatureMaxProb = "max_prob" // largest softmax probability, in [0, 1]
	FeatureMargin  = "margin"   // top-1 minus top-2 probability, in [0, 1]
	FeatureEntropy = "entropy"  // softmax entropy in nats, >= 0
)

// The accepted values of each enumerated key, in the order messages list them.
var (
	Arrivals    = []string{ArrivalPoisson, ArrivalPeriodic, ArrivalMMPP, ArrivalTrace}
	Dists       = []string{DistDeterministic, DistExponential, DistLognormal}
	PolicyKinds = []string{PolicyEdgeOnly, PolicyCloudOnly, PolicyRandom, PolicyThreshold, PolicyLearned, PolicyOracle}
	Features    = []string{FeatureMaxProb, FeatureMargin, FeatureEntropy}
)
