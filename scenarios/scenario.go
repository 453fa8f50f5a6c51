// Package scenarios owns the scenario file: its schema, strict decoding with
// errors that name file:line:column and key, the defaults (filled in one
// place), validation, and the built-in scenarios embedded in the binary. A
// scenario is the same file for the simulator and for hardware-in-the-loop.
package scenarios

import (
	"fmt"

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

	Bundle   string     `yaml:"bundle"` // builtin:NAME or a path to a bundle folder
	Workload Workload   `yaml:"workload"`
	Edge     EdgeGroups `yaml:"edge,oneormany"`
	Link     Link       `yaml:"link"`
	Cloud    CloudPools `yaml:"cloud,oneormany"`
	Policy   Policy     `yaml:"policy"`

	// File is where the scenario was read from (a path or builtin:NAME);
	// relative paths inside it are relative to its folder (see Path).
	// Empty for a scenario made in code: paths are relative to the working
	// directory.
	File string `yaml:"-"`
	// Profiles, when set, is a folder whose NAME.yaml is read in place of
	// the built-in device profile NAME wherever the scenario names it (a
	// machine's own measurements: tandem validate --profiles); a built-in
	// the folder lacks is read as usual. Set in code, never in the file.
	Profiles string `yaml:"-"`
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

// EdgeGroups is the fleet of edge devices: one group of identical devices
// (written as a mapping, the form every scenario had before fleets could
// mix), or a list of groups, each its own device class, workload rate and
// link. Devices are numbered group after group: the first group's are 0 to
// its count less one, and so on.
type EdgeGroups []Edge

// Edge is one group of identical edge devices.
type Edge struct {
	// Name names the group in summaries; default "group-N" (N from 1) in a
	// fleet of several groups, empty for a single group.
	Name        string   `yaml:"name,omitempty"`
	Count       int      `yaml:"count"`       // devices; default 1
	Device      string   `yaml:"device"`      // built-in profile name or path to a profile YAML
	Concurrency int      `yaml:"concurrency"` // inferences one device runs at once; default 1
	Service     *Service `yaml:"service,omitempty"`
	// Power is what each device draws, in place of its profile's figures
	// (for a board whose profile carries none, or a battery of another
	// size); nil: the profile's, if any.
	Power *profiles.Power `yaml:"power,omitempty"`
	// Rate is each device's mean requests per second in place of
	// workload.rate (poisson, periodic, and mmpp's base state); 0: the
	// workload's.
	Rate float64 `yaml:"rate,omitempty"`
	// Link is the group's link to the cloud in place of the scenario's
	// (request_bytes and response_bytes stay the scenario's: they are the
	// bundle's); nil: the scenario's.
	Link *Link `yaml:"link,omitempty"`
	// Bundle is the application the group's devices run, in place of the
	// scenario's bundle: its edge model on the devices, its heavy model in
	// the cloud pool the groups share, its outcomes, offloader and request
	// size. "": the scenario's.
	Bundle string `yaml:"bundle,omitempty"`
	// Cloud names the cloud pool the group's offloaded requests go to;
	// "": the first.
	Cloud string `yaml:"cloud,omitempty"`
}

// Devices is the number of devices over every group.
func (g EdgeGroups) Devices() int {
	n := 0
	for i := range g {
		n += g[i].Count
	}
	return n
}

// Of returns the group device belongs to and the group's first device.
func (g EdgeGroups) Of(device int) (group, first int) {
	for i := range g {
		if device < first+g[i].Count {
			return i, first
		}
		first += g[i].Count
	}
	return len(g) - 1, first - g[len(g)-1].Count
}

// GroupName is group i's name: its own, else "edge" for a single group
// and "group-N" (N = i+1) in a fleet of several.
func (g EdgeGroups) GroupName(i int) string {
	switch {
	case g[i].Name != "":
		return g[i].Name
	case len(g) == 1:
		return "edge"
	}
	return fmt.Sprintf("group-%d", i+1)
}

// PoolName is pool p's name: its own, else "cloud" for a single pool and
// "pool-N" (N = p+1) in a list of several.
func (c CloudPools) PoolName(p int) string {
	switch {
	case c[p].Name != "":
		return c[p].Name
	case len(c) == 1:
		return "cloud"
	}
	return fmt.Sprintf("pool-%d", p+1)
}

// PoolOf is the index of the cloud pool edge group g's offloaded requests
// go to.
func (s *Scenario) PoolOf(g int) int {
	if n := s.Edge[g].Cloud; n != "" {
		for p := range s.Cloud {
			if s.Cloud.PoolName(p) == n {
				return p
			}
		}
	}
	return 0
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

// CloudPools are the cloud's pools of inference servers: one (written as a
// mapping, every scenario's form before a deployment could use several) or
// a list, each its own servers, device, batching and protocol. Each edge
// group's offloaded requests go to the pool its cloud key names, by
// default the first; a pool's servers are shared by the groups sent to it.
type CloudPools []Cloud

// Cloud is one pool of inference servers, shared by the edge groups sent to
// it.
type Cloud struct {
	// Name names the pool, for the edge groups' cloud keys and in
	// summaries; default "pool-N" (N from 1) in a list of several, empty
	// for a single pool.
	Name     string    `yaml:"name,omitempty"`
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
	Kind      string  `yaml:"kind"`                // edge-only | cloud-only | random | threshold | learned | oracle | cost-aware | split
	P         float64 `yaml:"p,omitempty"`         // random: offload probability
	Feature   string  `yaml:"feature,omitempty"`   // threshold: max_prob | margin | entropy
	Threshold float64 `yaml:"threshold,omitempty"` // threshold: offload when the feature says the edge is less sure than this (max_prob or margin below it, entropy above it); learned: offload at this score, replacing the offloader's own
	Offloader string  `yaml:"offloader,omitempty"` // learned, cost-aware: path to offloader.json; empty: the bundle's
	Lambda    float64 `yaml:"lambda,omitempty"`    // cost-aware: accuracy worth a millisecond of expected round trip
	After     string  `yaml:"after,omitempty"`     // split: the heavy model's node after which the device sends its tensor (tandem split lists them); "": the fastest cut
}

// Spec is the policy as the policy core builds it (offload.New).
func (p Policy) Spec() offload.Spec {
	return offload.Spec{Kind: p.Kind, P: p.P, Feature: p.Feature, Threshold: p.Threshold, Lambda: p.Lambda}
}
