package deploy

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tandem-edge/tandem/agents/offload"
	"github.com/tandem-edge/tandem/profiles"
)

// Modes of a run, as summary.json names them.
const (
	ModeSim = "sim"
	ModeHIL = "hil"
)

// Summary is a run's summary.json: the same schema for the simulator and for
// hardware-in-the-loop.
type Summary struct {
	Scenario      string      `json:"scenario"`
	Mode          string      `json:"mode"` // sim | hil
	Seed          uint64      `json:"seed"`
	Requests      int64       `json:"requests"`  // arrivals
	Completed     int64       `json:"completed"` // answered
	Failed        int64       `json:"failed"`
	Accuracy      float64     `json:"accuracy"`     // correct answers / completed (accuracy_over_completed)
	OffloadRate   float64     `json:"offload_rate"` // answered by the cloud / completed
	LatencyMS     LatencyMS   `json:"latency_ms"`   // of completed requests, arrival to answer
	ThroughputRPS float64     `json:"throughput_rps"`
	Utilization   Utilization `json:"utilization"`
	Events        int64       `json:"events"`       // events the simulator handled
	WallSeconds   float64     `json:"wall_seconds"` // set by the caller, who owns the clock

	// Failures counts the failed requests by reason (Failure.String());
	// the counts sum to Failed.
	Failures map[string]int64 `json:"failures"`
	// AccuracyOverRequests is correct answers over all requests: a request
	// that failed is not a correct one, so a deployment cannot look better
	// by failing the requests it would get wrong.
	AccuracyOverRequests float64 `json:"accuracy_over_requests"`
	// AccuracyOverCompleted is correct answers over completed requests,
	// the same number as Accuracy under a name that says what it divides by.
	AccuracyOverCompleted float64 `json:"accuracy_over_completed"`

	// Service says which measurements the simulator's service times came
	// from; nil for a run on real hardware, which measures them.
	Service *Service `json:"service,omitempty"`

	// Energy is what the edge devices drew over the run, by the power
	// figures of the scenario or the edge profile; nil unless every device
	// has some.
	Energy *Energy `json:"energy,omitempty"`

	// Groups break the run down by edge group, in the scenario's order;
	// absent for a fleet of one group.
	Groups []GroupSummary `json:"groups,omitempty"`

	// Clouds break the cloud down by pool, in the scenario's order;
	// absent for a cloud of one pool.
	Clouds []PoolSummary `json:"clouds,omitempty"`

	// Cut is where a split deployment (policy.kind split) cut the heavy
	// model; absent for every other policy.
	Cut *Cut `json:"cut,omitempty"`
}

// Cut is a split deployment's cut: after which node of the heavy model the
// device sends its tensor, that tensor's size, and who chose the node:
// "scenario" (its policy.after) or "fastest" (the cut the profiles' per-layer
// times and the link say is fastest for an unqueued request, policy.after
// left out).
type Cut struct {
	After       string `json:"after"`
	TensorBytes int    `json:"tensor_bytes"`
	Chosen      string `json:"chosen"`
}

// Who chose a Cut.
const (
	CutByScenario = "scenario"
	CutFastest    = "fastest"
)

// LatencyMS is a latency distribution in milliseconds. Percentiles are
// nearest-rank: the smallest latency at or above which lies the given share
// of all latencies.
type LatencyMS struct {
	Mean float64 `json:"mean"`
	P50  float64 `json:"p50"`
	P95  float64 `json:"p95"`
	P99  float64 `json:"p99"`
	Max  float64 `json:"max"`
}

// Utilization is each stage's busy share of the run: busy time over
// (slots × makespan), averaged over devices for the edge and the uplink.
type Utilization struct {
	Edge   float64 `json:"edge"`
	Uplink float64 `json:"uplink"`
	Cloud  float64 `json:"cloud"`
}

// Status is how a request ended.
type Status uint8

// Statuses.
const (
	StatusOK     Status = iota // answered
	StatusFailed               // not answered (an error or a timeout in HIL)
)

func (s Status) String() string {
	switch s {
	case StatusOK:
		return "ok"
	case StatusFailed:
		return "failed"
	}
	return fmt.Sprintf("Status(%d)", uint8(s))
}

// Failure is why a request failed. The HTTP statuses a cloud answers with
// are failures of their own (FailureHTTP), so that a summary tells an
// overloaded server (503) from a broken one (500).
type Failure uint16

