package sim

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tandem-edge/tandem/deploy"
	"github.com/tandem-edge/tandem/profiles"
	"github.com/tandem-edge/tandem/scenarios"
)

// TestApplicationsShareTheCloud runs two applications on two edge groups
// through one batching cloud pool: every request replays its own
// application's outcomes, crosses the links with its own bytes, and runs
// in a batch of its own application only, at its own model's time.
func TestApplicationsShareTheCloud(t *testing.T) {
	sc := &scenarios.Scenario{Name: "apps", Seed: 7, Requests: 4000,
		Workload: scenarios.Workload{Arrival: scenarios.ArrivalPoisson, Rate: 40},
		Edge:     scenarios.EdgeGroups{{Name: "a", Count: 3, Concurrency: 1}, {Name: "b", Count: 2, Concurrency: 1}},
		Cloud:    scenarios.CloudPools{{Servers: 2, Batching: &scenarios.Batching{MaxBatch: 8, MaxWait: scenarios.Duration(2 * time.Millisecond)}}},
		Policy:   scenarios.Policy{Kind: scenarios.PolicyCloudOnly},
	}
	second := testOutcomes(50, 2)
	for i := range second {
		second[i].Sample += 1000
	}
	perSample := []time.Duration{time.Millisecond, 3 * time.Millisecond}
	cfg := Config{Scenario: sc, GroupApps: []int{0, 1}, Uplink: fastLink, Apps: []App{
		{Outcomes: testOutcomes(100, 1), CloudModel: &profiles.Model{Name: "a", Latency: perSample[0]}, RequestBytes: 100, ResponseBytes: 10},
		{Outcomes: second, CloudModel: &profiles.Model{Name: "b", Latency: perSample[1]}, RequestBytes: 200, ResponseBytes: 20},
	}}
	c := &collect{}
	sum := run(t, cfg, c)
	if len(c.recs) != 4000 || len(sum.Groups) != 2 {
		t.Fatalf("%d records, %d groups", len(c.recs), len(sum.Groups))
	}
	batched := [2]bool{}
	for _, r := range c.recs {
		app := 0
		if r.Device >= 3 {
			app = 1
		}
		if (r.Sample >= 1000) != (app == 1) {
			t.Fatalf("request %d of device %d replays sample %d, not its application's", r.ID, r.Device, r.Sample)
		}
		// A batch of b requests of one application runs b times its
		// model's batch-1 time: another application's request in it
		// would show.
		if want := time.Duration(r.Batch) * perSample[app]; r.Cloud != want {
			t.Fatalf("request %d of application %d: cloud %v in a batch of %d, want %v", r.ID, app, r.Cloud, r.Batch, want)
		}
		batched[app] = batched[app] || r.Batch > 1
	}
	if !batched[0] || !batched[1] {
		t.Errorf("batches of more than one request: %v; the test needs both", batched)
	}
	if sum.Service.RequestBytes != 100 {
		t.Errorf("service request_bytes %d, want the first application's 100", sum.Service.RequestBytes)
	}
}

// TestGroupBundles resolves a scenario whose groups run the two built-in
// bundles: each group's figures are its own bundle's, and a group naming
// the scenario's own bundle is the scenario as if it named none.
func TestGroupBundles(t *testing.T) {
	const base = `name: two
seed: 1
requests: 4000
bundle: builtin:fashion
workload: {arrival: poisson, rate: 10}
link: {uplink_mbps: 10, rtt: 20ms}
cloud: {servers: 1, device: server-cpu}
policy: {kind: learned}
edge:
  - {name: clothes, count: 5, device: edge-cpu-1t%s}
  - {name: digits, count: 5, device: edge-cpu-1t, bundle: builtin:digits}
`
	simulate := func(extra string) []byte {
		sum, js := simulateFile(t, fmt.Sprintf(base, extra))
		if g := sum.Groups; len(g) != 2 || !(g[1].Accuracy > 0.98) || !(g[0].Accuracy < 0.96) {
			t.Errorf("groups %+v: want digits above 98%% and clothes below 96%%", g)
		}
		return js
	}
	if a, b := simulate(""), simulate(", bundle: builtin:fashion"); string(a) != string(b) {
		t.Errorf("naming the scenario's own bundle changed the run:\n%s\n%s", a, b)
	}
}

// simulateFile simulates the scenario file body and returns its summary,
// and the summary as JSON.
func simulateFile(t *testing.T, body string) (*deploy.Summary, []byte) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "scenario.yaml")
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	sc, err := scenarios.LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := Simulate(sc)
	if err != nil {
		t.Fatal(err)
	}
	js, err := json.Marshal(sum)
	if err != nil {
		t.Fatal(err)
	}
	return sum, js
}
