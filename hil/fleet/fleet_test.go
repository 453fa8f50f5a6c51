package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tandem-edge/tandem/agents/offload"
	"github.com/tandem-edge/tandem/bundles"
	"github.com/tandem-edge/tandem/deploy"
	"github.com/tandem-edge/tandem/hil/oip"
	"github.com/tandem-edge/tandem/profiles"
	"github.com/tandem-edge/tandem/scenarios"
)

// The fake models read a sample's "pixels": x[0] is its label, x[1] says
// whether the edge model gets it right, x[2] how sure it is.
type fakeEdge struct{}

func (fakeEdge) Run(dst, x []float32, n int) error {
	clear(dst)
	label := int(x[0])
	pred := label
	if x[1] == 0 {
		pred = (label + 1) % len(dst)
	}
	dst[pred] = x[2]
	return nil
}

type fakeCloud struct {
	mu     sync.Mutex
	calls  int
	fail   bool
	queued int64 // the queue every answer reports
}

func (c *fakeCloud) InferAnswer(_ context.Context, x []float32, n int) (*oip.Answer, error) {
	c.mu.Lock()
	c.calls++
	c.mu.Unlock()
	if c.fail {
		return nil, errors.New("connection refused")
	}
	time.Sleep(time.Millisecond)
	y := make([]float32, 3)
	y[int(x[0])] = 5
	return &oip.Answer{Y: y, Server: &oip.ResponseParameters{QueueMS: 0.1, ComputeMS: 0.5, BatchSamples: 1, QueuedSamples: c.queued}}, nil
}

type keep struct{ recs []deploy.Record }

func (k *keep) Record(r *deploy.Record) error { k.recs = append(k.recs, *r); return nil }

func testRun(t *testing.T, kind string, cloud Cloud) (*deploy.Summary, []deploy.Record) {
	t.Helper()
	return testRunTimeout(t, kind, cloud, 0)
}

func testRunTimeout(t *testing.T, kind string, cloud Cloud, timeout time.Duration) (*deploy.Summary, []deploy.Record) {
	t.Helper()
	cfg, k := testConfig(t, kind, cloud, timeout)
	return runChecked(t, cfg), k.recs
}

// testConfig is a run of 60 requests over 3 devices by policy kind, and
// where its records go.
func testConfig(t *testing.T, kind string, cloud Cloud, timeout time.Duration) (Config, *keep) {
	t.Helper()
	sc := &scenarios.Scenario{Timeout: scenarios.Duration(timeout), Name: "fleet", Seed: 3, Requests: 60,
		Workload: scenarios.Workload{Arrival: scenarios.ArrivalPoisson, Rate: 100},
		Edge:     scenarios.EdgeGroups{{Count: 3, Concurrency: 1}},
		Link:     scenarios.Link{RTT: scenarios.Duration(2 * time.Millisecond), UplinkMbps: 8},
		Cloud:    scenarios.CloudPools{{Servers: 1}},
		Policy:   scenarios.Policy{Kind: kind, Feature: scenarios.FeatureMaxProb, Threshold: 0.6},
	}
	// Outcomes: samples 0-19; the edge is wrong on every fourth.
	var outcomes []bundles.Outcome
	inputs := map[int][]float32{}
	for i := range 20 {
		o := bundles.Outcome{Sample: 100 + i, Label: i % 3, EdgePred: i % 3, CloudPred: i % 3}
		edgeOK := float32(1)
		if i%4 == 0 {
			o.EdgePred, edgeOK = (i+1)%3, 0
		}
		outcomes = append(outcomes, o)
		// Unsure (a low max_prob) on the samples it gets wrong.
		sure := float32(6)
		if edgeOK == 0 {
			sure = 0.1
		}
		inputs[o.Sample] = []float32{float32(o.Label), edgeOK, sure}
	}
	arrivals, err := deploy.Schedule(sc, nil, []int{len(outcomes)})
	if err != nil {
		t.Fatal(err)
	}
	k := &keep{}
	cfg := Config{Scenario: sc, Arrivals: arrivals, Outcomes: outcomes, Classes: 3,
		Input:        func(s int) []float32 { return inputs[s] },
		NewEdge:      func(int) (Model, error) { return fakeEdge{}, nil },
		Cloud:        cloud,
		CloudServers: 1,
		Uplink:       func(int) profiles.Link { return profiles.Constant(8) },
		RequestBytes: 1000, ResponseBytes: 64,
		NewPolicy: func(_ int, src rand.Source) (offload.Policy, error) {
			return offload.New(sc.Policy.Spec(), offload.Options{Src: src})
		},
		Recorder: k,
	}
	if kind == scenarios.PolicyEdgeOnly {
		cfg.Uplink, cfg.Cloud = nil, nil
	}
	return cfg, k
}

