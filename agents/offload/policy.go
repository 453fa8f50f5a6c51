// Package offload owns the per-request offloading decision: the Policy
// interface shared by the simulator and hardware-in-the-loop, the baseline
// policies (edge-only, cloud-only, random, threshold, oracle), the learned
// supervised offloader with its threshold rule and the calibration of that
// rule on samples it was not set on, the cost-aware policy that weighs it
// against the system's state, and the features it computes from edge-model
// logits.
package offload

import "time"

// Decision is where a request is answered.
type Decision uint8

// Decisions.
const (
	Edge Decision = iota + 1
	Cloud
)

func (d Decision) String() string {
	switch d {
	case Edge:
		return "edge"
	case Cloud:
		return "cloud"
	}
	return "Decision(?)"
}

// Sample is what a policy may know of one request once the edge model has run.
type Sample struct {
	Logits  []float32 // edge model's raw logits
	MaxProb float64   // largest softmax probability
	Margin  float64   // top-1 minus top-2 probability
	Entropy float64   // softmax entropy in nats
	// Embedding is the edge model's features before its classifier (the
	// pooled activations it decides from, dnn.Graph.Features), when the
	// caller has them: an offloader trained with TrainConfig.Embedding
	// reads them. nil otherwise.
	Embedding []float32

	// Ground truth, read by the oracle policy alone.
	EdgeCorrect, CloudCorrect bool
}

// Context is the state of the system that both the simulator and a real edge
// device can supply when the decision is made.
type Context struct {
	UplinkMbps float64 // current link estimate
	EdgeQueue  int     // requests waiting at this device
	CloudQueue int     // requests waiting at the cloud, as last reported
	// UplinkBacklog is how long the device's uplink stays busy with the
	// transfers already queued on it.
	UplinkBacklog time.Duration
}

// Policy decides where each request is answered. Implementations keep any
// randomness they need in a source injected at construction, so a run is a
// function of its seed.
type Policy interface {
	Name() string
	// EdgeFirst reports whether the edge model runs before Decide (a
	// cascade). When false, every request goes to the cloud with its raw
	// input at once and Decide is not called.
	EdgeFirst() bool
	Decide(s *Sample, ctx *Context) Decision
}
