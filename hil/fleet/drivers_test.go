package fleet

import (
	"context"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tandem-edge/tandem/agents/offload"
	"github.com/tandem-edge/tandem/deploy"
	"github.com/tandem-edge/tandem/hil/oip"
	"github.com/tandem-edge/tandem/profiles"
	"github.com/tandem-edge/tandem/scenarios"
	"github.com/tandem-edge/tandem/sim"
)

// The stage times both drivers are given: fixed, so that any difference
// between the drivers is one of their rules, and odd, so that no two
// events of different requests fall on one instant by the arithmetic of
// round numbers (a tie either driver may break either way).
const (
	edgeTime  = 3*time.Millisecond + 1723*time.Nanosecond
	cloudTime = 5*time.Millisecond + 3109*time.Nanosecond
	maxWait   = 2*time.Millisecond + 517*time.Nanosecond
)

// timedEdge is fakeEdge taking edgeTime.
type timedEdge struct{ fakeEdge }

func (m timedEdge) Run(dst, x []float32, n int) error {
	time.Sleep(edgeTime)
	return m.fakeEdge.Run(dst, x, n)
}

// timedHeavy is a cloud model that is always right on the fake inputs
// (x[0] is the label) and takes cloudTime a batch, whatever its size.
type timedHeavy struct{}

func (timedHeavy) InputSize() int  { return 3 }
func (timedHeavy) OutputSize() int { return 3 }
func (timedHeavy) Run(dst, x []float32, n int) error {
	time.Sleep(cloudTime)
	clear(dst[:3*n])
	for i := range n {
		dst[3*i+int(x[3*i])] = 5
	}
	return nil
}

// inMemory hands requests straight to a handler: HTTP without sockets,
// whose I/O synctest's clock could not see.
type inMemory struct{ h http.Handler }

func (t inMemory) RoundTrip(r *http.Request) (*http.Response, error) {
	w := httptest.NewRecorder()
	t.h.ServeHTTP(w, r)
	return w.Result(), nil
}

// TestDriversAgree runs one scenario through both drivers of deploy's
// rules: the simulator in virtual time, and the fleet of a real run with
// the inference server's batcher on synctest's fake clock, where sleeping
// takes no real time and nothing runs late. With the same fixed stage
// times every request must get the same decision and the same time in
// every stage, cloud batches included: the drivers share the arrival
// schedule, the link rule and the batching rule, and differ in nothing
// else that a request can see.
//
// The mixed fleet has a second group of its own device class (twice as
// slow: a deterministic override in the simulator, a stretched run in the
// fleet), concurrency, rate, link and power figures.
func TestDriversAgree(t *testing.T) {
	t.Run("one group", func(t *testing.T) { driversAgree(t, false) })
	t.Run("mixed fleet", func(t *testing.T) { driversAgree(t, true) })
}

