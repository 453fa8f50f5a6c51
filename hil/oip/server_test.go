package oip

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// sumModel answers, for each sample of four values, three outputs: the
// sample's sum times 1, 2 and 3. It records the batch sizes it ran.
type sumModel struct {
	mu      sync.Mutex
	batches []int
	fail    error
	delay   time.Duration
}

func (m *sumModel) InputSize() int  { return 4 }
func (m *sumModel) OutputSize() int { return 3 }
func (m *sumModel) Run(dst, x []float32, n int) error {
	m.mu.Lock()
	m.batches = append(m.batches, n)
	m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	time.Sleep(m.delay)
	for i := range n {
		var s float32
		for _, v := range x[4*i : 4*i+4] {
			s += v
		}
		for k := range 3 {
			dst[3*i+k] = s * float32(k+1)
		}
	}
	return nil
}

func (m *sumModel) runs() []int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]int(nil), m.batches...)
}

var testConfig = Config{Name: "sum", Version: "1", Platform: "test", Input: "x", Output: "y", SampleShape: []int64{1, 2, 2}, Classes: 3}

func newTestServer(t *testing.T, m Model, cfg Config) *Server {
	t.Helper()
	s, err := NewServer(m, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func call(t *testing.T, h http.Handler, method, path, body string) (int, string) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, r))
	return rec.Code, rec.Body.String()
}

const oneSample = `{"id": "a1", "inputs": [{"name": "x", "shape": [1, 1, 2, 2], "datatype": "FP32", "data": [1, 2, 3, 4]}]}`

