package sim

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/tandem-edge/tandem/scenarios"
)

// TestPoolsServeTheirGroups sends two edge groups to two cloud pools: each
// request is served by its group's pool at that pool's service time, a
// loaded pool's queue does not reach the other's requests, and the summary
// breaks the cloud down per pool.
func TestPoolsServeTheirGroups(t *testing.T) {
	sc := baseScenario()
	sc.Requests = 6000
	sc.Policy = scenarios.Policy{Kind: scenarios.PolicyCloudOnly}
	sc.Workload.Rate = 50
	sc.Edge = scenarios.EdgeGroups{
		{Name: "near", Count: 4, Concurrency: 1, Cloud: "regional"},
		{Name: "far", Count: 4, Concurrency: 1, Cloud: "central"},
	}
	sc.Cloud = scenarios.CloudPools{
		{Name: "central", Servers: 1, Service: fixed(4 * time.Millisecond)},
		{Name: "regional", Servers: 4, Service: fixed(time.Millisecond)},
	}
	if sc.PoolOf(0) != 1 || sc.PoolOf(1) != 0 {
		t.Fatalf("pools of the groups: %d, %d", sc.PoolOf(0), sc.PoolOf(1))
	}
	cfg := Config{Scenario: sc, GroupApps: []int{0, 1}, Uplink: fastLink, Apps: []App{
		{Outcomes: testOutcomes(100, 1), RequestBytes: 100, ResponseBytes: 10, Pool: 1},
		{Outcomes: testOutcomes(100, 1), RequestBytes: 100, ResponseBytes: 10, Pool: 0},
	}}
	c := &collect{}
	sum := run(t, cfg, c)
	var queued [2]time.Duration
	var n [2]int
	var busy [2]time.Duration
	for _, r := range c.recs {
		g := r.Device / 4
		want := []time.Duration{time.Millisecond, 4 * time.Millisecond}[g]
		if r.Cloud != want {
			t.Fatalf("request %d of group %d: cloud %v, want its pool's %v", r.ID, g, r.Cloud, want)
		}
		queued[g] += r.CloudQueue
		n[g]++
		busy[g] += r.Cloud
	}
	// 200 requests a second: the central server is 80% busy, the four
	// regional ones 5%.
	if near, far := queued[0]/time.Duration(n[0]), queued[1]/time.Duration(n[1]); near > 100*time.Microsecond || far < time.Millisecond {
		t.Errorf("mean cloud queue %v near, %v far: want the regional pool unqueued and the central one queueing", near, far)
	}
	if len(sum.Clouds) != 2 || sum.Clouds[0].Name != "central" || sum.Clouds[1].Servers != 4 {
		t.Fatalf("clouds %+v", sum.Clouds)
	}
	span := float64(sum.Completed) / sum.ThroughputRPS
	for p, g := range []int{1, 0} {
		want := busy[g].Seconds() / (float64(sc.Cloud[p].Servers) * span)
		if got := sum.Clouds[p].Utilization; math.Abs(got-want) > 1e-9 {
			t.Errorf("pool %s: utilization %v, want %v", sum.Clouds[p].Name, got, want)
		}
	}
	if want := (busy[0] + busy[1]).Seconds() / (5 * span); math.Abs(sum.Utilization.Cloud-want) > 1e-9 {
		t.Errorf("cloud utilization %v, want %v over the five servers", sum.Utilization.Cloud, want)
	}
}

// TestPoolsFromAFile resolves a scenario whose groups name their pools, and
// checks that one naming the first pool simulates as one naming none.
func TestPoolsFromAFile(t *testing.T) {
	const body = `name: pools
seed: 1
requests: 3000
bundle: builtin:fashion
workload: {arrival: poisson, rate: 10}
link: {uplink_mbps: 10, rtt: 20ms}
cloud:
  - {name: regional, servers: 1, device: server-cpu}
  - {name: central, servers: 2, device: server-cpu, batching: {max_batch: 4, max_wait: 2ms}}
policy: {kind: learned}
edge:
  - {name: a, count: 5, device: edge-cpu-1t%s}
  - {name: b, count: 5, device: edge-cpu-1t, cloud: central}
`
	simulate := func(extra string) []byte {
		sum, js := simulateFile(t, fmt.Sprintf(body, extra))
		if len(sum.Clouds) != 2 || sum.Clouds[0].Name != "regional" || !(sum.Clouds[0].Utilization > 0) || !(sum.Clouds[1].Utilization > 0) {
			t.Errorf("clouds %+v: want both pools busy", sum.Clouds)
		}
		return js
	}
	if a, b := simulate(""), simulate(", cloud: regional"); string(a) != string(b) {
		t.Errorf("naming the first pool changed the run:\n%s\n%s", a, b)
	}
}