// watcher is a policy that notes the cloud queue of every context it sees.
type watcher struct {
	offload.Policy
	mu   *sync.Mutex
	seen *[]int
}

func (w watcher) Decide(s *offload.Sample, ctx *offload.Context) offload.Decision {
	w.mu.Lock()
	*w.seen = append(*w.seen, ctx.CloudQueue)
	w.mu.Unlock()
	return w.Policy.Decide(s, ctx)
}

// TestContextCloudQueue checks that a policy sees the cloud's queue as the
// cloud's last answer reported it, as the simulator's policies see the
// queue they share.
func TestContextCloudQueue(t *testing.T) {
	cfg, _ := testConfig(t, scenarios.PolicyThreshold, &fakeCloud{queued: 7}, 0)
	var mu sync.Mutex
	var seen []int
	policy := cfg.NewPolicy
	cfg.NewPolicy = func(i int, src rand.Source) (offload.Policy, error) {
		p, err := policy(i, src)
		return watcher{Policy: p, mu: &mu, seen: &seen}, err
	}
	runChecked(t, cfg)
	counts := map[int]int{}
	for _, q := range seen {
		counts[q]++
	}
	if len(seen) != 60 || counts[0] == 0 || counts[7] == 0 || counts[0]+counts[7] != 60 {
		t.Errorf("cloud queues seen %v, want 0 before the first answer and 7 after", counts)
	}
}

// runChecked runs cfg and checks what every run must hold: one record per
// request, and every request counted once, as completed or failed.
func runChecked(t *testing.T, cfg Config) *deploy.Summary {
	t.Helper()
	var ended, failed int
	cfg.Progress = func(e, f int) { ended, failed = e, f }
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Lateness.Len() != int64(len(cfg.Arrivals)) {
		t.Errorf("lateness of %d arrivals, want %d", res.Lateness.Len(), len(cfg.Arrivals))
	}
	sum := res.Summary
	var byReason int64
	for _, n := range sum.Failures {
		byReason += n
	}
	if sum.Completed+sum.Failed != sum.Requests || byReason != sum.Failed {
		t.Errorf("%d requests: %d completed + %d failed (%v by reason)", sum.Requests, sum.Completed, sum.Failed, sum.Failures)
	}
	if int64(ended) != sum.Requests || int64(failed) != sum.Failed {
		t.Errorf("progress said %d ended, %d failed; the summary %d and %d", ended, failed, sum.Requests, sum.Failed)
	}
	return sum
}

