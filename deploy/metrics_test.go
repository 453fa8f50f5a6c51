package deploy

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tandem-edge/tandem/agents/offload"
)

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
	if Status(9).String() != "Status(9)" {
		t.Errorf("Status(9) = %q, want it named by number", Status(9).String())
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
