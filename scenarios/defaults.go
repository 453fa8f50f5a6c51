package scenarios

import (
	"path/filepath"
	"strings"
)

// Defaults of the keys a scenario may leave out.
const (
	DefaultSeed        = 1
	DefaultArrival     = ArrivalPoisson
	DefaultEdgeCount   = 1
	DefaultConcurrency = 1
	// DefaultResponseBytes is what an answer is charged on the downlink
	// when neither the scenario nor the cloud profile says: a class index
	// and a few scores, with framing.
	DefaultResponseBytes = 64
	DefaultServers       = 1
	DefaultTracePhase    = PhaseRandom
	DefaultProtocol      = "binary"
)

// SetDefaults fills in every key left out (a zero value) that has a
// default; it is the one place defaults are decided. Keys whose zero value
// means something (rtt 0s, request_bytes 0, response_bytes 0, downlink_mbps 0,
// max_wait 0s)
// are left alone. The name defaults to the file's name without extension.
func (s *Scenario) SetDefaults() {
	if s.Name == "" && s.File != "" {
		base := filepath.Base(strings.TrimPrefix(s.File, builtinPrefix))
		s.Name = strings.TrimSuffix(base, filepath.Ext(base))
	}
	if s.Seed == 0 {
		s.Seed = DefaultSeed
	}
	if s.Workload.Arrival == "" {
		s.Workload.Arrival = DefaultArrival
	}
	if s.Edge.Count == 0 {
		s.Edge.Count = DefaultEdgeCount
	}
	if s.Edge.Concurrency == 0 {
		s.Edge.Concurrency = DefaultConcurrency
	}
	if s.Link.TracePhase == "" && s.Link.hasTrace() {
		s.Link.TracePhase = DefaultTracePhase
	}
	if s.Cloud.Servers == 0 {
		s.Cloud.Servers = DefaultServers
	}
	if s.Cloud.Protocol == "" {
		s.Cloud.Protocol = DefaultProtocol
	}
}

// defaulted lists the keys SetDefaults fills in when zero: in a file, an
// explicit zero for them is a mistake rather than a request for the default.
func (s *Scenario) defaulted() []struct {
	path string
	zero bool
} {
	return []struct {
		path string
		zero bool
	}{
		{"seed", s.Seed == 0},
		{"workload.arrival", s.Workload.Arrival == ""},
		{"edge.count", s.Edge.Count == 0},
		{"edge.concurrency", s.Edge.Concurrency == 0},
		{"link.trace_phase", s.Link.TracePhase == ""},
		{"cloud.servers", s.Cloud.Servers == 0},
		{"cloud.protocol", s.Cloud.Protocol == ""},
	}
}