func TestRunThreshold(t *testing.T) {
	cloud := &fakeCloud{}
	sum, recs := testRun(t, scenarios.PolicyThreshold, cloud)
	if sum.Mode != deploy.ModeHIL || sum.Requests != 60 || sum.Completed != 60 || sum.Failed != 0 || len(recs) != 60 {
		t.Fatalf("summary %+v with %d records", sum, len(recs))
	}
	// The threshold offloads exactly the unsure samples, the ones the edge
	// gets wrong; the cloud gets them right.
	if sum.Accuracy != 1 {
		t.Errorf("accuracy %v, want 1", sum.Accuracy)
	}
	offloaded := 0
	seen := map[uint64]bool{}
	for _, r := range recs {
		seen[r.ID] = true
		if r.Decision != offload.Cloud {
			if r.Uplink != 0 || r.Latency < r.Edge {
				t.Errorf("edge answer %+v", r)
			}
			continue
		}
		offloaded++
		// 1000 bytes at 8 Mbit/s take 1 ms, plus half of the 2 ms RTT.
		if r.Uplink < 2*time.Millisecond-100*time.Microsecond || r.CloudQueue != 100*time.Microsecond || r.Batch != 1 {
			t.Errorf("offloaded request %+v: uplink under 2 ms or server times lost", r)
		}
		if r.Latency < r.Edge+r.Uplink+r.Cloud+r.Downlink {
			t.Errorf("request %d: latency %v under the sum of its stages", r.ID, r.Latency)
		}
	}
	if len(seen) != 60 || offloaded != cloud.calls || float64(offloaded)/60 != sum.OffloadRate || offloaded == 0 {
		t.Errorf("%d distinct records, %d offloaded, %d cloud calls, offload rate %v", len(seen), offloaded, cloud.calls, sum.OffloadRate)
	}
	if sum.Utilization.Uplink <= 0 || sum.Utilization.Cloud <= 0 || sum.ThroughputRPS <= 0 {
		t.Errorf("utilization %+v, throughput %v", sum.Utilization, sum.ThroughputRPS)
	}
}

// TestRunKernelLinks checks a run whose links the kernel shapes: each
// device reaches the cloud by its own way (CloudFor), the run adds half the
// round trip each way and no transfer time of its own, and the link rule
// still estimates the uplink's use.
func TestRunKernelLinks(t *testing.T) {
	shared := &fakeCloud{fail: true}
	cfg, k := testConfig(t, scenarios.PolicyThreshold, shared, 0)
	own := []*fakeCloud{{}, {}, {}}
	cfg.KernelLinks = true
	cfg.CloudFor = func(i int) Cloud { return own[i] }
	sum := runChecked(t, cfg)
	if sum.Completed != 60 || shared.calls != 0 {
		t.Fatalf("%d completed, %d calls to the shared cloud", sum.Completed, shared.calls)
	}
	perDevice := make([]int, len(own))
	for _, r := range k.recs {
		if r.Decision != offload.Cloud {
			continue
		}
		perDevice[r.Device]++
		if r.Uplink < time.Millisecond || r.Downlink < time.Millisecond {
			t.Errorf("request %d: uplink %v, downlink %v; want at least half the 2 ms round trip each", r.ID, r.Uplink, r.Downlink)
		}
	}
	for i, c := range own {
		if c.calls != perDevice[i] {
			t.Errorf("device %d: its cloud answered %d calls, it offloaded %d", i, c.calls, perDevice[i])
		}
	}
	if sum.Utilization.Uplink <= 0 {
		t.Errorf("uplink utilization %v: the link rule's estimate is lost", sum.Utilization.Uplink)
	}
}

func TestRunEdgeOnly(t *testing.T) {
	sum, recs := testRun(t, scenarios.PolicyEdgeOnly, nil)
	right := 0
	for _, r := range recs {
		if (r.Sample-100)%4 != 0 {
			right++
		}
		if r.Decision != offload.Edge || r.Correct != ((r.Sample-100)%4 != 0) {
			t.Errorf("record %+v", r)
		}
	}
	if sum.OffloadRate != 0 || sum.Completed != 60 || sum.Accuracy != float64(right)/60 {
		t.Errorf("summary %+v; the edge is right on %d of 60", sum, right)
	}
}

func TestRunCloudFailures(t *testing.T) {
	cloud := &fakeCloud{fail: true}
	sum, recs := testRun(t, scenarios.PolicyCloudOnly, cloud)
	if sum.Failed != 60 || sum.Completed != 0 || sum.Failures["error"] != 60 || sum.AccuracyOverRequests != 0 {
		t.Errorf("summary %+v", sum)
	}
	for _, r := range recs {
		if r.Status != deploy.StatusFailed || r.Failure != deploy.FailureError {
			t.Fatalf("record %+v not failed with an error", r)
		}
	}
}

