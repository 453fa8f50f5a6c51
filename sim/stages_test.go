package sim

import (
	"github.com/tandem-edge/tandem/deploy"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/tandem-edge/tandem/agents/offload"
	"github.com/tandem-edge/tandem/profiles"
	"github.com/tandem-edge/tandem/scenarios"
)

// TestBatching replays a single-server cloud with dynamic batching against a
// direct transcription of the rule: an idle server starts a batch when
// max_batch requests are queued, or max_wait after the oldest queued one
// arrived, whichever is first (at once if that has passed).
func TestBatching(t *testing.T) {
	model := &profiles.Model{Name: "heavy", Latency: 4 * time.Millisecond,
		Batches: []profiles.BatchPoint{{Size: 1, Latency: 4 * time.Millisecond}, {Size: 4, Latency: 10 * time.Millisecond}}}
	tests := []struct {
		name     string
		maxBatch int
		maxWait  time.Duration
		rate     float64
	}{
		{"light load waits", 4, 2 * time.Millisecond, 100},
		{"heavy load fills", 4, 2 * time.Millisecond, 600},
		{"no wait", 4, 0, 300},
		{"long wait", 3, 20 * time.Millisecond, 200},
		{"batch of one", 1, 5 * time.Millisecond, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc := baseScenario()
			sc.Requests = 3000
			sc.Policy.Kind = "cloud-only"
			sc.Workload.Rate = tt.rate
			sc.Cloud = scenarios.CloudPools{{Servers: 1, Batching: &scenarios.Batching{MaxBatch: tt.maxBatch, MaxWait: scenarios.Duration(tt.maxWait)}}}
			var c collect
			run(t, Config{Scenario: sc, Outcomes: testOutcomes(10, 1), CloudModel: model, Uplink: fastLink}, &c)
			recs := c.recs
			slices.SortFunc(recs, func(a, b deploy.Record) int { return int(a.ID) - int(b.ID) })
			arrive := make([]time.Duration, len(recs))
			for i, r := range recs {
				arrive[i] = r.Arrival + r.Uplink
			}
			sizes := map[int]int{}
			free := time.Duration(0)
			for i := 0; i < len(recs); {
				t0 := max(free, arrive[i])
				fill := time.Duration(math.MaxInt64)
				if i+tt.maxBatch-1 < len(recs) {
					fill = arrive[i+tt.maxBatch-1]
				}
				start := max(t0, min(arrive[i]+tt.maxWait, fill))
				b := 0
				for i+b < len(recs) && b < tt.maxBatch && arrive[i+b] <= start {
					b++
				}
				for _, r := range recs[i : i+b] {
					if got := r.Arrival + r.Uplink + r.CloudQueue; got != start || r.Batch != b || r.Cloud != model.BatchLatency(b) {
						t.Fatalf("request %d: batch of %d started at %v taking %v; want %d at %v taking %v",
							r.ID, r.Batch, got, r.Cloud, b, start, model.BatchLatency(b))
					}
				}
				sizes[b]++
				free = start + model.BatchLatency(b)
				i += b
			}
			t.Logf("batch sizes %v", sizes)
		})
	}
}

// recordingLink is a constant link that keeps the start of every transfer.
type recordingLink struct {
	constLink
	starts *[]time.Duration
}

func (l recordingLink) TransferEnd(t time.Duration, n int) time.Duration {
	*l.starts = append(*l.starts, t)
	return l.constLink.TransferEnd(t, n)
}