// Failures.
const (
	FailureNone       Failure = iota // the request did not fail
	FailureTimeout                   // no answer within the scenario's timeout
	FailureRefused                   // the cloud refused the connection
	FailureConnection                // the connection to the cloud broke before the answer
	FailureBadAnswer                 // the cloud answered what is not the model's output
	FailureError                     // any other error on the way to the cloud and back

	failureHTTP Failure = 1000 // + the HTTP status code
)

// FailureHTTP is the failure of a cloud that answered HTTP status code
// (other than 200).
func FailureHTTP(code int) Failure {
	if code < 100 || code > 599 {
		return FailureBadAnswer
	}
	return failureHTTP + Failure(code)
}

// HTTPStatus is the status code of an HTTP failure, or 0.
func (f Failure) HTTPStatus() int {
	if f > failureHTTP {
		return int(f - failureHTTP)
	}
	return 0
}

// String is the failure's name in requests.csv's failure column and in
// summary.json's failures: timeout, refused, connection, bad_answer,
// error, http_503 and the like; "" for FailureNone.
func (f Failure) String() string {
	switch f {
	case FailureNone:
		return ""
	case FailureTimeout:
		return "timeout"
	case FailureRefused:
		return "refused"
	case FailureConnection:
		return "connection"
	case FailureBadAnswer:
		return "bad_answer"
	case FailureError:
		return "error"
	}
	if c := f.HTTPStatus(); c > 0 {
		return "http_" + strconv.Itoa(c)
	}
	return fmt.Sprintf("Failure(%d)", uint16(f))
}

// Record is one request's row of requests.csv. Stage times are zero for the
// stages a request did not cross.
type Record struct {
	ID         uint64
	Device     int
	Sample     int // the outcome's sample index in the bundle's held-out set
	Arrival    time.Duration
	Decision   offload.Decision
	EdgeQueue  time.Duration // waiting for an edge slot
	Edge       time.Duration // edge model
	Uplink     time.Duration // joining the uplink to reaching the cloud
	CloudQueue time.Duration // reaching the cloud to its batch starting
	Cloud      time.Duration // the batch on a cloud server
	Downlink   time.Duration // the answer's way back
	Latency    time.Duration // arrival to answer
	Batch      int           // size of the cloud batch; 0 when the edge answered
	Correct    bool
	Status     Status
	Failure    Failure // why, when Status is StatusFailed
}

// Late reports whether an answer after latency missed the client's timeout
// (none when timeout is 0): the one rule the simulator and
// hardware-in-the-loop both apply.
func Late(latency, timeout time.Duration) bool { return timeout > 0 && latency > timeout }

// Recorder receives each request's record as the request ends. The record
// is reused after Record returns.
type Recorder interface {
	Record(r *Record) error
}

// Collector accumulates records into a summary's request counts, accuracy,
// offload rate and latency distribution, in memory bounded whatever the
// number of records (see Quantiles).
type Collector struct {
	completed, failed, correct, offloaded int64
	failures                              map[Failure]int64
	latency                               Quantiles
}

// NewCollector returns an empty collector.
func NewCollector() *Collector {
	return &Collector{latency: Quantiles{Exact: ExactLatencies}, failures: map[Failure]int64{}}
}

// Add counts one record. Cost O(1) amortised.
func (c *Collector) Add(r *Record) {
	if r.Status != StatusOK {
		c.AddFailure(r.Failure)
		return
	}
	c.AddAnswer(r.Latency, r.Correct, r.Decision == offload.Cloud)
}

// AddFailure counts one failed request, for a driver that keeps no
// record; a failure without a reason counts as FailureError, so that the
// reasons always sum to the failures.
func (c *Collector) AddFailure(why Failure) {
	if why == FailureNone {
		why = FailureError
	}
	c.failed++
	c.failures[why]++
}

// AddAnswer counts one answered request, for a driver that keeps no
// record.
func (c *Collector) AddAnswer(latency time.Duration, correct, cloud bool) {
	c.completed++
	if correct {
		c.correct++
	}
	if cloud {
		c.offloaded++
	}
	c.latency.Add(latency)
}