// faultServer is an Open Inference Protocol server on loopback that
// describes the fake models truthfully and answers inference requests
// with infer. kill, when called, stops it at once: its listener and every
// connection are closed.
func faultServer(t *testing.T, infer http.HandlerFunc) (c *oip.Client, kill func()) {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v2/models/fake", func(w http.ResponseWriter, _ *http.Request) {
		json.NewEncoder(w).Encode(oip.ModelMetadata{Name: "fake",
			Inputs:  []oip.MetadataTensor{{Name: "x", Datatype: oip.DatatypeFP32, Shape: []int64{-1, 3}}},
			Outputs: []oip.MetadataTensor{{Name: "y", Datatype: oip.DatatypeFP32, Shape: []int64{-1, 3}}}})
	})
	mux.HandleFunc("POST /v2/models/fake/infer", infer)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	var once sync.Once
	kill = func() { once.Do(func() { srv.Close() }) }
	t.Cleanup(kill)
	hc := &http.Client{Timeout: 10 * time.Second}
	c, err = oip.NewClient(context.Background(), "http://"+ln.Addr().String(), "fake", hc)
	if err != nil {
		t.Fatal(err)
	}
	return c, kill
}

// answer answers the fake models' right answer for the one sample of an
// inference request: x[0] is its label.
func answer(w http.ResponseWriter, r *http.Request) {
	var req oip.InferRequest
	var x []float32
	if json.NewDecoder(r.Body).Decode(&req) != nil || len(req.Inputs) != 1 || json.Unmarshal(req.Inputs[0].Data, &x) != nil || len(x) != 3 {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	y := make([]float32, 3)
	y[int(x[0])] = 5
	json.NewEncoder(w).Encode(oip.InferResponse{ModelName: "fake", Outputs: []oip.ResponseOutput{{Name: "y", Shape: []int64{1, 3}, Datatype: oip.DatatypeFP32, Data: y}}})
}

// TestRunCloudFaults runs the fleet against clouds that fail in the ways
// real ones do, over loopback HTTP, and checks that every failed request
// says why, that completed and failed requests add up, that a hung cloud
// does not outlast the scenario's timeout, and that accuracy over all
// requests does not reward failing.
func TestRunCloudFaults(t *testing.T) {
	_, edgeRecs := testRun(t, scenarios.PolicyEdgeOnly, nil)
	edgeRight := 0
	for _, r := range edgeRecs {
		if r.Correct {
			edgeRight++
		}
	}
	edgeOnly := float64(edgeRight) / 60

	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) })
	var served atomic.Int64
	cases := []struct {
		name    string
		infer   http.HandlerFunc
		killAt  int64         // kill the server once it has answered this many; 0: never
		timeout time.Duration // the scenario's
		// what is wanted: every request failed for this reason, or (killed)
		// some completed and the others failed as a dead server fails them
		reason    string
		someAlive bool
	}{
		{name: "503", infer: func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, `{"error": "overloaded"}`)
		}, reason: "http_503"},
		{name: "hang", infer: func(_ http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-stop:
			}
		}, timeout: 50 * time.Millisecond, reason: "timeout"},
		{name: "garbage", infer: func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "<html>hello</html>") }, reason: "bad_answer"},
		{name: "wrong classes", infer: func(w http.ResponseWriter, _ *http.Request) {
			json.NewEncoder(w).Encode(oip.InferResponse{Outputs: []oip.ResponseOutput{{Name: "y", Data: []float32{1}}}})
		}, reason: "bad_answer"},
		{name: "killed", infer: func(w http.ResponseWriter, r *http.Request) {
			answer(w, r)
			served.Add(1)
		}, killAt: 10, someAlive: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			served.Store(0)
			c, kill := faultServer(t, tc.infer)
			if tc.killAt > 0 {
				go func() {
					for served.Load() < tc.killAt {
						select {
						case <-stop:
							return
						case <-time.After(time.Millisecond):
						}
					}
					kill()
				}()
			}
			start := time.Now()
			sum, recs := testRunTimeout(t, scenarios.PolicyCloudOnly, c, tc.timeout)
			if tc.timeout > 0 && time.Since(start) > 2*time.Second {
				t.Errorf("the run took %v with a %v timeout", time.Since(start), tc.timeout)
			}
			if sum.Requests != 60 || len(recs) != 60 {
				t.Fatalf("summary %+v with %d records", sum, len(recs))
			}
			for _, r := range recs {
				if (r.Status == deploy.StatusFailed) != (r.Failure != deploy.FailureNone) {
					t.Fatalf("record %+v: status and reason disagree", r)
				}
				if tc.reason != "" && r.Failure.String() != tc.reason {
					t.Fatalf("record %+v: failed for %q, want %q", r, r.Failure, tc.reason)
				}
			}
			if tc.someAlive {
				if sum.Completed < tc.killAt || sum.Failed == 0 || sum.Failures["refused"]+sum.Failures["connection"] != sum.Failed {
					t.Errorf("killed after %d: %d completed, failures %v", tc.killAt, sum.Completed, sum.Failures)
				}
				if sum.AccuracyOverCompleted != 1 || sum.AccuracyOverRequests >= edgeOnly {
					t.Errorf("killed: accuracy %v over completed, %v over requests, against %v edge-only", sum.AccuracyOverCompleted, sum.AccuracyOverRequests, edgeOnly)
				}
				return
			}
			if sum.Failures[tc.reason] != 60 || sum.Completed != 0 || sum.AccuracyOverRequests != 0 || edgeOnly == 0 {
				t.Errorf("summary %+v: want 60 failed for %s", sum, tc.reason)
			}
		})
	}
}

