package oip

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// maxModel is a second model beside sumModel: 2 values in, their larger
// and their smaller out.
type maxModel struct{}

func (maxModel) InputSize() int  { return 2 }
func (maxModel) OutputSize() int { return 2 }
func (maxModel) Run(dst, x []float32, n int) error {
	for i := range n {
		a, b := x[2*i], x[2*i+1]
		dst[2*i], dst[2*i+1] = max(a, b), min(a, b)
	}
	return nil
}

var maxConfig = Config{Name: "max", Platform: "test", Input: "pair", Output: "order", SampleShape: []int64{2}, Classes: 2}

// TestSharedModels serves two models from one pool of two servers over
// HTTP: each answers its own requests, the metadata and metrics are each
// model's, and a request for neither is told which there are.
func TestSharedModels(t *testing.T) {
	cfg := testConfig
	cfg.MaxQueue = 64 // all 40 at once
	s, err := NewShared([]Config{cfg, maxConfig}, [][]Model{{&sumModel{}, &sumModel{}}, {maxModel{}, maxModel{}}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ts := httptest.NewServer(s)
	defer ts.Close()
	sum, err := NewClient(context.Background(), ts.URL, "sum", ts.Client())
	if err != nil {
		t.Fatal(err)
	}
	mx, err := NewClient(context.Background(), ts.URL, "max", ts.Client())
	if err != nil {
		t.Fatal(err)
	}
	if sum.SampleSize() != 4 || mx.SampleSize() != 2 {
		t.Fatalf("sample sizes %d and %d, want 4 and 2 from each model's metadata", sum.SampleSize(), mx.SampleSize())
	}
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			a, err := sum.InferAnswer(context.Background(), []float32{float32(i), 1, 0, 0}, 1)
			if err != nil || a.Y[0] != float32(i+1) {
				t.Errorf("sum %d: %v, %v", i, a, err)
			}
		})
		wg.Go(func() {
			a, err := mx.InferAnswer(context.Background(), []float32{1, float32(i)}, 1)
			if err != nil || a.Y[0] != max(1, float32(i)) || a.Y[1] != min(1, float32(i)) {
				t.Errorf("max %d: %v, %v", i, a, err)
			}
		})
	}
	wg.Wait()

	resp, err := ts.Client().Post(ts.URL+"/v2/models/nope/infer", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(string(body), `\"sum\", \"max\"`) {
		t.Errorf("unknown model: %d %s, want 404 naming both models", resp.StatusCode, body)
	}

	resp, err = ts.Client().Get(ts.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`tandem_server_inferred_samples_total{model="sum"} 20`, `tandem_server_inferred_samples_total{model="max"} 20`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

func TestSharedConfigErrors(t *testing.T) {
	batched := maxConfig
	batched.MaxBatch = 4
	twin := maxConfig
	twin.Name = "sum"
	for _, tc := range []struct {
		name   string
		cfgs   []Config
		models [][]Model
		want   string
	}{
		{"settings differ", []Config{testConfig, batched}, [][]Model{{&sumModel{}}, {maxModel{}}}, `model "max" sets the server's max batch differently`},
		{"same name", []Config{testConfig, twin}, [][]Model{{&sumModel{}}, {maxModel{}}}, `two models named "sum"`},
		{"fewer copies", []Config{testConfig, maxConfig}, [][]Model{{&sumModel{}, &sumModel{}}, {maxModel{}}}, `model "max": 1 copies for 2 servers`},
		{"no pools", []Config{testConfig}, nil, "1 model configs and 0 model pools"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := NewShared(tc.cfgs, tc.models)
			if err == nil {
				s.Close()
				t.Fatalf("no error, want %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want %q", err, tc.want)
			}
		})
	}
}

// TestSharedOldestBatchFirst holds the one server of two models busy, queues
// b1, a1 and b2, and frees it: it runs b1 and b2 as one batch first, whose
// oldest request came first, then a1, each model's batch its own.
func TestSharedOldestBatchFirst(t *testing.T) {
	a, b := newGateModel(), newGateModel()
	reg := prometheus.NewRegistry()
	bt := newBatcher([][]Model{{a, b}}, 8, 64, 0, []*metrics{newMetrics(reg, "a"), newMetrics(reg, "b")})
	defer bt.close()
	x := make([]float32, 4)
	results := make(chan string, 4)
	send := func(lane int, name string) {
		go func() {
			if r := bt.submit(context.Background(), lane, x, 1); r.err != nil {
				t.Error(r.err)
			}
			results <- name
		}()
	}
	send(0, "a0")
	if n := <-a.started; n != 1 {
		t.Fatalf("a0 ran in a batch of %d", n)
	}
	for i, q := range []struct {
		lane int
		name string
	}{{1, "b1"}, {0, "a1"}, {1, "b2"}} {
		send(q.lane, q.name)
		deadline := time.Now().Add(10 * time.Second)
		for bt.queuedSamples() < int64(i+1) && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
	}
	a.gate <- struct{}{} // a0 ends
	if got := <-results; got != "a0" {
		t.Fatalf("%s ended first, want a0", got)
	}
	select {
	case n := <-b.started:
		if n != 2 {
			t.Errorf("b's batch has %d requests, want b1 and b2", n)
		}
	case n := <-a.started:
		t.Fatalf("a's batch of %d ran before b's, whose oldest request came first", n)
	case <-time.After(10 * time.Second):
		t.Fatal("nothing ran")
	}
	b.gate <- struct{}{}
	if n := <-a.started; n != 1 {
		t.Errorf("a's batch has %d requests, want a1", n)
	}
	a.gate <- struct{}{}
	for range 3 {
		<-results
	}
}

// TestIdlePoolOneWindow sends three requests to an idle pool of two servers
// batching up to 8 within a window: as in the simulator, the window opens
// at the first request and one server runs all three as one batch, instead
// of each server opening a window of its own.
func TestIdlePoolOneWindow(t *testing.T) {
	m := []*sumModel{{}, {}}
	reg := prometheus.NewRegistry()
	bt := newBatcher([][]Model{{m[0]}, {m[1]}}, 8, 64, 300*time.Millisecond, []*metrics{newMetrics(reg, "sum")})
	defer bt.close()
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			r := bt.submit(context.Background(), 0, make([]float32, 4), 1)
			if r.err != nil || r.batch != 3 {
				t.Errorf("batch of %d (%v), want 3", r.batch, r.err)
			}
		})
	}
	wg.Wait()
	if n := len(m[0].runs()) + len(m[1].runs()); n != 1 {
		t.Errorf("%d batches ran, want 1", n)
	}
}
