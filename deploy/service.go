package deploy

import (
	"time"

	"github.com/tandem-edge/tandem/profiles"
	"github.com/tandem-edge/tandem/scenarios"
)

// Service says which of a device profile's measurements each stage's
// service time comes from; summary.json records it as "service", so that a
// prediction says what it assumed.
type Service struct {
	// Edge is "override" (the scenario's edge.service), or how warm the
	// edge model runs at the device's mean gap between requests
	// (profiles.Model.LatencyAt): "warm", "cold" or "between".
	Edge      string  `json:"edge"`
	EdgeMS    float64 `json:"edge_ms"`     // batch-1 base time of the edge model
	MeanGapMS float64 `json:"mean_gap_ms"` // between one device's requests

	// Cloud is "override" (the scenario's cloud.service), "serving" (the
	// model plus its serving path's overhead over Protocol) or "model"
	// (the bare model: the profile has no serving path for Protocol).
	Cloud           string  `json:"cloud"`
	Protocol        string  `json:"protocol"`
	CloudOverheadMS float64 `json:"cloud_overhead_ms"` // added to every cloud request
}

// EdgeBase is the batch-1 service time of the edge model on a device whose
// requests come meanGap apart, its run-to-run spread, and which
// measurement it is (see Service.Edge).
func EdgeBase(m *profiles.Model, meanGap time.Duration) (base time.Duration, spread float64, source string) {
	base, source = m.LatencyAt(meanGap)
	spread = m.Spread
	if source != "warm" && m.Cold.Spread > 0 {
		spread = m.Cold.Spread
	}
	return base, spread, source
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
// cloud models' profiles (either nil when its stage has an override or no
// request reaches it), one device's requests coming meanGap apart.
func ServiceOf(sc *scenarios.Scenario, edge, cloud *profiles.Model, meanGap time.Duration) *Service {
	s := &Service{Edge: "override", Cloud: "override", Protocol: sc.Cloud.Protocol, MeanGapMS: ms(meanGap)}
	switch {
	case sc.Edge.Service != nil:
		s.EdgeMS = ms(sc.Edge.Service.Mean.D())
	case edge != nil:
		base, _, src := EdgeBase(edge, meanGap)
		s.Edge, s.EdgeMS = src, ms(base)
	default:
		s.Edge = "none"
	}
	switch {
	case sc.Cloud.Service != nil:
	case cloud != nil:
		d, src := CloudOverhead(cloud, sc.Cloud.Protocol)
		s.Cloud, s.CloudOverheadMS = src, ms(d)
	default:
		s.Cloud = "none"
	}
	return s
}
