package oip

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// gateModel is sumModel whose runs wait for the gate to open, telling
// started as each begins.
type gateModel struct {
	sumModel
	gate    chan struct{}
	started chan int
}

func newGateModel() *gateModel {
	return &gateModel{gate: make(chan struct{}), started: make(chan int, 100)}
}

func (m *gateModel) Run(dst, x []float32, n int) error {
	m.started <- n
	<-m.gate
	return m.sumModel.Run(dst, x, n)
}

// busy sends one request and waits until the model is running it, so that
// the requests after it queue. It returns the request's answer channel.
func busy(t *testing.T, s *Server, m *gateModel) chan int {
	t.Helper()
	codes := make(chan int, 1)
	go func() {
		code, _ := call(t, s, "POST", "/v2/models/sum/infer", oneSample)
		codes <- code
	}()
	select {
	case <-m.started:
	case <-time.After(5 * time.Second):
		t.Fatal("the model never started")
	}
	return codes
}

// post sends oneSample with ctx and returns the status, the Retry-After
// header and the body.
func post(s *Server, ctx context.Context, body string) (int, string, string) {
	rec := httptest.NewRecorder()
	req := httptest.NewRequestWithContext(ctx, "POST", "/v2/models/sum/infer", strings.NewReader(body))
	s.ServeHTTP(rec, req)
	return rec.Code, rec.Header().Get("Retry-After"), rec.Body.String()
}

func metric(t *testing.T, s *Server, line string) bool {
	t.Helper()
	_, body := call(t, s, "GET", "/metrics", "")
	return strings.Contains(body, line)
}

// TestAdmission checks the queue's bound, the request timeout and the
// request size limit, each against a model kept busy, and that what was
// not admitted, or was given up on while queued, is never computed.
func TestAdmission(t *testing.T) {
	cases := []struct {
		name string
		cfg  func(*Config)
		// queued requests sent with contexts cancelled once queued
		cancel bool
		queue  int // requests queued behind the busy one
		want   int // the status of one more request
		retry  bool
		metric string
		// whether the busy request's status is left unchecked: a timeout
		// passes while it runs too, as its answer comes
		anyFirst bool
	}{
		{name: "queue full", cfg: func(c *Config) { c.MaxQueue = 3 }, queue: 3, want: http.StatusServiceUnavailable, retry: true,
			metric: `tandem_server_rejected_requests_total{model="sum",reason="queue_full"} 1`},
		{name: "request timeout", cfg: func(c *Config) { c.RequestTimeout = 30 * time.Millisecond }, want: http.StatusServiceUnavailable, retry: true, anyFirst: true,
			metric: `tandem_server_dropped_requests_total{model="sum",reason="deadline"} 1`},
		{name: "client gone", cfg: func(c *Config) {}, queue: 5, cancel: true, want: http.StatusOK,
			metric: `tandem_server_dropped_requests_total{model="sum",reason="cancelled"} 5`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := newGateModel()
			cfg := testConfig
			tc.cfg(&cfg)
			s := newTestServer(t, m, cfg)
			first := busy(t, s, m)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var wg sync.WaitGroup
			codes := make(chan int, tc.queue)
			for range tc.queue {
				wg.Go(func() {
					code, _, _ := post(s, ctx, oneSample)
					codes <- code
				})
			}
			// Every queued request is in the queue before the next is sent.
			deadline := time.Now().Add(5 * time.Second)
			for s.b.queuedSamples() < int64(tc.queue) && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
			if tc.cancel {
				cancel()
				wg.Wait() // a client that has gone hears at once, the model still busy
			}
			var code int
			var retry, body string
			got := make(chan struct{})
			go func() {
				code, retry, body = post(s, context.Background(), oneSample)
				close(got)
			}()
			if tc.want != http.StatusOK {
				// Refused without the model finishing anything.
				select {
				case <-got:
				case <-time.After(5 * time.Second):
					t.Fatal("no answer while the model was busy")
				}
			}
			close(m.gate)
			<-got
			wg.Wait()
			if c := <-first; c != http.StatusOK && !tc.anyFirst {
				t.Errorf("the busy request: %d", c)
			}
			if code != tc.want || (retry != "") != tc.retry {
				t.Errorf("%d (Retry-After %q) %s; want %d", code, retry, body, tc.want)
			}
			wantRuns := 1 + tc.queue // the busy request, those queued, the last
			if tc.cancel {
				wantRuns = 1
			}
			if tc.want == http.StatusOK {
				wantRuns++
			}
			// A request answered at its deadline may leave the model, and
			// the dropping of what queued behind it, still to finish.
			var runs int
			for end := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
				runs = 0
				for _, n := range m.runs() {
					runs += n
				}
				if (runs == wantRuns && metric(t, s, tc.metric)) || time.Now().After(end) {
					break
				}
			}
			if runs != wantRuns {
				t.Errorf("the model ran %d samples, want %d", runs, wantRuns)
			}
			if !metric(t, s, tc.metric) {
				t.Errorf("/metrics lacks %s", tc.metric)
			}
		})
	}
}

func TestMaxRequestSamples(t *testing.T) {
	cfg := testConfig
	cfg.MaxRequestSamples = 2
	s := newTestServer(t, &sumModel{}, cfg)
	body := `{"inputs": [{"name": "x", "shape": [3, 1, 2, 2], "datatype": "FP32", "data": [1,2,3,4,1,2,3,4,1,2,3,4]}]}`
	code, resp := call(t, s, "POST", "/v2/models/sum/infer", body)
	if code != http.StatusRequestEntityTooLarge || !strings.Contains(resp, "3 samples; this server takes at most 2 a request") {
		t.Errorf("%d %s", code, resp)
	}
}

// TestLargeRequestDoesNotStarve sends a request of many batches, then a
// one-sample request: the small one is answered within a couple of batch
// times, not after the large one.
func TestLargeRequestDoesNotStarve(t *testing.T) {
	m := &sumModel{delay: 10 * time.Millisecond}
	cfg := testConfig
	cfg.MaxBatch = 4
	s := newTestServer(t, m, cfg)
	const batches = 30
	big := `{"inputs": [{"name": "x", "shape": [120, 1, 2, 2], "datatype": "FP32", "data": [` + strings.Repeat("1,", 120*4-1) + `1]}]}`
	bigDone := make(chan time.Time, 1)
	go func() {
		code, body := call(t, s, "POST", "/v2/models/sum/infer", big)
		if code != http.StatusOK || !strings.Contains(body, `"shape":[120,3]`) {
			t.Errorf("the large request: %d %.200s", code, body)
		}
		bigDone <- time.Now()
	}()
	time.Sleep(30 * time.Millisecond) // a few of its batches in
	start := time.Now()
	if code, body := call(t, s, "POST", "/v2/models/sum/infer", oneSample); code != http.StatusOK {
		t.Fatalf("the small request: %d %s", code, body)
	}
	small := time.Since(start)
	end := <-bigDone
	if small > 100*time.Millisecond || end.Before(start.Add(small)) {
		t.Errorf("the small request took %v, the large one ended %v after it started", small, end.Sub(start))
	}
	for _, n := range m.runs() {
		if n > cfg.MaxBatch {
			t.Errorf("a batch of %d samples, over %d", n, cfg.MaxBatch)
		}
	}
	if total := len(m.runs()); total != batches+1 {
		t.Errorf("%d batches, want %d and the small request's", total, batches)
	}
}
