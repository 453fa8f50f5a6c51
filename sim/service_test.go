package sim

import (
	"testing"
	"time"

	"github.com/tandem-edge/tandem/profiles"
)

// TestProfileMeasurements checks that the simulator charges what a request
// pays: the edge model's cold penalty after its device idled, none when its
// requests come back to back, the serving path's overhead over the
// scenario's protocol on every cloud request, and the server's own cold
// penalty; and that the summary says so.
func TestProfileMeasurements(t *testing.T) {
	ms := time.Millisecond
	cold := []profiles.ColdLatency{{Gap: 10 * ms, Latency: 2 * ms, Runs: 1}, {Gap: 100 * ms, Latency: 3 * ms, Runs: 1}}
	edge := &profiles.Model{Name: "e", Latency: ms, Cold: cold}
	cloud := &profiles.Model{Name: "c", Latency: 4 * ms, Serving: []profiles.Serving{
		{Protocol: profiles.ProtocolBinary, Latency: 5 * ms, Runs: 1},
		{Protocol: profiles.ProtocolJSON, Latency: 7 * ms, Runs: 1},
	}}
	coldCloud := *cloud
	coldCloud.Cold = []profiles.ColdLatency{{Gap: 100 * ms, Latency: 6 * ms, Runs: 1}}
	// The serving path goes cold too: 10 ms after 100 ms idle, of which the
	// model's cold run is 6.
	coldServing := coldCloud
	coldServing.Serving = []profiles.Serving{{Protocol: profiles.ProtocolBinary, Latency: 5 * ms, Runs: 1,
		Cold: []profiles.ColdLatency{{Gap: 100 * ms, Latency: 10 * ms, Runs: 1}}}}
	cases := []struct {
		name                string
		rate                float64 // periodic requests per second of each of the two devices
		policy              string
		cloud               *profiles.Model
		protocol            string
		wantEdge, wantCloud time.Duration
		wantEdgeIdle        float64
	}{
		// 500 ms apart, at least 100 ms idle: the whole cold penalty.
		{"rare requests, binary", 2, "random", cloud, profiles.ProtocolBinary, 3 * ms, 5 * ms, 2},
		{"rare requests, json", 2, "random", cloud, profiles.ProtocolJSON, 3 * ms, 7 * ms, 2},
		// Requests queue behind each other: no idle time, no penalty.
		{"back to back", 4000, "random", cloud, profiles.ProtocolBinary, ms, 5 * ms, 0},
		// The server idles between the requests of two devices a second
		// apart: its own penalty, 2 ms, on the 1 ms serving overhead.
		{"cold server", 1, "cloud-only", &coldCloud, profiles.ProtocolBinary, 0, 7 * ms, 0},
		// And its serving path's: 4 ms of overhead after idling, not 1.
		{"cold serving path", 1, "cloud-only", &coldServing, profiles.ProtocolBinary, 0, 10 * ms, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sc := baseScenario()
			sc.Requests = 100
			sc.Edge[0].Count = 2
			sc.Workload.Arrival, sc.Workload.Rate = "periodic", tc.rate
			sc.Edge[0].Service, sc.Cloud[0].Service = nil, nil
			sc.Cloud[0].Protocol = tc.protocol
			sc.Policy.Kind, sc.Policy.P = tc.policy, 0.5
			var c collect
			sum := run(t, Config{Scenario: sc, Outcomes: testOutcomes(50, 1), EdgeModel: edge, CloudModel: tc.cloud,
				Uplink: fastLink, RequestBytes: 1}, &c)
			seen := map[int]bool{}
			var offloaded int
			for _, r := range c.recs {
				first := !seen[r.Device] // its device idled only since the start
				seen[r.Device] = true
				if !first && r.Edge != tc.wantEdge {
					t.Fatalf("request %d: edge %v, want %v", r.ID, r.Edge, tc.wantEdge)
				}
				if r.Cloud != 0 && !first {
					offloaded++
					if r.Cloud != tc.wantCloud {
						t.Fatalf("request %d: cloud %v, want %v", r.ID, r.Cloud, tc.wantCloud)
					}
				}
			}
			if offloaded == 0 {
				t.Fatal("no request reached the cloud")
			}
			s := sum.Service
			if s == nil || s.Cloud != "serving" || s.Protocol != tc.protocol {
				t.Fatalf("summary service %+v, want cloud serving over %s", s, tc.protocol)
			}
			if cold := tc.cloud.Serving[0].Cold != nil; cold != (s.CloudOverheadIdleMS > 0) {
				t.Errorf("summary service %+v: serving cold curve %v, overhead charged for idling %g ms", s, cold, s.CloudOverheadIdleMS)
			}
			if tc.policy != "cloud-only" && (s.Edge != "profile" || s.EdgeMS != 1 || s.EdgeIdleMS < tc.wantEdgeIdle*0.95 || s.EdgeIdleMS > tc.wantEdgeIdle+0.05) {
				t.Errorf("summary service %+v, want edge profile at 1 ms, idle penalty about %g ms", s, tc.wantEdgeIdle)
			}
		})
	}
}

// TestServingOverheadBesideTheBatch checks that the serving path's
// overhead delays a request's answer but not the next batch: the server's
// handlers decode and encode beside the model, whose slot is free as soon
// as the batch has run.
func TestServingOverheadBesideTheBatch(t *testing.T) {
	ms := time.Millisecond
	cloud := &profiles.Model{Name: "c", Latency: 4 * ms, Serving: []profiles.Serving{{Protocol: profiles.ProtocolBinary, Latency: 5 * ms, Runs: 1}}}
	sc := baseScenario()
	sc.Requests = 40
	sc.Edge[0].Count = 1
	sc.Workload.Arrival, sc.Workload.Rate = "periodic", 1000 // 1 ms apart: the server is always busy
	sc.Cloud[0].Service = nil
	sc.Cloud[0].Protocol = profiles.ProtocolBinary
	sc.Policy.Kind = "cloud-only"
	var c collect
	run(t, Config{Scenario: sc, Outcomes: testOutcomes(50, 1), CloudModel: cloud, Uplink: fastLink, RequestBytes: 1}, &c)
	for _, r := range c.recs {
		if r.Cloud != 5*ms {
			t.Fatalf("request %d: cloud %v, want the 4 ms run and the 1 ms overhead", r.ID, r.Cloud)
		}
	}
	// Requests come every 1 ms and the model takes 4: the queue grows by
	// 3 ms a request, not by the 4 it would if the overhead held the slot.
	last := c.recs[len(c.recs)-1]
	if want := time.Duration(len(c.recs)-1) * 3 * ms; last.CloudQueue < want-ms || last.CloudQueue > want+ms {
		t.Errorf("the last request queued %v, want about %v", last.CloudQueue, want)
	}
}
