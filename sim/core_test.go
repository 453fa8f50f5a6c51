package sim

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tandem-edge/tandem/agents/offload"
	"github.com/tandem-edge/tandem/profiles"
	"github.com/tandem-edge/tandem/scenarios"
)

func TestHeapOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	var h eventHeap
	var want []event
	var seq uint64
	add := func() {
		e := event{at: time.Duration(rng.IntN(50)), seq: seq, id: int32(seq)}
		seq++
		h.push(e)
		want = append(want, e)
	}
	for range 200 {
		add()
	}
	var got []event
	for h.len() > 0 {
		got = append(got, h.top())
		// Replace the top now and then, as the engine does.
		if rng.IntN(3) == 0 && len(got) < 500 {
			e := event{at: h.top().at + time.Duration(rng.IntN(20)), seq: seq, id: int32(seq)}
			seq++
			want = append(want, e)
			h.replaceTop(e)
		} else {
			h.pop()
		}
	}
	slices.SortStableFunc(want, func(a, b event) int { return int(a.at - b.at) })
	if len(got) != len(want) {
		t.Fatalf("%d events out, %d in", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("event %d: %+v, want %+v (same-time events must keep insertion order)", i, got[i], want[i])
		}
	}
}

func TestRing(t *testing.T) {
	var r ring
	next, out := int32(0), int32(0)
	for round := range 50 {
		for range round % 13 {
			r.push(next)
			next++
		}
		for range round % 7 {
			if r.len() == 0 {
				break
			}
			if r.front() != out || r.pop() != out {
				t.Fatalf("ring out of order at %d", out)
			}
			out++
		}
	}
	if r.len() != int(next-out) {
		t.Fatalf("len %d, want %d", r.len(), next-out)
	}
}

func TestEnumStrings(t *testing.T) {
	for k := EventArrival; k <= EventDownlinkDone; k++ {
		if s := k.String(); strings.HasPrefix(s, "EventKind(") {
			t.Errorf("%d has no name", k)
		}
	}
	for s := StateFree; s < numStates; s++ {
		if strings.HasPrefix(s.String(), "State(") {
			t.Errorf("state %d has no name", s)
		}
	}
	if EventKind(99).String() != "EventKind(99)" || State(99).String() != "State(99)" || Status(9).String() != "Status(9)" {
		t.Error("unknown values are not named by number")
	}
}

func TestIllegalTransitionPanics(t *testing.T) {
	s := &Sim{}
	r := &request{id: 7, state: StateEdgeQueued}
	defer func() {
		msg, _ := recover().(string)
		if !strings.Contains(msg, "request 7: edge-queued → cloud-running") {
			t.Fatalf("panic %q does not name the transition", msg)
		}
	}()
	s.setState(r, StateCloudRunning)
}

func TestLegalTransitions(t *testing.T) {
	paths := [][]State{
		{StateFree, StateEdgeQueued, StateEdgeRunning, StateDone, StateFree},
		{StateFree, StateEdgeQueued, StateEdgeRunning, StateUplink, StateCloudQueued, StateCloudRunning, StateDownlink, StateDone, StateFree},
		{StateFree, StateUplink, StateCloudQueued, StateCloudRunning, StateDownlink, StateDone, StateFree},
	}
	for _, p := range paths {
		for i := 1; i < len(p); i++ {
			if !legal(p[i-1], p[i]) {
				t.Errorf("%v → %v is illegal", p[i-1], p[i])
			}
		}
	}
	if legal(StateDone, StateUplink) || legal(StateFree, StateDone) || legal(StateCloudQueued, StateDone) {
		t.Error("a shortcut is legal")
	}
}

func TestQuantilesExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	for _, n := range []int{1, 2, 3, 10, 100, 1001, 50000} {
		q := Quantiles{Exact: n}
		vals := make([]time.Duration, n)
		for i := range vals {
			vals[i] = time.Duration(rng.IntN(1000)) // many ties
			q.Add(vals[i])
		}
		slices.Sort(vals)
		ps := []float64{0.5, 0.99, 0.01, 1, 0.95, 0.5}
		got := q.Quantiles(ps...)
		for i, p := range ps {
			k := int(float64(n)*p + 0.999999999) // ⌈p·n⌉
			k = min(max(k, 1), n)
			if got[i] != vals[k-1] {
				t.Errorf("n=%d p=%v: %v, want %v", n, p, got[i], vals[k-1])
			}
		}
		if q.Sketched() || q.Max() != vals[n-1] {
			t.Errorf("n=%d: sketched %v, max %v", n, q.Sketched(), q.Max())
		}
	}
}

