package profiles

import (
	"math"
	"time"
)

// ColdLatency is a model's batch-1 latency when runs are spaced Gap apart,
// as a device that infers once per Gap spaces them: the core idles in
// between, and each run finds its caches and branch predictors holding
// other work's data. Back-to-back timing (Model.Latency) hides that cost.
type ColdLatency struct {
	Gap     time.Duration `yaml:"gap"`              // idle time between the end of one run and the start of the next
	Latency time.Duration `yaml:"latency"`          // median
	Spread  float64       `yaml:"spread,omitempty"` // coefficient of variation across runs
	Runs    int           `yaml:"runs"`             // how many timed runs
}

// Serving is what one request to the model costs on the serving path of
// tandem's inference server (tandem hil serve) for one wire protocol: the
// client's round trip over loopback, less the time the server reports the
// request queued, at batch 1, requests sent one after another. It holds the
// model's run plus the protocol's encoding, decoding and HTTP handling,
// which a bare model timing does not.
type Serving struct {
	Protocol string        `yaml:"protocol"` // ProtocolBinary or ProtocolJSON
	Latency  time.Duration `yaml:"latency"`  // median
	Spread   float64       `yaml:"spread,omitempty"`
	Runs     int           `yaml:"runs"`
}

// The wire protocols of the Open Inference Protocol a serving path is
// measured for: tensors as JSON numbers, or as raw little-endian bytes
// after the JSON header (the binary tensor data extension).
const (
	ProtocolBinary = "binary"
	ProtocolJSON   = "json"
)

// LatencyAt is the batch-1 latency of a device that runs the model once per
// gap on average: the back-to-back latency for gaps as short as a run, the
// cold latency from the gap it was measured at on, and in between
// interpolated linearly in the logarithm of the gap, since how much of a
// core's state another workload evicts grows with the time it runs, not in
// proportion to it. The second result says which: "warm", "cold" or
// "between". Without a cold measurement, or for gap 0, it is Latency, warm.
func (m *Model) LatencyAt(gap time.Duration) (time.Duration, string) {
	c := m.Cold
	if c == nil || gap <= m.Latency || c.Gap <= m.Latency {
		return m.Latency, "warm"
	}
	if gap >= c.Gap {
		return c.Latency, "cold"
	}
	f := math.Log(float64(gap)/float64(m.Latency)) / math.Log(float64(c.Gap)/float64(m.Latency))
	return m.Latency + time.Duration(f*float64(c.Latency-m.Latency)), "between"
}

// ServingOverhead is what the serving path over protocol adds to each
// request on top of the model's run: the serving latency less the
// back-to-back batch-1 latency, at least 0. ok is false when the profile has
// no serving path for protocol.
func (m *Model) ServingOverhead(protocol string) (overhead time.Duration, ok bool) {
	for _, s := range m.Serving {
		if s.Protocol == protocol {
			return max(s.Latency-m.Latency, 0), true
		}
	}
	return 0, false
}
