package sim

import (
	"testing"
	"time"

	"github.com/tandem-edge/tandem/profiles"
)

// TestProfileMeasurements checks that the simulator charges what a request
// pays: the edge model's cold latency when a device's requests come far
// apart, its warm one when they come back to back, and the serving path's
// overhead over the scenario's protocol on every cloud request; and that
// the summary says which.
func TestProfileMeasurements(t *testing.T) {
	ms := time.Millisecond
	edge := &profiles.Model{Name: "e", Latency: ms, Cold: &profiles.ColdLatency{Gap: 100 * ms, Latency: 3 * ms, Runs: 1}}
	cloud := &profiles.Model{Name: "c", Latency: 4 * ms, Serving: []profiles.Serving{
		{Protocol: profiles.ProtocolBinary, Latency: 5 * ms, Runs: 1},
		{Protocol: profiles.ProtocolJSON, Latency: 7 * ms, Runs: 1},
	}}
	cases := []struct {
		name                string
		rate                float64 // requests per second of the one device
		protocol            string
		wantEdge, wantCloud time.Duration
		wantSource          string
	}{
		{"rare requests, binary", 5, profiles.ProtocolBinary, 3 * ms, 5 * ms, "cold"},
		{"rare requests, json", 5, profiles.ProtocolJSON, 3 * ms, 7 * ms, "cold"},
		{"back to back", 2000, profiles.ProtocolBinary, ms, 5 * ms, "warm"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sc := baseScenario()
			sc.Requests = 200
			sc.Workload.Rate = tc.rate
			sc.Edge.Service, sc.Cloud.Service = nil, nil
			sc.Cloud.Protocol = tc.protocol
			sc.Policy.Kind = "random"
			sc.Policy.P = 0.5
			var c collect
			sum := run(t, Config{Scenario: sc, Outcomes: testOutcomes(50, 1), EdgeModel: edge, CloudModel: cloud,
				Uplink: fastLink, RequestBytes: 1, Tracer: nil}, &c)
			var offloaded int
			for _, r := range c.recs {
				if r.Edge != 0 && r.Edge != tc.wantEdge {
					t.Fatalf("request %d: edge %v, want %v", r.ID, r.Edge, tc.wantEdge)
				}
				if r.Cloud != 0 {
					offloaded++
					if r.Cloud != tc.wantCloud {
						t.Fatalf("request %d: cloud %v, want %v", r.ID, r.Cloud, tc.wantCloud)
					}
				}
			}
			if offloaded == 0 {
				t.Fatal("no request reached the cloud")
			}
			if s := sum.Service; s == nil || s.Edge != tc.wantSource || s.Cloud != "serving" || s.Protocol != tc.protocol {
				t.Errorf("summary service %+v, want edge %s, cloud serving over %s", s, tc.wantSource, tc.protocol)
			}
		})
	}
}