func TestQuantilesSketch(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	const n = 200000
	q := Quantiles{Exact: 1000}
	vals := make([]time.Duration, n)
	var sum float64
	for i := range vals {
		vals[i] = time.Duration(rng.ExpFloat64() * 5e6) // latencies of a few ms
		if i%1000 == 0 {
			vals[i] = 0
		}
		q.Add(vals[i])
		sum += float64(vals[i])
	}
	if !q.Sketched() || q.vals != nil {
		t.Fatal("the sketch did not take over, or the exact values were kept")
	}
	slices.Sort(vals)
	ps := []float64{0.0005, 0.001, 0.5, 0.9, 0.95, 0.99, 0.999, 1}
	for i, got := range q.Quantiles(ps...) {
		want := vals[min(max(int(float64(n)*ps[i]+0.999999999), 1), n)-1]
		if d := float64(got - want); d > SketchRelativeError*float64(want) || -d > SketchRelativeError*float64(want) {
			t.Errorf("p=%v: %v, want %v within %.1f%%", ps[i], got, want, 100*SketchRelativeError)
		}
	}
	if q.Mean() != sum/n || q.Max() != vals[n-1] || q.Len() != n {
		t.Errorf("mean %v max %v len %d, want %v %v %d", q.Mean(), q.Max(), q.Len(), sum/n, vals[n-1], n)
	}
}

func TestSketchBuckets(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	prev := 0
	for v := uint64(1); v < 1<<62; v += 1 + v/uint64(1+rng.IntN(3000)) {
		i := bucket(v)
		if i < prev {
			t.Fatalf("bucket(%d) = %d, below the bucket %d of a smaller value", v, i, prev)
		}
		prev = i
		if mid := float64(bucketMid(i)); mid-float64(v) > SketchRelativeError*float64(v) || float64(v)-mid > SketchRelativeError*float64(v) {
			t.Fatalf("bucket %d of %d stands for %v: beyond %v", i, v, mid, SketchRelativeError)
		}
	}
	if i := bucket(1<<63 - 1); i >= 28160 {
		t.Errorf("the largest duration needs bucket %d", i)
	}
}

func TestQuantilesEmpty(t *testing.T) {
	var q Quantiles
	if got := q.Quantiles(0.5); got[0] != 0 || q.Mean() != 0 || q.Max() != 0 {
		t.Errorf("empty: %v %v %v", got, q.Mean(), q.Max())
	}
}