func TestEndpoints(t *testing.T) {
	s := newTestServer(t, &sumModel{}, testConfig)
	cases := []struct {
		name, method, path, body string
		code                     int
		want                     string // a substring of the body
	}{
		{"live", "GET", "/v2/health/live", "", 200, ""},
		{"ready", "GET", "/v2/health/ready", "", 200, ""},
		{"server metadata", "GET", "/v2", "", 200, `"name":"tandem"`},
		{"model metadata", "GET", "/v2/models/sum", "", 200, `"inputs":[{"name":"x","datatype":"FP32","shape":[-1,1,2,2]}]`},
		{"model version metadata", "GET", "/v2/models/sum/versions/1", "", 200, `"versions":["1"]`},
		{"model ready", "GET", "/v2/models/sum/ready", "", 200, ""},
		{"unknown model", "GET", "/v2/models/other/ready", "", 404, `"error":"no model \"other\": this server serves \"sum\""`},
		{"unknown version", "POST", "/v2/models/sum/versions/2/infer", oneSample, 404, `no version \"2\"`},
		{"infer", "POST", "/v2/models/sum/infer", oneSample, 200, `"outputs":[{"name":"y","shape":[1,3],"datatype":"FP32","data":[10,20,30]}]`},
		{"infer echoes id", "POST", "/v2/models/sum/versions/1/infer", oneSample, 200, `"id":"a1"`},
		{"nested data", "POST", "/v2/models/sum/infer",
			`{"inputs": [{"name": "x", "shape": [2, 1, 2, 2], "datatype": "FP32", "data": [[[[1, 1], [1, 1]]], [[[0, 0], [0, 0.5]]]]}]}`, 200, `"data":[4,8,12,0.5,1,1.5]`},
		{"not JSON", "POST", "/v2/models/sum/infer", `{"inputs": [`, 400, `"error":"request body: unexpected EOF"`},
		{"wrong input name", "POST", "/v2/models/sum/infer", strings.Replace(oneSample, `"name": "x"`, `"name": "input"`, 1), 400, `inputs[0].name: the model's input is \"x\", got \"input\"`},
		{"wrong datatype", "POST", "/v2/models/sum/infer", strings.Replace(oneSample, "FP32", "INT64", 1), 400, `inputs[0].datatype: want FP32, got \"INT64\"`},
		{"wrong sample shape", "POST", "/v2/models/sum/infer", strings.Replace(oneSample, "[1, 1, 2, 2]", "[1, 4]", 1), 400, `inputs[0].shape: want [N 1 2 2], got [1 4]`},
		{"too few values", "POST", "/v2/models/sum/infer", strings.Replace(oneSample, "[1, 2, 3, 4]", "[1, 2, 3]", 1), 400, `shape [1 1 2 2] needs 4 values, got 3`},
		{"too many values", "POST", "/v2/models/sum/infer", strings.Replace(oneSample, "[1, 2, 3, 4]", "[1, 2, 3, 4, 5]", 1), 400, `more than the 4 values the shape claims`},
		{"string value", "POST", "/v2/models/sum/infer", strings.Replace(oneSample, "[1, 2, 3, 4]", `[1, 2, "3", 4]`, 1), 400, `inputs[0].data: want an array of numbers`},
		{"out of float32 range", "POST", "/v2/models/sum/infer", strings.Replace(oneSample, "[1, 2, 3, 4]", `[1, 2, 1e39, 4]`, 1), 400, `value 2 is out of float32 range`},
		{"zero samples", "POST", "/v2/models/sum/infer", strings.Replace(oneSample, "[1, 1, 2, 2]", "[0, 1, 2, 2]", 1), 400, `0 samples; want 1 to 1024`},
		{"two inputs", "POST", "/v2/models/sum/infer", `{"inputs": [{"name": "x"}, {"name": "z"}]}`, 400, `the request has 2`},
		{"unknown output", "POST", "/v2/models/sum/infer", strings.Replace(oneSample, `"id": "a1",`, `"outputs": [{"name": "probs"}],`, 1), 400, `the request asks for \"probs\"`},
		{"no such endpoint", "GET", "/v1/models/sum", "", 404, `no such endpoint: GET /v1/models/sum`},
		{"GET infer", "GET", "/v2/models/sum/infer", "", 405, `GET /v2/models/sum/infer: method not allowed; use POST`},
		{"PUT infer", "PUT", "/v2/models/sum/versions/1/infer", oneSample, 405, `method not allowed; use POST`},
		{"POST metadata", "POST", "/v2/models/sum", oneSample, 405, `use GET or HEAD`},
		{"DELETE ready", "DELETE", "/v2/health/ready", "", 405, `use GET or HEAD`},
		{"trailing data", "POST", "/v2/models/sum/infer", oneSample + `{"inputs": []}`, 400, `request body: data after the JSON object`},
		{"trailing garbage", "POST", "/v2/models/sum/infer", oneSample + `x`, 400, `request body: data after the JSON object`},
		{"trailing space", "POST", "/v2/models/sum/infer", oneSample + " \n", 200, `"data":[10,20,30]`},
		{"ragged nested data", "POST", "/v2/models/sum/infer",
			`{"inputs": [{"name": "x", "shape": [2, 1, 2, 2], "datatype": "FP32", "data": [[[[1, 1, 1], [1]]], [[[0, 0], [0, 0.5]]]]}]}`, 400, `nested data does not match shape [2 1 2 2]: an array of dimension 3 has 3 elements, want 2`},
		{"nested the wrong way", "POST", "/v2/models/sum/infer",
			`{"inputs": [{"name": "x", "shape": [2, 1, 2, 2], "datatype": "FP32", "data": [[1, 1, 1, 1], [0, 0, 0, 0.5]]}]}`, 400, `an array of dimension 1 has 4 elements, want 1`},
		{"too deep", "POST", "/v2/models/sum/infer",
			`{"inputs": [{"name": "x", "shape": [1, 1, 2, 2], "datatype": "FP32", "data": [[[[[1], [2]], [[3], [4]]]]]}]}`, 400, `nested deeper than shape [1 1 2 2]`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, body := call(t, s, tc.method, tc.path, tc.body)
			if code != tc.code || !strings.Contains(body, tc.want) {
				t.Errorf("%s %s: %d %s\nwant %d and a body containing %s", tc.method, tc.path, code, body, tc.code, tc.want)
			}
		})
	}
}

// TestDrain checks that readiness turns 503 while the server drains, and
// that it still answers inference until closed.
func TestDrain(t *testing.T) {
	s := newTestServer(t, &sumModel{}, testConfig)
	s.Drain()
	for _, path := range []string{"/v2/health/ready", "/v2/models/sum/ready"} {
		if code, body := call(t, s, "GET", path, ""); code != http.StatusServiceUnavailable || !strings.Contains(body, "draining") {
			t.Errorf("GET %s while draining: %d %s", path, code, body)
		}
	}
	if code, _ := call(t, s, "GET", "/v2/health/live", ""); code != http.StatusOK {
		t.Errorf("liveness while draining: %d", code)
	}
	if code, body := call(t, s, "POST", "/v2/models/sum/infer", oneSample); code != http.StatusOK {
		t.Errorf("inference while draining: %d %s", code, body)
	}
}