// Fill sets the summary's Completed, Failed, Failures, the accuracies,
// OffloadRate and LatencyMS. The accuracy over requests divides by
// s.Requests, which the caller sets first (by the requests that ended when
// it is smaller). Cost O(n) in the number of latencies held exactly.
func (c *Collector) Fill(s *Summary) {
	s.Completed, s.Failed = c.completed, c.failed
	s.Failures = make(map[string]int64, len(c.failures))
	for f, n := range c.failures {
		s.Failures[f.String()] = n
	}
	if all := max(s.Requests, c.completed+c.failed); all > 0 {
		s.AccuracyOverRequests = float64(c.correct) / float64(all)
	}
	if c.completed == 0 {
		return
	}
	n := float64(c.completed)
	s.Accuracy = float64(c.correct) / n
	s.AccuracyOverCompleted = s.Accuracy
	s.OffloadRate = float64(c.offloaded) / n
	q := c.latency.Quantiles(0.50, 0.95, 0.99)
	s.LatencyMS = LatencyMS{
		Mean: c.latency.Mean() / 1e6,
		P50:  ms(q[0]),
		P95:  ms(q[1]),
		P99:  ms(q[2]),
		Max:  ms(c.latency.Max()),
	}
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }

// Busy is how long each stage of a run worked, which its utilization and
// the devices' energy are made of.
type Busy struct {
	Edge     []time.Duration // per device, over its slots
	Slots    []int           // per device: its edge slots
	Uplink   []time.Duration // per device; nil without a cloud
	Downlink []time.Duration // per device; nil without a cloud
	Cloud    time.Duration   // over the cloud's servers, every pool's
	Servers  int             // the cloud's, over its pools; 0 without a cloud
	// Pools are each cloud pool's, for a cloud of several; nil for one.
	Pools []PoolBusy
	// Power is what each device draws; nil, or a nil entry for any
	// device: the summary reports no energy.
	Power []*profiles.Power
}

// Fill sets the summary's ThroughputRPS and Utilization over a run whose
// last request ended at lastDone: each stage's busy time over (slots ×
// makespan), averaged over devices for the edge and the uplink. It sets
// nothing when no request ended after time 0; s.Completed is set first.
func (b *Busy) Fill(s *Summary, lastDone time.Duration) {
	span := lastDone.Seconds()
	if span <= 0 {
		return
	}
	s.ThroughputRPS = float64(s.Completed) / span
	s.Utilization.Edge, s.Utilization.Uplink = b.devices(0, len(b.Edge), span)
	if b.Servers > 0 {
		s.Utilization.Cloud = b.Cloud.Seconds() / (float64(b.Servers) * span)
	}
	for _, p := range b.Pools {
		ps := PoolSummary{Name: p.Name, Servers: p.Servers}
		if p.Servers > 0 {
			ps.Utilization = p.Busy.Seconds() / (float64(p.Servers) * span)
		}
		s.Clouds = append(s.Clouds, ps)
	}
	s.Energy = b.energy(0, len(b.Edge), span, max(s.Requests, s.Completed+s.Failed))
}

// PoolBusy is one cloud pool's busy time over its servers.
type PoolBusy struct {
	Name    string
	Busy    time.Duration
	Servers int
}

// PoolSummary is one cloud pool's part of a run: its servers and how busy
// they were (busy time over servers × makespan, as the summary's cloud
// utilization is over every pool's).
type PoolSummary struct {
	Name        string  `json:"name"`
	Servers     int     `json:"servers"`
	Utilization float64 `json:"utilization"`
}

// devices is the mean edge and uplink utilisation of devices lo to hi-1.
func (b *Busy) devices(lo, hi int, span float64) (edge, up float64) {
	for i := lo; i < hi; i++ {
		edge += b.Edge[i].Seconds() / (float64(max(b.Slots[i], 1)) * span)
		if b.Uplink != nil {
			up += b.Uplink[i].Seconds() / span
		}
	}
	if n := float64(hi - lo); n > 0 {
		return edge / n, up / n
	}
	return 0, 0
}

// FailuresByReason lists the summary's failures by reason, most first,
// ties by name: "http_503 12, timeout 3".
func (s *Summary) FailuresByReason() string {
	failures := s.Failures
	names := slices.Collect(maps.Keys(failures))
	slices.SortFunc(names, func(a, b string) int {
		if c := cmp.Compare(failures[b], failures[a]); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = fmt.Sprintf("%s %d", n, failures[n])
	}
	return strings.Join(parts, ", ")
}
