package deploy

import (
	"time"

	"github.com/tandem-edge/tandem/profiles"
	"github.com/tandem-edge/tandem/scenarios"
)

// Service says which of the device profiles' measurements the simulator
// charged each stage; summary.json records it as "service", so that a
// prediction says what it assumed.
type Service struct {
	// Edge is "override" (the scenario's edge.service), "profile" (the
	// edge model's profile) or "none" (no request ran it). EdgeMS is its
	// back-to-back batch-1 time, or the override's mean.
	Edge   string  `json:"edge"`
	EdgeMS float64 `json:"edge_ms"`
	// EdgeIdleMS is the mean extra time an edge run was charged for how
	// long its device had been idle before it (profiles.Model.IdlePenalty);
	// 0 when the profile has no cold measurements.
	EdgeIdleMS float64 `json:"edge_idle_ms"`

	// Cloud is "override" (the scenario's cloud.service), "serving" (the
	// model plus its serving path's overhead over Protocol), "model" (the
	// bare model: the profile has no serving path for Protocol) or "none".
	Cloud           string  `json:"cloud"`
	Protocol        string  `json:"protocol"`
	CloudOverheadMS float64 `json:"cloud_overhead_ms"` // added to every cloud request
	// CloudOverheadIdleMS is the mean extra overhead a batch's requests
	// were charged for how long their server had idled, by the serving
	// path's cold curve; absent when the profile has none.
	CloudOverheadIdleMS float64 `json:"cloud_overhead_idle_ms,omitempty"`
	// CloudIdleMS is the mean extra time a batch was charged for how long
	// its server had been idle before it.
	CloudIdleMS float64 `json:"cloud_idle_ms"`

	// RequestBytes and ResponseBytes are what each offloaded request and
	// its answer were charged on the links, and LinkBytes where the
	// figures came from (scenarios.LinkBytesScenario, ...Serving,
	// ...Tensor); all absent when no request reaches the cloud.
	RequestBytes  int    `json:"request_bytes,omitempty"`
	ResponseBytes int    `json:"response_bytes,omitempty"`
	LinkBytes     string `json:"link_bytes,omitempty"`
}

// CloudOverhead is what the serving path over protocol adds to each cloud
// request on top of the heavy model's run, and which measurement it is
// (see Service.Cloud).
func CloudOverhead(m *profiles.Model, protocol string) (time.Duration, string) {
	if d, ok := m.ServingOverhead(protocol); ok {
		return d, "serving"
	}
	return 0, "model"
}

// ServiceOf describes the service times sc's stages take from the edge and
// cloud models' profiles (either nil when no request reaches its stage);
// the idle penalties, which only a run knows, are left 0. The edge's is the
// first edge group's and the cloud's its pool's; summary.json's groups say
// each group's.
func ServiceOf(sc *scenarios.Scenario, edge, cloud *profiles.Model) *Service {
	pool := &scenarios.Cloud{}
	if len(sc.Cloud) > 0 {
		pool = &sc.Cloud[sc.PoolOf(0)]
	}
	s := &Service{Edge: "none", Cloud: "none", Protocol: pool.Protocol}
	switch {
	case edge == nil:
	case sc.Edge[0].Service != nil:
		s.Edge, s.EdgeMS = "override", ms(sc.Edge[0].Service.Mean.D())
	default:
		s.Edge, s.EdgeMS = "profile", ms(edge.Latency)
	}
	switch {
	case cloud == nil:
	case pool.Service != nil:
		s.Cloud = "override"
	default:
		d, src := CloudOverhead(cloud, pool.Protocol)
		s.Cloud, s.CloudOverheadMS = src, ms(d)
	}
	return s
}