func TestRuntimeMetrics(t *testing.T) {
	s := newTestServer(t, &sumModel{}, testConfig)
	_, body := call(t, s, "GET", "/metrics", "")
	for _, want := range []string{"go_goroutines ", "go_memstats_heap_inuse_bytes ", "process_resident_memory_bytes "} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

func TestBodyLimit(t *testing.T) {
	cfg := testConfig
	cfg.MaxBodyBytes = 64
	s := newTestServer(t, &sumModel{}, cfg)
	if code, body := call(t, s, "POST", "/v2/models/sum/infer", oneSample+strings.Repeat(" ", 100)); code != http.StatusRequestEntityTooLarge {
		t.Errorf("%d %s, want 413", code, body)
	}
}

func TestModelErrorIs500(t *testing.T) {
	s := newTestServer(t, &sumModel{fail: errors.New("out of memory")}, testConfig)
	code, body := call(t, s, "POST", "/v2/models/sum/infer", oneSample)
	if code != http.StatusInternalServerError || !strings.Contains(body, `model \"sum\": out of memory`) {
		t.Errorf("%d %s", code, body)
	}
}

func TestClosedServerIs503(t *testing.T) {
	s, err := NewServer(&sumModel{}, testConfig)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if code, body := call(t, s, "POST", "/v2/models/sum/infer", oneSample); code != http.StatusServiceUnavailable {
		t.Errorf("%d %s, want 503", code, body)
	}
}

// TestBatching sends concurrent requests to a server that batches: every
// answer is right, every sample is run once, and requests share batches of
// at most MaxBatch samples, a request larger than that split among them.
func TestBatching(t *testing.T) {
	m := &sumModel{delay: 2 * time.Millisecond}
	cfg := testConfig
	cfg.MaxBatch, cfg.MaxWait = 8, 20*time.Millisecond
	s := newTestServer(t, m, cfg)
	ts := httptest.NewServer(s)
	defer ts.Close()
	c, err := NewClient(context.Background(), ts.URL, "sum", ts.Client())
	if err != nil {
		t.Fatal(err)
	}
	const clients = 24
	var wg sync.WaitGroup
	errs := make(chan error, clients+1)
	for i := range clients {
		wg.Go(func() {
			x := []float32{float32(i), 0, 0, 1}
			y, err := c.Infer(context.Background(), x, 1)
			if err != nil {
				errs <- err
				return
			}
			if want := float32(i + 1); len(y) != 3 || y[0] != want || y[2] != 3*want {
				errs <- fmt.Errorf("client %d: got %v, want [%v %v %v]", i, y, want, 2*want, 3*want)
			}
		})
	}
	wg.Go(func() { // 10 samples: more than a batch
		y, err := c.Infer(context.Background(), make([]float32, 40), 10)
		if err == nil && len(y) != 30 {
			err = fmt.Errorf("10 samples: %d outputs", len(y))
		}
		if err != nil {
			errs <- err
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	total, shared := 0, false
	for _, n := range m.runs() {
		total += n
		if n > cfg.MaxBatch {
			t.Errorf("a batch of %d samples, over the largest batch of %d", n, cfg.MaxBatch)
		}
		if n > 1 && n <= cfg.MaxBatch {
			shared = true
		}
	}
	if total != clients+10 {
		t.Errorf("the model ran %d samples, want %d", total, clients+10)
	}
	if !shared {
		t.Errorf("no two requests shared a batch: %v", m.runs())
	}
	code, metrics := call(t, s, "GET", "/metrics", "")
	for _, want := range []string{
		`tandem_server_requests_total{code="200",endpoint="infer",model="sum"} 25`,
		`tandem_server_inferred_samples_total{model="sum"} 34`,
		`tandem_server_batch_samples_count{model="sum"}`,
		`tandem_server_queued_requests{model="sum"} 0`,
	} {
		if code != 200 || !strings.Contains(metrics, want) {
			t.Errorf("/metrics (%d) lacks %s", code, want)
		}
	}
}

func TestClientErrors(t *testing.T) {
	s := newTestServer(t, &sumModel{}, testConfig)
	ts := httptest.NewServer(s)
	defer ts.Close()
	if _, err := NewClient(context.Background(), ts.URL, "nope", ts.Client()); err == nil || !strings.Contains(err.Error(), `404 Not Found: no model "nope"`) {
		t.Errorf("NewClient of an unknown model: %v", err)
	}
	if _, err := NewClient(context.Background(), "localhost:8000", "sum", nil); err == nil || !strings.Contains(err.Error(), "want http://HOST:PORT") {
		t.Errorf("NewClient of a URL without scheme: %v", err)
	}
	c, err := NewClient(context.Background(), ts.URL, "sum", ts.Client())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Infer(context.Background(), []float32{1, 2, 3}, 1); err == nil || !strings.Contains(err.Error(), "needs 4 values, got 3") {
		t.Errorf("Infer of a short sample: %v", err)
	}
}

func TestNewServerErrors(t *testing.T) {
	cases := []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"no name", func(c *Config) { c.Name = "" }, "needs a name"},
		{"dynamic sample shape", func(c *Config) { c.SampleShape = []int64{1, -1, 2} }, "must be fixed and positive"},
		{"shape disagrees", func(c *Config) { c.SampleShape = []int64{1, 3, 3} }, "holds 9 values, the model takes 4"},
		{"classes disagree", func(c *Config) { c.Classes = 10 }, "the model gives 3"},
		{"negative wait", func(c *Config) { c.MaxWait = -time.Second }, "want neither negative"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig
			tc.edit(&cfg)
			if _, err := NewServer(&sumModel{}, cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("NewServer: %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// FuzzInfer posts arbitrary bodies: the server answers 200 with one output
// of three values a sample, or 4xx with an error body; it never panics.
func FuzzInfer(f *testing.F) {
	f.Add([]byte(oneSample))
	f.Add([]byte(`{"inputs": [{"name": "x", "shape": [2, 1, 2, 2], "datatype": "FP32", "data": [[[[1, 1], [1, 1]]], [[[0, 0], [0, 0.5]]]]}]}`))
	f.Add([]byte(`{"inputs": [{"name": "x", "shape": [65536, 1, 2, 2], "datatype": "FP32", "data": [1]}]}`))
	f.Add([]byte(`{"inputs": [{"name": "x", "shape": [1, 1, 2, 2], "datatype": "FP32", "data": [[[[[[1]]]]]]}]}`))
	s, err := NewServer(&sumModel{}, testConfig)
	if err != nil {
		f.Fatal(err)
	}
	defer s.Close()
	f.Fuzz(func(t *testing.T, body []byte) {
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest("POST", "/v2/models/sum/infer", bytes.NewReader(body)))
		switch {
		case rec.Code == http.StatusOK:
			var resp InferResponse
			if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil || len(resp.Outputs) != 1 ||
				len(resp.Outputs[0].Data) != 3*int(resp.Outputs[0].Shape[0]) {
				t.Fatalf("200 with body %s (%v)", rec.Body, err)
			}
		case rec.Code >= 400 && rec.Code < 500:
			var e ErrorResponse
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error == "" {
				t.Fatalf("%d with body %s", rec.Code, rec.Body)
			}
		default:
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	})
}

// TestPool serves concurrent requests from a pool of three model copies:
// each answer is right, and the copies share the work.
func TestPool(t *testing.T) {
	models := []*sumModel{{delay: 3 * time.Millisecond}, {delay: 3 * time.Millisecond}, {delay: 3 * time.Millisecond}}
	cfg := testConfig
	cfg.MaxQueue = 64 // all 30 at once
	s, err := NewPool([]Model{models[0], models[1], models[2]}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ts := httptest.NewServer(s)
	defer ts.Close()
	c, err := NewClient(context.Background(), ts.URL, "sum", ts.Client())
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 30 {
		wg.Go(func() {
			a, err := c.InferAnswer(context.Background(), []float32{float32(i), 1, 0, 0}, 1)
			if err != nil {
				t.Error(err)
				return
			}
			if a.Y[1] != 2*float32(i+1) || a.Server == nil || a.Server.BatchSamples != 1 || a.Server.ComputeMS <= 0 {
				t.Errorf("request %d: %v, server said %+v", i, a.Y, a.Server)
			}
		})
	}
	wg.Wait()
	used, total := 0, 0
	for _, m := range models {
		if n := len(m.runs()); n > 0 {
			used++
			total += n
		}
	}
	if total != 30 || used < 2 {
		t.Errorf("%d runs over %d of 3 models, want 30 over at least 2", total, used)
	}
}
