package scenarios

import (
	"fmt"
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
	if len(s.Edge) == 0 {
		s.Edge = EdgeGroups{{}}
	}
	for i := range s.Edge {
		e := &s.Edge[i]
		if e.Count == 0 {
			e.Count = DefaultEdgeCount
		}
		if e.Concurrency == 0 {
			e.Concurrency = DefaultConcurrency
		}
		if e.Name == "" && len(s.Edge) > 1 {
			e.Name = s.Edge.GroupName(i)
		}
		if l := e.Link; l != nil && l.TracePhase == "" && l.hasTrace() {
			l.TracePhase = DefaultTracePhase
		}
	}
	if s.Link.TracePhase == "" && s.Link.hasTrace() {
		s.Link.TracePhase = DefaultTracePhase
	}
	if len(s.Cloud) == 0 {
		s.Cloud = CloudPools{{}}
	}
	for p := range s.Cloud {
		c := &s.Cloud[p]
		if c.Servers == 0 {
			c.Servers = DefaultServers
		}
		if c.Protocol == "" {
			c.Protocol = DefaultProtocol
		}
		if c.Name == "" && len(s.Cloud) > 1 {
			c.Name = s.Cloud.PoolName(p)
		}
	}
}

// defaulted lists the keys SetDefaults fills in when zero: in a file, an
// explicit zero for them is a mistake rather than a request for the default.
func (s *Scenario) defaulted() []struct {
	path string
	zero bool
} {
	keys := []struct {
		path string
		zero bool
	}{
		{"seed", s.Seed == 0},
		{"workload.arrival", s.Workload.Arrival == ""},
		{"link.trace_phase", s.Link.TracePhase == ""},
	}
	for p := range s.Cloud {
		c, path := &s.Cloud[p], s.CloudPath(p)
		keys = append(keys, []struct {
			path string
			zero bool
		}{{path + ".servers", c.Servers == 0}, {path + ".protocol", c.Protocol == ""}}...)
	}
	for i := range s.Edge {
		e, p := &s.Edge[i], s.EdgePath(i)
		keys = append(keys, []struct {
			path string
			zero bool
		}{{p + ".count", e.Count == 0}, {p + ".concurrency", e.Concurrency == 0}}...)
		if e.Link != nil {
			keys = append(keys, struct {
				path string
				zero bool
			}{p + ".link.trace_phase", e.Link.TracePhase == ""})
		}
	}
	return keys
}

// EdgePath is the key path of edge group i: "edge" for a fleet of one
// group (written as a mapping), "edge[i]" otherwise.
// CloudPath is cloud pool p's key path: "cloud" for a single pool,
// "cloud[p]" in a list of several.
func (s *Scenario) CloudPath(p int) string {
	if len(s.Cloud) <= 1 {
		return "cloud"
	}
	return fmt.Sprintf("cloud[%d]", p)
}

func (s *Scenario) EdgePath(i int) string {
	if len(s.Edge) == 1 {
		return "edge"
	}
	return fmt.Sprintf("edge[%d]", i)
}
