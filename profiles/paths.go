package profiles

import (
	"math"
	"time"
)

// ColdLatency is a model's batch-1 latency when runs are spaced Gap apart,
// as a device that has been idle for Gap between two inferences runs it: the
// core idled or ran other work in between, and the run finds its caches
// holding other data. Back-to-back timing (Model.Latency) hides that cost.
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
	// RequestBytes and ResponseBytes are what one request and its answer
	// put on the connection: HTTP request line or status, headers and
	// body, as counted on the server's side. 0: not measured.
	RequestBytes  int `yaml:"request_bytes,omitempty"`
	ResponseBytes int `yaml:"response_bytes,omitempty"`
	// Cold is the serving latency of requests that come after the server
	// has idled, at ascending gaps; empty when not measured (see
	// ServingOverheadAfter). Not the model's cold curve again: an idle
	// server's handlers, connections and buffers go cold as well, and on
	// the machine the built-in profiles were measured on they cost more
	// than the model's own cold run.
	Cold []ColdLatency `yaml:"cold,omitempty"`
}

// ServingBytes is the HTTP bytes a request over protocol and its answer
// put on the connection, when the serving path was measured with them.
func (m *Model) ServingBytes(protocol string) (request, response int, ok bool) {
	for _, s := range m.Serving {
		if s.Protocol == protocol && s.RequestBytes > 0 {
			return s.RequestBytes, s.ResponseBytes, true
		}
	}
	return 0, 0, false
}

// TCP framing of a message on an Ethernet link: TCP cuts it into segments
// of at most tcpMSS bytes (a 1500-byte MTU less 20 bytes of IPv4 header and
// 32 of TCP header with timestamps), each carried with segmentHeaders bytes
// of Ethernet, IP and TCP headers.
const (
	tcpMSS         = 1448
	segmentHeaders = 14 + 20 + 32
)

// FramedBytes is what a message of n bytes puts on an Ethernet link over
// TCP: n and each segment's headers.
func FramedBytes(n int) int {
	return n + segments(n)*segmentHeaders
}

// AckBytes is what a message of n bytes draws from the other direction:
// TCP acknowledges every second segment, and the last, with a segment of
// headers alone.
func AckBytes(n int) int {
	return (segments(n) + 1) / 2 * segmentHeaders
}

func segments(n int) int {
	if n <= 0 {
		return 0
	}
	return (n + tcpMSS - 1) / tcpMSS
}

// The wire protocols of the Open Inference Protocol a serving path is
// measured for: tensors as JSON numbers, or as raw little-endian bytes
// after the JSON header (the binary tensor data extension).
const (
	ProtocolBinary = "binary"
	ProtocolJSON   = "json"
)

// LatencyAt is the batch-1 latency of a run that comes after the model's
// core has been idle for gap: the back-to-back latency for gaps as short as
// a run, each cold measurement at its own gap, interpolated linearly in the
// logarithm of the gap between them (how much of a core's state other work
// evicts grows with how long it runs, not in proportion to it), and the
// longest gap's latency beyond it. Without cold measurements it is Latency.
func (m *Model) LatencyAt(gap time.Duration) time.Duration {
	return coldAt(m.Latency, m.Cold, gap)
}

// coldAt interpolates a cold curve whose back-to-back latency is warm, as
// LatencyAt describes.
func coldAt(warm time.Duration, cold []ColdLatency, gap time.Duration) time.Duration {
	lo := ColdLatency{Gap: warm, Latency: warm}
	if gap <= lo.Gap {
		return warm
	}
	for _, hi := range cold {
		if hi.Gap <= lo.Gap {
			continue // shorter than a run: no idle time to speak of
		}
		if gap <= hi.Gap {
			f := math.Log(float64(gap)/float64(lo.Gap)) / math.Log(float64(hi.Gap)/float64(lo.Gap))
			return lo.Latency + time.Duration(f*float64(hi.Latency-lo.Latency))
		}
		lo = hi
	}
	return lo.Latency
}

// IdlePenalty is what a run after gap of idle time costs beyond a
// back-to-back one: LatencyAt(gap) − Latency, at least 0.
func (m *Model) IdlePenalty(gap time.Duration) time.Duration {
	return max(m.LatencyAt(gap)-m.Latency, 0)
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

// LatencyAt is the serving latency of a request that finds the server idle
// for gap, by the serving path's cold curve as Model.LatencyAt reads the
// model's; Latency without one.
func (s *Serving) LatencyAt(gap time.Duration) time.Duration {
	return coldAt(s.Latency, s.Cold, gap)
}

// ServingOverheadAfter is ServingOverhead for a request that finds the
// server idle for gap: the serving path's latency after that gap (its cold
// curve, interpolated as LatencyAt interpolates the model's) less the
// model's own run after it (LatencyAt), at least 0. Without a serving cold
// curve it is ServingOverhead, whatever the gap.
func (m *Model) ServingOverheadAfter(protocol string, gap time.Duration) (overhead time.Duration, ok bool) {
	for _, s := range m.Serving {
		if s.Protocol != protocol {
			continue
		}
		if len(s.Cold) == 0 {
			return max(s.Latency-m.Latency, 0), true
		}
		return max(s.LatencyAt(gap)-m.LatencyAt(gap), 0), true
	}
	return 0, false
}

// Stretched is m as a device k times slower than the one measured would
// run it: every latency k times as long; cold gaps, spreads and FLOPs as
// they are.
func (m *Model) Stretched(k float64) Model {
	x := func(d time.Duration) time.Duration { return time.Duration(float64(d)*k + 0.5) }
	s := *m
	s.Latency = x(m.Latency)
	s.Batches = append([]BatchPoint(nil), m.Batches...)
	for i := range s.Batches {
		s.Batches[i].Latency = x(s.Batches[i].Latency)
	}
	s.Layers = append([]Layer(nil), m.Layers...)
	for i := range s.Layers {
		s.Layers[i].Latency = x(s.Layers[i].Latency)
	}
	s.Cold = append([]ColdLatency(nil), m.Cold...)
	for i := range s.Cold {
		s.Cold[i].Latency = x(s.Cold[i].Latency)
	}
	s.Serving = append([]Serving(nil), m.Serving...)
	for i := range s.Serving {
		s.Serving[i].Latency = x(s.Serving[i].Latency)
		s.Serving[i].Cold = append([]ColdLatency(nil), m.Serving[i].Cold...)
		for j := range s.Serving[i].Cold {
			s.Serving[i].Cold[j].Latency = x(s.Serving[i].Cold[j].Latency)
		}
	}
	return s
}
