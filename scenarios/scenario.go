// Package scenarios owns the scenario file: its schema, strict decoding with
// errors that name file:line:column and key, the defaults (filled in one
// place), validation, and the built-in scenarios embedded in the binary. A
// scenario is the same file for the simulator and for hardware-in-the-loop.
package scenarios

import (
	"github.com/tandem-edge/tandem/agents/offload"
	"github.com/tandem-edge/tandem/profiles"
)

// Scenario describes one deployment to predict or measure: a fleet of edge
// devices running the bundle's edge model, a link per device, a pool of cloud
// servers running the heavy model, a workload, and the offloading policy.
type Scenario struct {
	Name        string `yaml:"name"`                  // default: the file's name without its extension
	Description string `yaml:"description,omitempty"` // what the scenario models, for people
	Seed        uint64 `yaml:"seed"`                  // default 1; every random stream of a run derives from it
	// The run ends after Requests arrivals (over the whole fleet) or after
	// Duration of simulated time, whichever is set; then it drains.
	Requests int      `yaml:"requests,omitempty"`
	Duration Duration `yaml:"duration,omitempty"`
	// Timeout, when set, is how long a client waits for an answer: a
	// request answered later counts as failed (it still used the stages
	// it crossed). Zero: clients wait for ever.
	Timeout Duration `yaml:"timeout,omitempty"`

	Bundle   string   `yaml:"bundle"` // builtin:NAME or a path to a bundle folder
	Workload Workload `yaml:"workload"`
	Edge     Edge     `yaml:"edge"`
	Link     Link     `yaml:"link"`
	Cloud    Cloud    `yaml:"cloud"`
	Policy   Policy   `yaml:"policy"`

	// File is where the scenario was read from (a path or builtin:NAME);
	// relative paths inside it are relative to its folder (see Path).
	// Empty for a scenario made in code: paths are relative to the working
	// directory.
	File string `yaml:"-"`
}

// Arrival processes of a workload.
const (
	ArrivalPoisson  = "poisson"
	ArrivalPeriodic = "periodic"
	ArrivalMMPP     = "mmpp"
	ArrivalTrace    = "trace"
)

// Workload is the per-device arrival process.
type Workload struct {
	Arrival string  `yaml:"arrival"`        // poisson | periodic | mmpp | trace; default poisson
	Rate    float64 `yaml:"rate,omitempty"` // mean requests per second per device (poisson, periodic)

	// MMPP: a two-state Markov-modulated Poisson process. The device
	// alternates between a base state (Rate) and a burst state (BurstRate);
	// sojourn times in each state are exponential with the given means.
	BurstRate  float64  `yaml:"burst_rate,omitempty"`
	BurstMean  Duration `yaml:"burst_mean,omitempty"`  // mean time in the burst state
	NormalMean Duration `yaml:"normal_mean,omitempty"` // mean time in the base state

	// Trace: a file of arrival offsets, one per line ("12.5ms", or a bare
	// number of milliseconds), replayed by every device with a per-device
	// random phase; it loops at its end.
	Trace string `yaml:"trace,omitempty"`
}

// Service overrides a stage's profile-derived service time with a
// distribution; it is how the simulator is checked against queueing theory.
type Service struct {
	Dist string   `yaml:"dist"`         // deterministic | exponential | lognormal
	Mean Duration `yaml:"mean"`         // mean service time, > 0
	CV   float64  `yaml:"cv,omitempty"` // coefficient of variation, > 0 (lognormal only)
}

// Service distributions.
const (
	DistDeterministic = "deterministic"
	DistExponential   = "exponential"
	DistLognormal     = "lognormal"
)

// Edge is the fleet of edge devices.
type Edge struct {
	Count       int      `yaml:"count"`       // devices; default 1
	Device      string   `yaml:"device"`      // built-in profile name or path to a profile YAML
	Concurrency int      `yaml:"concurrency"` // inferences one device runs at once; default 1
	Service     *Service `yaml:"service,omitempty"`
	// Power is what each device draws, in place of its profile's figures
	// (for a board whose profile carries none, or a battery of another
	// size); nil: the profile's, if any.
	Power *profiles.Power `yaml:"power,omitempty"`
}

// Link is each device's own link to the cloud.
type Link struct {
	UplinkMbps    float64  `yaml:"uplink_mbps,omitempty"`    // constant uplink rate; exactly one of uplink_mbps and trace
	Trace         string   `yaml:"trace,omitempty"`          // uplink capacity trace: built-in name or path (mahimahi or seconds,mbps CSV)
	DownlinkMbps  float64  `yaml:"downlink_mbps,omitempty"`  // constant downlink rate; 0: as the uplink (its rate or its trace)
	DownlinkTrace string   `yaml:"downlink_trace,omitempty"` // downlink capacity trace, recorded alongside the uplink's; not with downlink_mbps
	TracePhase    string   `yaml:"trace_phase,omitempty"`    // where each device starts in the traces: random (default) or aligned
	RTT           Duration `yaml:"rtt"`                      // required (0s for none); half is added each way
	RequestBytes  int      `yaml:"request_bytes,omitempty"`  // a request's bytes on the uplink; 0: measured (Inputs.RequestBytes)
	ResponseBytes int      `yaml:"response_bytes,omitempty"` // an answer's on the downlink; 0: measured
}

// Cloud is the shared pool of inference servers.
type Cloud struct {
	Servers  int       `yaml:"servers"` // default 1
	Device   string    `yaml:"device"`  // built-in profile name or path to a profile YAML
	Batching *Batching `yaml:"batching,omitempty"`
	Service  *Service  `yaml:"service,omitempty"`
	// Protocol is how requests reach the cloud's inference server: tensors
	// as raw bytes (binary, the Open Inference Protocol's binary tensor
	// data extension) or as JSON numbers (json). hil run speaks it; the
	// simulator charges its profiled serving cost. Default binary.
	Protocol string `yaml:"protocol,omitempty"`
}

// Protocols a scenario's cloud may be reached by.
var Protocols = []string{profiles.ProtocolBinary, profiles.ProtocolJSON}

// Batching is dynamic batching at the cloud: a free server takes up to
// MaxBatch queued requests, waiting at most MaxWait for the batch to fill.
type Batching struct {
	MaxBatch int      `yaml:"max_batch"` // required, >= 1
	MaxWait  Duration `yaml:"max_wait"`  // default 0: take what is queued, wait for nothing
}

// Policy chooses, per request, where it is answered.
type Policy struct {
	Kind      string  `yaml:"kind"`                // edge-only | cloud-only | random | threshold | learned | oracle | cost-aware
	P         float64 `yaml:"p,omitempty"`         // random: offload probability
	Feature   string  `yaml:"feature,omitempty"`   // threshold: max_prob | margin | entropy
	Threshold float64 `yaml:"threshold,omitempty"` // threshold: offload when the feature says the edge is less sure than this (max_prob or margin below it, entropy above it); learned: offload at this score, replacing the offloader's own
	Offloader string  `yaml:"offloader,omitempty"` // learned, cost-aware: path to offloader.json; empty: the bundle's
	Lambda    float64 `yaml:"lambda,omitempty"`    // cost-aware: accuracy worth a millisecond of expected round trip
}

// Spec is the policy as the policy core builds it (offload.New).
func (p Policy) Spec() offload.Spec {
	return offload.Spec{Kind: p.Kind, P: p.P, Feature: p.Feature, Threshold: p.Threshold, Lambda: p.Lambda}
}