func driversAgree(t *testing.T, mixed bool) {
	cfg, k := testConfig(t, scenarios.PolicyThreshold, nil, 0)
	sc := cfg.Scenario
	sc.Edge[0].Service = &scenarios.Service{Dist: scenarios.DistDeterministic, Mean: scenarios.Duration(edgeTime)}
	sc.Cloud[0].Service = &scenarios.Service{Dist: scenarios.DistDeterministic, Mean: scenarios.Duration(cloudTime)}
	sc.Cloud[0].Batching = &scenarios.Batching{MaxBatch: 4, MaxWait: scenarios.Duration(maxWait)}
	sc.Link.RTT = scenarios.Duration(2*time.Millisecond + 2*829*time.Nanosecond)
	cfg.RequestBytes, cfg.ResponseBytes = 1013, 67
	// Busy enough that requests queue at the edge and share cloud batches.
	sc.Workload.Rate, sc.Requests = 250, 600
	cfg.Power = &profiles.Power{IdleW: 2, BusyW: 6, TransmitW: 3.5, ReceiveW: 2.5, BatteryWh: 37, Source: "test"}
	var edgeModels []*profiles.Model
	if mixed {
		slow := &profiles.Power{IdleW: 1, BusyW: 4, TransmitW: 2, BatteryWh: 10, Source: "test, slow"}
		sc.Edge = append(sc.Edge, scenarios.Edge{Name: "slow", Count: 2, Concurrency: 2, Rate: 180,
			Service: &scenarios.Service{Dist: scenarios.DistDeterministic, Mean: scenarios.Duration(2 * edgeTime)},
			Link:    &scenarios.Link{UplinkMbps: 3, RTT: scenarios.Duration(5*time.Millisecond + 2*313*time.Nanosecond)}})
		sc.Edge[0].Name = "fast"
		cfg.Uplink = func(i int) profiles.Link {
			if g, _ := sc.Edge.Of(i); g == 1 {
				return profiles.Constant(3)
			}
			return profiles.Constant(8)
		}
		cfg.EdgeSlowdowns = []float64{1, 2}
		cfg.Powers = []*profiles.Power{cfg.Power, slow}
		edgeModels = []*profiles.Model{nil, nil}
	}
	// The simulator replays each outcome's features; make them what the
	// fake edge model's logits give.
	for i := range cfg.Outcomes {
		o := &cfg.Outcomes[i]
		logits := make([]float32, cfg.Classes)
		fakeEdge{}.Run(logits, cfg.Input(o.Sample), 1)
		o.MaxProb, o.Margin, o.Entropy = offload.Features(logits)
	}
	arrivals, err := deploy.Schedule(sc, nil, []int{len(cfg.Outcomes)})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Arrivals = arrivals

	s, err := sim.New(sim.Config{Scenario: sc, Outcomes: cfg.Outcomes, Uplink: cfg.Uplink,
		NewPolicy: cfg.NewPolicy, RequestBytes: cfg.RequestBytes, ResponseBytes: cfg.ResponseBytes, Power: cfg.Power,
		Powers: cfg.Powers, EdgeModels: edgeModels})
	if err != nil {
		t.Fatal(err)
	}
	simmed := &keep{}
	simSum, err := s.Run(simmed)
	if err != nil {
		t.Fatal(err)
	}

	var realSum *deploy.Summary
	defer func(s time.Duration) { spin = s }(spin)
	spin = 0 // under the fake clock a deadline is met exactly: no yielding for it
	synctest.Test(t, func(t *testing.T) {
		srv, err := oip.NewServer(timedHeavy{}, oip.Config{Name: "heavy", Input: "x", Output: "y", SampleShape: []int64{3}, Classes: 3,
			MaxBatch: sc.Cloud[0].Batching.MaxBatch, MaxWait: sc.Cloud[0].Batching.MaxWait.D(), MaxQueue: 1 << 20, Registry: prometheus.NewRegistry()})
		if err != nil {
			t.Fatal(err)
		}
		defer srv.Close()
		cloud, err := oip.NewClient(context.Background(), "http://cloud", "heavy", &http.Client{Transport: inMemory{srv}})
		if err != nil {
			t.Fatal(err)
		}
		cfg.Cloud = cloud
		cfg.NewEdge = func(int) (Model, error) { return timedEdge{}, nil }
		realSum = runChecked(t, cfg)
	})
	// Both drivers price their stage times by one rule, so where the times
	// agree the energy does.
	if e, w := realSum.Energy, simSum.Energy; e == nil || w == nil {
		t.Errorf("energy: real %+v, simulated %+v", e, w)
	} else if d := e.Joules/w.Joules - 1; d > 1e-6 || d < -1e-6 || math.Abs(e.PerRequestMJ/w.PerRequestMJ-1) > 1e-6 {
		t.Errorf("energy: real %+v, simulated %+v", *e, *w)
	}
	if len(realSum.Groups) != len(simSum.Groups) || (mixed && len(simSum.Groups) != 2) || (!mixed && simSum.Groups != nil) {
		t.Fatalf("groups: real %+v, simulated %+v", realSum.Groups, simSum.Groups)
	}
	for i, w := range simSum.Groups {
		g := realSum.Groups[i]
		if g.Name != w.Name || g.Devices != w.Devices || g.Requests != w.Requests || g.Completed != w.Completed || g.OffloadRate != w.OffloadRate ||
			math.Abs(g.LatencyMS.Mean-w.LatencyMS.Mean) > 1e-3 || math.Abs(g.Energy.Joules/w.Energy.Joules-1) > 1e-6 {
			t.Errorf("group %d: real %+v, simulated %+v", i, g, w)
		}
	}
	if mixed {
		fast, slow := simSum.Groups[0], simSum.Groups[1]
		if fast.Requests+slow.Requests != simSum.Requests || slow.Energy.MeanPowerW >= fast.Energy.MeanPowerW ||
			simSum.Energy == nil || simSum.Energy.Source != "per group (see groups)" {
			t.Errorf("groups %+v and %+v of a fleet of %d requests, energy %+v", fast, slow, simSum.Requests, simSum.Energy)
		}
		t.Logf("fast: %d requests, mean %.3f ms; slow: %d requests, mean %.3f ms", fast.Requests, fast.LatencyMS.Mean, slow.Requests, slow.LatencyMS.Mean)
	}

	if len(simmed.recs) != len(k.recs) {
		t.Fatalf("%d simulated records, %d real", len(simmed.recs), len(k.recs))
	}
	real := map[uint64]deploy.Record{}
	for _, r := range k.recs {
		real[r.ID] = r
	}
	// The server reports its times in float milliseconds.
	const tol = time.Microsecond
	batched, edgeQueued := 0, 0
	for _, want := range simmed.recs {
		got, ok := real[want.ID]
		if !ok {
			t.Fatalf("request %d: simulated, never run", want.ID)
		}
		if got.Decision != want.Decision || got.Batch != want.Batch || got.Correct != want.Correct || got.Status != want.Status {
			t.Errorf("request %d: decision %v batch %d correct %v status %v, simulated %v %d %v %v",
				want.ID, got.Decision, got.Batch, got.Correct, got.Status, want.Decision, want.Batch, want.Correct, want.Status)
		}
		if want.Batch > 1 {
			batched++
		}
		if want.EdgeQueue > 0 {
			edgeQueued++
		}
		for _, st := range []struct {
			name      string
			got, want time.Duration
		}{
			{"arrival", got.Arrival, want.Arrival}, {"edge queue", got.EdgeQueue, want.EdgeQueue}, {"edge", got.Edge, want.Edge},
			{"uplink", got.Uplink, want.Uplink}, {"cloud queue", got.CloudQueue, want.CloudQueue}, {"cloud", got.Cloud, want.Cloud},
		} {
			if d := st.got - st.want; d > tol || d < -tol {
				t.Errorf("request %d: %s %v, simulated %v", want.ID, st.name, st.got, st.want)
			}
		}
	}
	// Answers of one batch for one device join its downlink at the same
	// instant, the simulator's in batch order, the fleet's in whatever
	// order their goroutines wake: a tie either order settles. Each such
	// group must hold the same downlink times and latencies.
	type group struct {
		device int
		at     time.Duration // the batch's end, to the microsecond
	}
	downs := map[group][2][]time.Duration{}
	for _, want := range simmed.recs {
		got := real[want.ID]
		if want.Decision != offload.Cloud {
			if d := got.Latency - want.Latency; d > tol || d < -tol {
				t.Errorf("request %d: latency %v, simulated %v", want.ID, got.Latency, want.Latency)
			}
			continue
		}
		end := want.Arrival + want.EdgeQueue + want.Edge + want.Uplink + want.CloudQueue + want.Cloud
		g := group{want.Device, end.Round(time.Microsecond)}
		d := downs[g]
		d[0] = append(d[0], want.Downlink, want.Latency-(end-want.Arrival))
		d[1] = append(d[1], got.Downlink, got.Latency-(end-want.Arrival))
		downs[g] = d
	}
	for g, d := range downs {
		slices.Sort(d[0])
		slices.Sort(d[1])
		for i := range d[0] {
			if diff := d[1][i] - d[0][i]; diff > tol || diff < -tol {
				t.Errorf("device %d, batch ending at %v: downlink and rest of latency %v, simulated %v", g.device, g.at, d[1], d[0])
				break
			}
		}
	}
	t.Logf("%d requests, %d of them in cloud batches of more than one, %d queued at the edge", len(simmed.recs), batched, edgeQueued)
	if batched == 0 || edgeQueued == 0 {
		t.Error("no request shared a cloud batch or waited for its edge device: the test does not reach those rules")
	}
}