// TestLinkFIFO sends requests faster than the uplink carries them: they
// cross one at a time, in order, each starting when the one before ends.
func TestLinkFIFO(t *testing.T) {
	const (
		gap      = 50 * time.Millisecond  // periodic, 20/s
		transfer = 100 * time.Millisecond // 12500 bytes at 1 Mbps
		rtt      = 10 * time.Millisecond
	)
	sc := baseScenario()
	sc.Requests = 12
	sc.Policy.Kind = "cloud-only"
	sc.Workload = scenarios.Workload{Arrival: scenarios.ArrivalPeriodic, Rate: 20}
	sc.Link = scenarios.Link{RTT: scenarios.Duration(rtt), RequestBytes: 12500, ResponseBytes: 125}
	sc.Cloud = scenarios.CloudPools{{Servers: 20, Service: fixed(time.Millisecond)}}
	var starts []time.Duration
	var c collect
	run(t, Config{
		Scenario: sc, Outcomes: testOutcomes(10, 1),
		Uplink:   func(int) profiles.Link { return recordingLink{constLink{1}, &starts} },
		Downlink: func(int) profiles.Link { return constLink{1000} },
	}, &c)
	if len(c.recs) != 12 || len(starts) != 12 {
		t.Fatalf("%d records, %d transfers", len(c.recs), len(starts))
	}
	phase := c.recs[0].Arrival
	for k, r := range c.recs {
		if r.ID != uint64(k) {
			t.Fatalf("record %d is request %d: answers overtook each other", k, r.ID)
		}
		if want := phase + time.Duration(k)*transfer; starts[k] != want {
			t.Errorf("transfer %d started at %v, want %v", k, starts[k], want)
		}
		if want := transfer + time.Duration(k)*(transfer-gap) + rtt/2; r.Uplink != want {
			t.Errorf("request %d: uplink %v, want %v", k, r.Uplink, want)
		}
		if want := time.Microsecond + rtt/2; r.Downlink != want {
			t.Errorf("request %d: downlink %v, want %v", k, r.Downlink, want)
		}
	}
}

func TestPolicyRouting(t *testing.T) {
	outcomes := testOutcomes(300, 5)
	bySample := map[int]*offload.Sample{}
	for i := range outcomes {
		o := &outcomes[i]
		bySample[o.Sample] = &offload.Sample{MaxProb: o.MaxProb, Margin: o.Margin, Entropy: o.Entropy, EdgeCorrect: o.EdgeCorrect(), CloudCorrect: o.CloudCorrect()}
	}
	tests := []struct {
		policy scenarios.Policy
		want   func(s *offload.Sample) offload.Decision // nil: any
	}{
		{scenarios.Policy{Kind: "edge-only"}, func(*offload.Sample) offload.Decision { return offload.Edge }},
		{scenarios.Policy{Kind: "cloud-only"}, func(*offload.Sample) offload.Decision { return offload.Cloud }},
		{scenarios.Policy{Kind: "threshold", Feature: "max_prob", Threshold: 0.5}, func(s *offload.Sample) offload.Decision { return pick(s.MaxProb < 0.5) }},
		{scenarios.Policy{Kind: "threshold", Feature: "margin", Threshold: 0.1}, func(s *offload.Sample) offload.Decision { return pick(s.Margin < 0.1) }},
		{scenarios.Policy{Kind: "threshold", Feature: "entropy", Threshold: 0.7}, func(s *offload.Sample) offload.Decision { return pick(s.Entropy > 0.7) }},
		{scenarios.Policy{Kind: "oracle"}, func(s *offload.Sample) offload.Decision { return pick(!s.EdgeCorrect && s.CloudCorrect) }},
		{scenarios.Policy{Kind: "random", P: 0.3}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.policy.Kind+tt.policy.Feature, func(t *testing.T) {
			sc := baseScenario()
			sc.Requests = 5000
			sc.Edge[0].Count = 3
			sc.Policy = tt.policy
			var c collect
			sum := run(t, Config{Scenario: sc, Outcomes: outcomes, Uplink: fastLink}, &c)
			correct, cloud := 0, 0
			for _, r := range c.recs {
				s := bySample[r.Sample]
				if tt.want != nil && r.Decision != tt.want(s) {
					t.Fatalf("request %d (sample %d, %+v): decided %v", r.ID, r.Sample, *s, r.Decision)
				}
				want := s.EdgeCorrect
				if r.Decision == offload.Cloud {
					cloud++
					want = s.CloudCorrect
					if r.Cloud != time.Millisecond || r.Batch != 1 {
						t.Fatalf("request %d went to the cloud but took %v there in a batch of %d", r.ID, r.Cloud, r.Batch)
					}
				} else if r.Uplink != 0 || r.Cloud != 0 || r.Downlink != 0 {
					t.Fatalf("request %d answered at the edge has cloud times %+v", r.ID, r)
				}
				if (r.Edge == 0) != (tt.policy.Kind == "cloud-only") {
					t.Fatalf("request %d: edge time %v under %s", r.ID, r.Edge, tt.policy.Kind)
				}
				if r.Correct != want {
					t.Fatalf("request %d: correct %v, want %v", r.ID, r.Correct, want)
				}
				if r.Correct {
					correct++
				}
			}
			n := float64(len(c.recs))
			if sum.Accuracy != float64(correct)/n || sum.OffloadRate != float64(cloud)/n {
				t.Errorf("summary accuracy %v offload %v; records say %v and %v", sum.Accuracy, sum.OffloadRate, float64(correct)/n, float64(cloud)/n)
			}
			if tt.want == nil && math.Abs(sum.OffloadRate-0.3) > 0.03 {
				t.Errorf("random p = 0.3 offloaded %v", sum.OffloadRate)
			}
		})
	}
}