// slowEdge is fakeEdge taking at least a millisecond.
type slowEdge struct{ fakeEdge }

func (e slowEdge) Run(dst, x []float32, n int) error {
	time.Sleep(time.Millisecond)
	return e.fakeEdge.Run(dst, x, n)
}

// TestEdgeSlowdown checks that an emulated device K times slower than the
// host holds each edge run K times as long as the host took.
func TestEdgeSlowdown(t *testing.T) {
	cfg, k := testConfig(t, scenarios.PolicyEdgeOnly, nil, 0)
	cfg.NewEdge = func(int) (Model, error) { return slowEdge{}, nil }
	cfg.EdgeSlowdown = 4
	runChecked(t, cfg)
	for _, r := range k.recs {
		if r.Edge < 4*time.Millisecond {
			t.Errorf("request %d: edge %v, want at least 4 × the 1 ms run", r.ID, r.Edge)
		}
		if r.Latency < r.Edge {
			t.Errorf("request %d: latency %v shorter than its edge run %v", r.ID, r.Latency, r.Edge)
		}
	}
}

// TestSharedEdgeSessions runs a fleet of more slots than edge sessions:
// the slots share what was opened, every request still ends, and each run
// reports how long it waited for a session; with a session per slot none
// is shared and nothing is reported.
func TestSharedEdgeSessions(t *testing.T) {
	for _, tc := range []struct {
		sessions, opened int
		shared           bool
	}{{0, 3, false}, {1, 1, true}, {5, 3, false}} {
		cfg, k := testConfig(t, scenarios.PolicyThreshold, &fakeCloud{}, 0)
		var opened atomic.Int32
		cfg.EdgeSessions = tc.sessions
		cfg.NewEdge = func(int) (Model, error) { opened.Add(1); return fakeEdge{}, nil }
		res, err := Run(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		if int(opened.Load()) != tc.opened || res.Summary.Completed != 60 || len(k.recs) != 60 {
			t.Errorf("EdgeSessions %d: %d sessions opened (want %d), %d completed", tc.sessions, opened.Load(), tc.opened, res.Summary.Completed)
		}
		if got := res.SessionWait.Len(); (got == 60) != tc.shared || (got != 0) != tc.shared {
			t.Errorf("EdgeSessions %d: %d session waits, want %v", tc.sessions, got, map[bool]string{true: "one per request", false: "none"}[tc.shared])
		}
	}
}

// A real run refuses the keys it cannot honour, naming them.
func TestCheckRunnable(t *testing.T) {
	svc := &scenarios.Service{Dist: scenarios.DistExponential, Mean: scenarios.Duration(time.Millisecond)}
	for _, tc := range []struct {
		name string
		edit func(sc *scenarios.Scenario)
		want string
	}{
		{"runnable", func(*scenarios.Scenario) {}, ""},
		{"edge service", func(sc *scenarios.Scenario) { sc.Edge[0].Service = svc }, "edge.service: hil run runs the edge model for real"},
		{"second group's service", func(sc *scenarios.Scenario) {
			sc.Edge = append(sc.Edge, scenarios.Edge{Count: 1, Service: svc})
		}, "edge[1].service"},
		{"cloud service", func(sc *scenarios.Scenario) { sc.Cloud[0].Service = svc }, "cloud.service: hil run runs the heavy model for real"},
		{"second group's bundle", func(sc *scenarios.Scenario) {
			sc.Bundle = "builtin:fashion"
			sc.Edge = append(sc.Edge, scenarios.Edge{Count: 1, Bundle: "builtin:digits"})
		}, ""},
		{"the scenario's bundle again", func(sc *scenarios.Scenario) {
			sc.Bundle = "builtin:fashion"
			sc.Edge = append(sc.Edge, scenarios.Edge{Count: 1, Bundle: "builtin:fashion"})
		}, ""},
	} {
		cfg, _ := testConfig(t, scenarios.PolicyThreshold, nil, 0)
		tc.edit(cfg.Scenario)
		err := CheckRunnable(cfg.Scenario)
		if (tc.want == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}

// TestApplications runs two applications on two edge groups: each device
// replays its own application's samples, runs its edge model and sends
// what it offloads to its application's cloud.
func TestApplications(t *testing.T) {
	c0, c1 := &fakeCloud{}, &fakeCloud{}
	cfg, k := testConfig(t, scenarios.PolicyThreshold, c0, 0)
	sc := cfg.Scenario
	sc.Edge = scenarios.EdgeGroups{{Name: "a", Count: 2, Concurrency: 1}, {Name: "b", Count: 2, Concurrency: 1}}
	second := slices.Clone(cfg.Outcomes)
	inputs := map[int][]float32{}
	for i := range second {
		inputs[second[i].Sample+100] = cfg.Input(second[i].Sample)
		second[i].Sample += 100
	}
	var opened [2]atomic.Int64
	edge := func(a int) func(int) (Model, error) {
		return func(int) (Model, error) { opened[a].Add(1); return fakeEdge{}, nil }
	}
	cfg.Apps = []App{
		{Outcomes: cfg.Outcomes, Input: cfg.Input, Classes: 3, NewEdge: edge(0), Cloud: c0, RequestBytes: 1000, ResponseBytes: 64},
		{Outcomes: second[:10], Input: func(s int) []float32 { return inputs[s] }, Classes: 3, NewEdge: edge(1), Cloud: c1, RequestBytes: 500, ResponseBytes: 32},
	}
	var err error
	if cfg.Arrivals, err = deploy.Schedule(sc, nil, []int{20, 10}); err != nil {
		t.Fatal(err)
	}
	if _, err := Run(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "2 edge groups, 0 groups' applications") {
		t.Fatalf("no GroupApps: %v", err)
	}
	cfg.GroupApps = []int{0, 1}
	sum := runChecked(t, cfg)
	var offloaded [2]int
	for _, r := range k.recs {
		a := r.Device / 2
		if own := (r.Sample >= 200) == (a == 1); !own || a == 1 && r.Sample >= 210 {
			t.Fatalf("request %d of device %d replays sample %d, not its application's", r.ID, r.Device, r.Sample)
		}
		if r.Decision == offload.Cloud {
			offloaded[a]++
		}
	}
	if c0.calls != offloaded[0] || c1.calls != offloaded[1] || offloaded[0] == 0 || offloaded[1] == 0 {
		t.Errorf("clouds called %d and %d times, the groups offloaded %v", c0.calls, c1.calls, offloaded)
	}
	if opened[0].Load() != 2 || opened[1].Load() != 2 {
		t.Errorf("edge sessions opened: %d and %d, want each application's two slots'", opened[0].Load(), opened[1].Load())
	}
	if sum.Completed != 60 || len(sum.Groups) != 2 {
		t.Errorf("%d completed over %d groups", sum.Completed, len(sum.Groups))
	}
}