func TestCSV(t *testing.T) {
	var b bytes.Buffer
	c := NewCSVRecorder(&b)
	recs := []Record{
		{ID: 0, Device: 3, Sample: 41, Arrival: 1500 * time.Microsecond, Decision: offload.Edge,
			EdgeQueue: 7, Edge: 2 * time.Millisecond, Latency: 2*time.Millisecond + 7, Correct: true},
		{ID: 1, Device: 0, Sample: 9, Arrival: 12345678901, Decision: offload.Cloud, Edge: 999,
			Uplink: 3 * time.Millisecond, CloudQueue: 1, Cloud: 10 * time.Millisecond, Downlink: 5 * time.Millisecond,
			Latency: 18*time.Millisecond + 1000, Batch: 4},
		{ID: 2, Device: 1, Sample: 5, Arrival: time.Millisecond, Decision: offload.Cloud, Uplink: time.Millisecond,
			Latency: 2 * time.Millisecond, Status: StatusFailed, Failure: FailureHTTP(503)},
	}
	for i := range recs {
		if err := c.Record(&recs[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
	want := CSVHeader + "\n" +
		"0,3,41,1.500000,edge,2.000000,0.000000,0.000000,0.000000,2.000007,true,ok,0.000007,0.000000,0,\n" +
		"1,0,9,12345.678901,cloud,0.000999,3.000000,0.000001,10.000000,18.001000,false,ok,0.000000,5.000000,4,\n" +
		"2,1,5,1.000000,cloud,0.000000,1.000000,0.000000,0.000000,2.000000,false,failed,0.000000,0.000000,0,http_503\n"
	if b.String() != want {
		t.Errorf("CSV:\n%s\nwant:\n%s", b.String(), want)
	}
	if !strings.HasPrefix(CSVHeader, "id,device,sample,arrival_ms,decision,edge_ms,uplink_ms,cloud_queue_ms,cloud_ms,latency_ms,correct,status") {
		t.Error("the contract's columns do not come first")
	}
}

func TestCSVEmptyRunHasHeader(t *testing.T) {
	var b bytes.Buffer
	if err := NewCSVRecorder(&b).Flush(); err != nil || b.String() != CSVHeader+"\n" {
		t.Errorf("empty CSV %q, %v", b.String(), err)
	}
}

// TestSummaryJSON pins summary.json's keys to the contract.
func TestSummaryJSON(t *testing.T) {
	js, err := json.Marshal(&Summary{})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"scenario":"","mode":"","seed":0,"requests":0,"completed":0,"failed":0,"accuracy":0,"offload_rate":0,` +
		`"latency_ms":{"mean":0,"p50":0,"p95":0,"p99":0,"max":0},"throughput_rps":0,` +
		`"utilization":{"edge":0,"uplink":0,"cloud":0},"events":0,"wall_seconds":0,` +
		`"failures":null,"accuracy_over_requests":0,"accuracy_over_completed":0}`
	if string(js) != want {
		t.Errorf("summary JSON\n%s\nwant\n%s", js, want)
	}
}

func TestFailureString(t *testing.T) {
	for _, tc := range []struct {
		f    Failure
		want string
		code int
	}{
		{FailureNone, "", 0},
		{FailureTimeout, "timeout", 0},
		{FailureRefused, "refused", 0},
		{FailureConnection, "connection", 0},
		{FailureBadAnswer, "bad_answer", 0},
		{FailureError, "error", 0},
		{FailureHTTP(503), "http_503", 503},
		{FailureHTTP(401), "http_401", 401},
		{FailureHTTP(42), "bad_answer", 0}, // not an HTTP status
		{Failure(77), "Failure(77)", 0},
	} {
		if got := tc.f.String(); got != tc.want || tc.f.HTTPStatus() != tc.code {
			t.Errorf("%d: %q, code %d; want %q, %d", uint16(tc.f), got, tc.f.HTTPStatus(), tc.want, tc.code)
		}
	}
}

// TestCollectorFailures checks that failures are counted by reason, that
// one without a reason is counted as an error, and how the two accuracies
// divide.
func TestCollectorFailures(t *testing.T) {
	c := NewCollector()
	recs := []Record{
		{Correct: true}, {Correct: true}, {Correct: false},
		{Status: StatusFailed, Failure: FailureHTTP(503)},
		{Status: StatusFailed, Failure: FailureHTTP(503)},
		{Status: StatusFailed, Failure: FailureTimeout, Correct: true}, // late: not correct whatever it said
		{Status: StatusFailed},
	}
	for i := range recs {
		c.Add(&recs[i])
	}
	s := &Summary{Requests: 8} // one still in flight when the run stopped
	c.Fill(s)
	want := map[string]int64{"http_503": 2, "timeout": 1, "error": 1}
	if s.Completed != 3 || s.Failed != 4 || len(s.Failures) != len(want) {
		t.Fatalf("summary %+v", s)
	}
	for k, n := range want {
		if s.Failures[k] != n {
			t.Errorf("failures %v, want %v", s.Failures, want)
		}
	}
	if s.AccuracyOverRequests != 2.0/8 || s.AccuracyOverCompleted != 2.0/3 || s.Accuracy != s.AccuracyOverCompleted {
		t.Errorf("accuracy %v over requests, %v over completed (%v)", s.AccuracyOverRequests, s.AccuracyOverCompleted, s.Accuracy)
	}
}

type failingRecorder struct{ after int }

func (f *failingRecorder) Record(*Record) error {
	if f.after--; f.after < 0 {
		return errors.New("disk full")
	}
	return nil
}

func TestRecorderErrorStopsRun(t *testing.T) {
	s, err := New(Config{Scenario: baseScenario(), Outcomes: testOutcomes(5, 1)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Run(&failingRecorder{after: 10}); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("Run: %v", err)
	}
	if _, err := s.Run(nil); err == nil {
		t.Fatal("second Run accepted")
	}
}

func TestNewRejects(t *testing.T) {
	edit := func(f func(sc *scenarios.Scenario, cfg *Config)) Config {
		cfg := Config{Scenario: baseScenario(), Outcomes: testOutcomes(5, 1), Uplink: fastLink}
		f(cfg.Scenario, &cfg)
		return cfg
	}
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no scenario", Config{Outcomes: testOutcomes(1, 1)}, "no scenario"},
		{"no outcomes", edit(func(sc *scenarios.Scenario, c *Config) { c.Outcomes = nil }), "no outcomes"},
		{"no end", edit(func(sc *scenarios.Scenario, c *Config) { sc.Requests = 0 }), "requests 0"},
		{"no devices", edit(func(sc *scenarios.Scenario, c *Config) { sc.Edge.Count = 0 }), "edge count"},
		{"bad concurrency", edit(func(sc *scenarios.Scenario, c *Config) { sc.Edge.Concurrency = -1 }), "concurrency"},
		{"bad arrival", edit(func(sc *scenarios.Scenario, c *Config) { sc.Workload.Arrival = "bursty" }), "unknown arrival"},
		{"zero rate", edit(func(sc *scenarios.Scenario, c *Config) { sc.Workload.Rate = 0 }), "rate"},
		{"mmpp means", edit(func(sc *scenarios.Scenario, c *Config) { sc.Workload.Arrival = "mmpp" }), "normal_mean"},
		{"trace missing", edit(func(sc *scenarios.Scenario, c *Config) { sc.Workload.Arrival = "trace" }), "trace workload"},
		{"bad policy", edit(func(sc *scenarios.Scenario, c *Config) { sc.Policy.Kind = "coin" }), "device 0 policy"},
		{"learned", edit(func(sc *scenarios.Scenario, c *Config) { sc.Policy.Kind = "learned" }), "offloader"},
		{"bad dist", edit(func(sc *scenarios.Scenario, c *Config) { sc.Edge.Service.Dist = "gamma" }), "edge service"},
		{"no edge model", edit(func(sc *scenarios.Scenario, c *Config) { sc.Edge.Service = nil }), "no model profile"},
		{"no uplink", edit(func(sc *scenarios.Scenario, c *Config) { sc.Policy.Kind = "cloud-only"; c.Uplink = nil }), "no uplink"},
		{"no request size", edit(func(sc *scenarios.Scenario, c *Config) { sc.Policy.Kind = "cloud-only"; sc.Link.RequestBytes = 0 }), "request_bytes"},
		{"no servers", edit(func(sc *scenarios.Scenario, c *Config) { sc.Policy.Kind = "cloud-only"; sc.Cloud.Servers = 0 }), "cloud servers"},
		{"bad batching", edit(func(sc *scenarios.Scenario, c *Config) {
			sc.Policy.Kind = "cloud-only"
			sc.Cloud.Batching = &scenarios.Batching{MaxBatch: 0}
		}), "max_batch"},
		{"no cloud model", edit(func(sc *scenarios.Scenario, c *Config) { sc.Policy.Kind = "oracle"; sc.Cloud.Service = nil }), "cloud service"},
		{"model without latency", edit(func(sc *scenarios.Scenario, c *Config) {
			sc.Edge.Service = nil
			c.EdgeModel = &profiles.Model{Name: "empty"}
		}), "no latency"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "sim: ") {
				t.Fatalf("New: %v, want a sim: error about %q", err, tt.want)
			}
		})
	}
}

// TestEdgeOnlyNeedsNoCloud: an edge-only scenario runs with no links and
// no cloud model.
func TestEdgeOnlyNeedsNoCloud(t *testing.T) {
	sc := baseScenario()
	sc.Cloud = scenarios.Cloud{}
	sum := run(t, Config{Scenario: sc, Outcomes: testOutcomes(5, 1)}, nil)
	if sum.Completed != 1000 || sum.OffloadRate != 0 || sum.Utilization.Cloud != 0 {
		t.Errorf("%+v", sum)
	}
}

// TestPolicyFactory: a custom factory (as for a learned policy) is used,
// and a policy that offloads in an edge-only scenario is an error, not a
// hang.
func TestPolicyFactory(t *testing.T) {
	sc := baseScenario()
	sc.Policy.Kind = "learned"
	var devices []int
	sum := run(t, Config{Scenario: sc, Outcomes: testOutcomes(5, 1), Uplink: fastLink,
		NewPolicy: func(d int, _ rand.Source) (offload.Policy, error) {
			devices = append(devices, d)
			return offload.CloudOnly{}, nil
		}}, nil)
	if sum.OffloadRate != 1 || len(devices) != 1 {
		t.Errorf("offload rate %v from devices %v", sum.OffloadRate, devices)
	}

	sc = baseScenario()
	s, err := New(Config{Scenario: sc, Outcomes: testOutcomes(5, 1),
		NewPolicy: func(int, rand.Source) (offload.Policy, error) {
			return &offload.Threshold{Feature: offload.MaxProb, T: 2}, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Run(nil); err == nil || !strings.Contains(err.Error(), "edge-only") {
		t.Fatalf("Run: %v", err)
	}
}

// TestMemoryBounded: with no recorder, a run's memory does not grow with
// its request count once the exact latencies are full.
func TestMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("runs 4.5M requests")
	}
	alloc := func(n int) uint64 {
		sc := baseScenario()
		sc.Requests = n
		sc.Edge.Count = 10
		s, err := New(Config{Scenario: sc, Outcomes: testOutcomes(10, 1)})
		if err != nil {
			t.Fatal(err)
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		if _, err := s.Run(nil); err != nil {
			t.Fatal(err)
		}
		runtime.ReadMemStats(&after)
		return after.TotalAlloc - before.TotalAlloc
	}
	small, large := alloc(1_500_000), alloc(3_000_000)
	if large > small+1<<20 {
		t.Errorf("%d requests allocated %d bytes, %d requests %d bytes", 1_500_000, small, 3_000_000, large)
	}
	t.Logf("allocated %.1f MiB for 1.5M requests, %.1f MiB for 3M", float64(small)/(1<<20), float64(large)/(1<<20))
}