func pick(cloud bool) offload.Decision {
	if cloud {
		return offload.Cloud
	}
	return offload.Edge
}

// TestDrain ends arrivals by duration and by count with the system loaded:
// every request that arrived is answered, none arrive late.
func TestDrain(t *testing.T) {
	tests := []struct {
		name     string
		requests int
		duration time.Duration
	}{
		{"duration", 0, 2 * time.Second},
		{"requests", 777, 0},
		{"both, requests first", 100, time.Hour},
		{"both, duration first", 1 << 30, time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc := baseScenario()
			sc.Requests, sc.Duration = tt.requests, scenarios.Duration(tt.duration)
			sc.Edge[0].Count = 2
			sc.Workload.Rate = 100
			sc.Edge[0].Service = fixed(9 * time.Millisecond)
			sc.Policy = scenarios.Policy{Kind: "threshold", Feature: "max_prob", Threshold: 0.5}
			sc.Link.RequestBytes = 5000
			sc.Cloud[0].Service = exp(10 * time.Millisecond)
			var c collect
			sum := run(t, Config{Scenario: sc, Outcomes: testOutcomes(100, 2), Uplink: func(int) profiles.Link { return constLink{2} }}, &c)
			if sum.Completed != sum.Requests || int64(len(c.recs)) != sum.Requests {
				t.Fatalf("%d arrived, %d completed, %d recorded", sum.Requests, sum.Completed, len(c.recs))
			}
			if tt.requests > 0 && tt.requests < 1000 && sum.Requests != int64(tt.requests) {
				t.Errorf("%d arrivals, want %d", sum.Requests, tt.requests)
			}
			var last time.Duration
			for _, r := range c.recs {
				if tt.duration > 0 && r.Arrival >= tt.duration {
					t.Fatalf("request %d arrived at %v, after the end at %v", r.ID, r.Arrival, tt.duration)
				}
				last = max(last, r.Arrival+r.Latency)
			}
			if tt.requests == 0 && last <= tt.duration {
				t.Errorf("the last answer at %v came before the end of arrivals; nothing drained", last)
			}
		})
	}
}

// TestTimeout checks that answers later than the scenario's timeout count as
// failed, are recorded so, and leave accuracy and latency to the others.
func TestTimeout(t *testing.T) {
	for _, tc := range []struct {
		timeout time.Duration
		failed  bool
	}{{0, false}, {5 * time.Millisecond, true}, {20 * time.Millisecond, false}} {
		sc := baseScenario()
		sc.Requests = 200
		sc.Workload.Rate = 1 // no queueing: every answer takes the 10 ms of service
		sc.Edge[0].Service = fixed(10 * time.Millisecond)
		sc.Timeout = scenarios.Duration(tc.timeout)
		var c collect
		sum := run(t, Config{Scenario: sc, Outcomes: testOutcomes(50, 1)}, &c)
		wantFailed := int64(0)
		if tc.failed {
			wantFailed = 200
		}
		if sum.Failed != wantFailed || sum.Completed != 200-wantFailed || sum.Requests != 200 {
			t.Errorf("timeout %v: %d completed, %d failed", tc.timeout, sum.Completed, sum.Failed)
		}
		if sum.Failures["timeout"] != wantFailed || len(sum.Failures) != min(int(wantFailed), 1) {
			t.Errorf("timeout %v: failures %v, want %d timeouts", tc.timeout, sum.Failures, wantFailed)
		}
		correct := 0
		for _, r := range c.recs {
			if (r.Status == deploy.StatusFailed) != tc.failed || (r.Failure == deploy.FailureTimeout) != tc.failed {
				t.Fatalf("timeout %v: record %+v", tc.timeout, r)
			}
			if r.Correct && r.Status == deploy.StatusOK {
				correct++
			}
		}
		if got := sum.AccuracyOverRequests; got != float64(correct)/200 {
			t.Errorf("timeout %v: accuracy over requests %v, want %d/200", tc.timeout, got, correct)
		}
		if sum.AccuracyOverCompleted != sum.Accuracy {
			t.Errorf("timeout %v: accuracy over completed %v, accuracy %v", tc.timeout, sum.AccuracyOverCompleted, sum.Accuracy)
		}
	}
}
