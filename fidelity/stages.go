// Package fidelity owns the comparison of a simulated run and real runs of
// one scenario: how far the simulator's prediction is from what happened,
// figure by figure and stage by stage, and the tables that say so. It does
// no I/O beyond what a caller hands it: records arrive through Stages (a
// deploy.Recorder), summaries as values, and reports leave as bytes.
package fidelity

import (
	"time"

	"github.com/tandem-edge/tandem/agents/offload"
	"github.com/tandem-edge/tandem/deploy"
)

var _ deploy.Recorder = (*Stages)(nil)

// Stages accumulates a run's per-stage times as its requests end: a
// deploy.Recorder that keeps sums and counts, so its memory is constant
// whatever the number of records and recording allocates nothing. Failed
// requests are not counted. The zero value is ready to use; it is not safe
// for concurrent use (a driver's recorder is called from one goroutine at a
// time).
type Stages struct {
	completed, offloaded int64
	// Over every completed request.
	edgeQueue, edge time.Duration
	// Over the completed requests the cloud answered.
	uplink, cloudQueue, cloud, downlink, latency time.Duration
}

// Record counts one record. Cost O(1).
func (s *Stages) Record(r *deploy.Record) error {
	if r.Status != deploy.StatusOK {
		return nil
	}
	s.completed++
	s.edgeQueue += r.EdgeQueue
	s.edge += r.Edge
	if r.Decision == offload.Cloud {
		s.offloaded++
		s.uplink += r.Uplink
		s.cloudQueue += r.CloudQueue
		s.cloud += r.Cloud
		s.downlink += r.Downlink
		s.latency += r.Latency
	}
	return nil
}

// StageMeans are a run's mean stage times in milliseconds: the edge's over
// every completed request, the others over the completed requests the
// cloud answered (0 when there were none).
type StageMeans struct {
	Completed          int64   `json:"completed"`
	Offloaded          int64   `json:"offloaded"`
	EdgeQueueMS        float64 `json:"edge_queue_ms"`
	EdgeMS             float64 `json:"edge_ms"`
	UplinkMS           float64 `json:"uplink_ms"`
	CloudQueueMS       float64 `json:"cloud_queue_ms"`
	CloudMS            float64 `json:"cloud_ms"`
	DownlinkMS         float64 `json:"downlink_ms"`
	OffloadedLatencyMS float64 `json:"offloaded_latency_ms"` // arrival to answer
}

// Means returns the mean of each stage so far.
func (s *Stages) Means() StageMeans {
	m := StageMeans{Completed: s.completed, Offloaded: s.offloaded}
	if s.completed > 0 {
		m.EdgeQueueMS = meanMS(s.edgeQueue, s.completed)
		m.EdgeMS = meanMS(s.edge, s.completed)
	}
	if s.offloaded > 0 {
		m.UplinkMS = meanMS(s.uplink, s.offloaded)
		m.CloudQueueMS = meanMS(s.cloudQueue, s.offloaded)
		m.CloudMS = meanMS(s.cloud, s.offloaded)
		m.DownlinkMS = meanMS(s.downlink, s.offloaded)
		m.OffloadedLatencyMS = meanMS(s.latency, s.offloaded)
	}
	return m
}

func meanMS(sum time.Duration, n int64) float64 { return float64(sum) / 1e6 / float64(n) }

// stageFigures are the stage rows of a table, in pipeline order.
var stageFigures = []struct {
	name string
	of   func(*StageMeans) float64
}{
	{"edge_queue_ms", func(m *StageMeans) float64 { return m.EdgeQueueMS }},
	{"edge_ms", func(m *StageMeans) float64 { return m.EdgeMS }},
	{"uplink_ms", func(m *StageMeans) float64 { return m.UplinkMS }},
	{"cloud_queue_ms", func(m *StageMeans) float64 { return m.CloudQueueMS }},
	{"cloud_ms", func(m *StageMeans) float64 { return m.CloudMS }},
	{"downlink_ms", func(m *StageMeans) float64 { return m.DownlinkMS }},
	{"offloaded_latency_ms", func(m *StageMeans) float64 { return m.OffloadedLatencyMS }},
}
