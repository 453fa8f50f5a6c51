package sim

import (
	"errors"
	"github.com/tandem-edge/tandem/deploy"
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
	if EventKind(99).String() != "EventKind(99)" || State(99).String() != "State(99)" {
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

type failingRecorder struct{ after int }

func (f *failingRecorder) Record(*deploy.Record) error {
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
		{"no devices", edit(func(sc *scenarios.Scenario, c *Config) { sc.Edge[0].Count = 0 }), "edge count"},
		{"bad concurrency", edit(func(sc *scenarios.Scenario, c *Config) { sc.Edge[0].Concurrency = -1 }), "concurrency"},
		{"bad arrival", edit(func(sc *scenarios.Scenario, c *Config) { sc.Workload.Arrival = "bursty" }), "unknown arrival"},
		{"zero rate", edit(func(sc *scenarios.Scenario, c *Config) { sc.Workload.Rate = 0 }), "rate"},
		{"mmpp means", edit(func(sc *scenarios.Scenario, c *Config) { sc.Workload.Arrival = "mmpp" }), "normal_mean"},
		{"trace missing", edit(func(sc *scenarios.Scenario, c *Config) { sc.Workload.Arrival = "trace" }), "trace workload"},
		{"bad policy", edit(func(sc *scenarios.Scenario, c *Config) { sc.Policy.Kind = "coin" }), "device 0 policy"},
		{"learned", edit(func(sc *scenarios.Scenario, c *Config) { sc.Policy.Kind = "learned" }), "offloader"},
		{"bad dist", edit(func(sc *scenarios.Scenario, c *Config) { sc.Edge[0].Service.Dist = "gamma" }), "edge service"},
		{"no edge model", edit(func(sc *scenarios.Scenario, c *Config) { sc.Edge[0].Service = nil }), "no model profile"},
		{"no uplink", edit(func(sc *scenarios.Scenario, c *Config) { sc.Policy.Kind = "cloud-only"; c.Uplink = nil }), "no uplink"},
		{"no request size", edit(func(sc *scenarios.Scenario, c *Config) { sc.Policy.Kind = "cloud-only"; sc.Link.RequestBytes = 0 }), "request_bytes"},
		{"no servers", edit(func(sc *scenarios.Scenario, c *Config) { sc.Policy.Kind = "cloud-only"; sc.Cloud[0].Servers = 0 }), "cloud servers"},
		{"bad batching", edit(func(sc *scenarios.Scenario, c *Config) {
			sc.Policy.Kind = "cloud-only"
			sc.Cloud[0].Batching = &scenarios.Batching{MaxBatch: 0}
		}), "max_batch"},
		{"no cloud model", edit(func(sc *scenarios.Scenario, c *Config) { sc.Policy.Kind = "oracle"; sc.Cloud[0].Service = nil }), "cloud service"},
		{"model without latency", edit(func(sc *scenarios.Scenario, c *Config) {
			sc.Edge[0].Service = nil
			c.EdgeModel = &profiles.Model{Name: "empty"}
		}), "no latency"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !(strings.HasPrefix(err.Error(), "sim: ") || strings.HasPrefix(err.Error(), "deploy: ")) {
				t.Fatalf("New: %v, want a sim: or deploy: error about %q", err, tt.want)
			}
		})
	}
}

// TestEdgeOnlyNeedsNoCloud: an edge-only scenario runs with no links and
// no cloud model.
func TestEdgeOnlyNeedsNoCloud(t *testing.T) {
	sc := baseScenario()
	sc.Cloud = scenarios.CloudPools{{}}
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
		sc.Edge[0].Count = 10
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
