package plan

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/tandem-edge/tandem/scenarios"
)

// queue is one device answering alone with exponential service of mean
// 10 ms: an M/M/1 queue, whose time in system is exponential with rate
// μ − λ, so its p95 is ln 20 / (μ − λ).
const queue = `name: mm1
seed: 1
requests: 40000
bundle: builtin:fashion
workload: {arrival: poisson, rate: 20}
edge: {count: 1, device: edge-cpu-1t, service: {dist: exponential, mean: 10ms}}
link: {uplink_mbps: 100, rtt: 0s}
cloud: {servers: 1, device: server-cpu, service: {dist: exponential, mean: 10ms}}
policy: {kind: edge-only}
`

func scenario(t *testing.T, y string) *scenarios.Scenario {
	t.Helper()
	s, err := scenarios.Decode("q.yaml", []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestLargestRate(t *testing.T) {
	slo, err := ParseSLO("p95=100ms")
	if err != nil {
		t.Fatal(err)
	}
	res, err := Search(Config{Scenario: scenario(t, queue), Key: "workload.rate", Lo: 1, Hi: 99, SLOs: []SLO{slo}})
	if err != nil {
		t.Fatal(err)
	}
	// p95 ≤ 100 ms ⇔ μ − λ ≥ 10·ln 20 ⇔ λ ≤ 100 − 29.96.
	want := 100 - 10*math.Log(20)
	got := parse(t, res.Value)
	if res.Direction != "largest" || math.Abs(got-want)/want > 0.08 {
		t.Errorf("largest rate %s (%s), want about %.1f", res.Value, res.Direction, want)
	}
	if res.At == nil || !slo.Met(res.At) {
		t.Errorf("the answer's run misses the objective: %+v", res.At)
	}
	if len(res.Steps) > 12 {
		t.Errorf("%d simulations for 1%%, want bisection's few", len(res.Steps))
	}
}

func TestSmallestServers(t *testing.T) {
	// 250 requests/s of 10 ms each need at least 3 servers to keep up.
	y := strings.NewReplacer("rate: 20", "rate: 250", "kind: edge-only", "kind: cloud-only").Replace(queue)
	slo, _ := ParseSLO("mean=20ms")
	res, err := Search(Config{Scenario: scenario(t, y), Key: "cloud.servers", Lo: 1, Hi: 16, SLOs: []SLO{slo}})
	if err != nil {
		t.Fatal(err)
	}
	n := parse(t, res.Value)
	if res.Direction != "smallest" || n < 3 || n > 5 {
		t.Fatalf("smallest servers %s (%s)", res.Value, res.Direction)
	}
	// One server fewer misses it: the search saw it, or saw a smaller
	// count miss.
	missed := false
	for _, s := range res.Steps {
		if parse(t, s.Value) < n && !s.Met {
			missed = true
		}
		if parse(t, s.Value) < n && s.Met {
			t.Errorf("%s servers met the objective, yet the answer is %s", s.Value, res.Value)
		}
	}
	if !missed {
		t.Errorf("no step below %s missed the objective: %+v", res.Value, res.Steps)
	}
}

func TestEverywhereAndNowhere(t *testing.T) {
	for _, tc := range []struct{ slo, want string }{{"p95=10s", "everywhere"}, {"p95=1us", "nowhere"}} {
		slo, _ := ParseSLO(tc.slo)
		res, err := Search(Config{Scenario: scenario(t, queue), Key: "workload.rate", Lo: 1, Hi: 50, SLOs: []SLO{slo}})
		if err != nil {
			t.Fatal(err)
		}
		if res.Direction != tc.want || len(res.Steps) != 2 {
			t.Errorf("%s: %s after %d steps, want %s after 2", tc.slo, res.Direction, len(res.Steps), tc.want)
		}
	}
}

func TestSearchErrors(t *testing.T) {
	slo, _ := ParseSLO("p95=100ms")
	cases := []struct {
		key  string
		slos []SLO
		want string
	}{
		{"workload.rate", nil, "no objective"},
		{"policy.kind", []SLO{slo}, `policy.kind is "edge-only" in the scenario; plan varies a positive number`},
		{"edge", []SLO{slo}, "edge is a section, not a value"},
	}
	for _, tc := range cases {
		if _, err := Search(Config{Scenario: scenario(t, queue), Key: tc.key, SLOs: tc.slos}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Search(%s): %v, want %q", tc.key, err, tc.want)
		}
	}
}

func TestParseSLO(t *testing.T) {
	cases := []struct {
		in   string
		want SLO
		err  string
	}{
		{"p95=100ms", SLO{"p95", 100}, ""},
		{"mean = 1.5s", SLO{"mean", 1500}, ""},
		{"accuracy=0.92", SLO{"accuracy", 0.92}, ""},
		{"p95=100", SLO{}, "want a positive latency"},
		{"accuracy=92", SLO{}, "want a fraction"},
		{"p90=1s", SLO{}, `unknown metric "p90"`},
		{"p95", SLO{}, "want METRIC=LIMIT"},
	}
	for _, tc := range cases {
		got, err := ParseSLO(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseSLO(%q): %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseSLO(%q) = %+v, %v", tc.in, got, err)
		}
	}
}

func parse(t *testing.T, s string) float64 {
	t.Helper()
	var f float64
	if _, err := fmt.Sscan(s, &f); err != nil {
		t.Fatalf("value %q: %v", s, err)
	}
	return f
}
