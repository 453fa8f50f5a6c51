package deploy

import (
	"time"

	"github.com/tandem-edge/tandem/scenarios"
)

// GroupSummary is one edge group's part of a run, in summary.json's
// groups: its requests' counts, accuracies, offload rate and latency, its
// devices' utilisation of their edge slots and uplinks, and their energy.
// The fields mean what the summary's own do, over the group's requests and
// devices.
type GroupSummary struct {
	Name                  string    `json:"name"`
	Devices               int       `json:"devices"`
	Requests              int64     `json:"requests"`
	Completed             int64     `json:"completed"`
	Failed                int64     `json:"failed"`
	Accuracy              float64   `json:"accuracy"`
	AccuracyOverRequests  float64   `json:"accuracy_over_requests"`
	AccuracyOverCompleted float64   `json:"accuracy_over_completed"`
	OffloadRate           float64   `json:"offload_rate"`
	LatencyMS             LatencyMS `json:"latency_ms"`
	Utilization           struct {
		Edge   float64 `json:"edge"`
		Uplink float64 `json:"uplink"`
	} `json:"utilization"`
	Failures map[string]int64 `json:"failures"`
	Energy   *Energy          `json:"energy,omitempty"`
}

// Groups accumulates each edge group's figures of a fleet of several
// groups. Its methods do nothing on a nil *Groups, the fleet of one group,
// so that a driver calls them unconditionally at the cost of a nil check.
type Groups struct {
	names    []string
	first    []int   // each group's first device, and the fleet's size last
	of       []int32 // device → group
	cols     []*Collector
	requests []int64
}

// NewGroups returns the accumulator of sc's edge groups, nil for one
// group.
func NewGroups(sc *scenarios.Scenario) *Groups {
	if len(sc.Edge) < 2 {
		return nil
	}
	g := &Groups{of: make([]int32, 0, sc.Edge.Devices())}
	for i := range sc.Edge {
		g.names = append(g.names, sc.Edge.GroupName(i))
		g.first = append(g.first, len(g.of))
		for range sc.Edge[i].Count {
			g.of = append(g.of, int32(i))
		}
		g.cols = append(g.cols, NewCollector())
	}
	g.first = append(g.first, len(g.of))
	g.requests = make([]int64, len(sc.Edge))
	return g
}

// Arrived counts a request arriving at device.
func (g *Groups) Arrived(device int) {
	if g != nil {
		g.requests[g.of[device]]++
	}
}

// Add counts a request's record.
func (g *Groups) Add(r *Record) {
	if g != nil {
		g.cols[g.of[r.Device]].Add(r)
	}
}

// AddFailure counts a failed request of device.
func (g *Groups) AddFailure(device int, why Failure) {
	if g != nil {
		g.cols[g.of[device]].AddFailure(why)
	}
}

// AddAnswer counts an answered request of device.
func (g *Groups) AddAnswer(device int, latency time.Duration, correct, cloud bool) {
	if g != nil {
		g.cols[g.of[device]].AddAnswer(latency, correct, cloud)
	}
}

// Fill sets s.Groups from the counts and from b, the run's busy times, over
// a run whose last request ended at lastDone. A driver whose requests are
// known before the run (hil) may leave Arrived uncounted: a group's
// requests are then those that ended.
func (g *Groups) Fill(s *Summary, b *Busy, lastDone time.Duration) {
	if g == nil {
		return
	}
	span := lastDone.Seconds()
	s.Groups = make([]GroupSummary, len(g.names))
	for i := range s.Groups {
		gs := &s.Groups[i]
		gs.Name, gs.Devices = g.names[i], g.first[i+1]-g.first[i]
		part := Summary{Requests: g.requests[i]}
		g.cols[i].Fill(&part)
		gs.Requests = max(part.Requests, part.Completed+part.Failed)
		gs.Completed, gs.Failed, gs.Failures = part.Completed, part.Failed, part.Failures
		gs.Accuracy, gs.AccuracyOverRequests, gs.AccuracyOverCompleted = part.Accuracy, part.AccuracyOverRequests, part.AccuracyOverCompleted
		gs.OffloadRate, gs.LatencyMS = part.OffloadRate, part.LatencyMS
		if span > 0 {
			gs.Utilization.Edge, gs.Utilization.Uplink = b.devices(g.first[i], g.first[i+1], span)
			gs.Energy = b.energy(g.first[i], g.first[i+1], span, gs.Requests)
		}
	}
}
