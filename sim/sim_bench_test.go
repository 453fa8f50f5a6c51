package sim

import (
	"testing"
	"time"

	"github.com/tandem-edge/tandem/profiles"
	"github.com/tandem-edge/tandem/scenarios"
)

const (
	benchDevices = 1000
	benchRate    = 20 // requests per second per device
)

// benchConfig is a fleet of devices with the threshold policy offloading
// about half the requests to a batching cloud; the profiles vary by 5% run
// to run.
func benchConfig(devices, requests int) Config {
	edge := &profiles.Model{Name: "edge", Latency: 5 * time.Millisecond, Spread: 0.05}
	heavy := &profiles.Model{Name: "heavy", Latency: 2 * time.Millisecond, Spread: 0.05,
		Batches: []profiles.BatchPoint{{Size: 1, Latency: 2 * time.Millisecond}, {Size: 16, Latency: 8 * time.Millisecond}}}
	sc := &scenarios.Scenario{
		Name:     "bench",
		Seed:     1,
		Requests: requests,
		Workload: scenarios.Workload{Arrival: scenarios.ArrivalPoisson, Rate: benchRate},
		Edge:     scenarios.Edge{Count: devices, Concurrency: 1},
		Link:     scenarios.Link{RTT: scenarios.Duration(20 * time.Millisecond), RequestBytes: 3136, ResponseBytes: 64},
		Cloud: scenarios.Cloud{Servers: max(1, 16*devices/benchDevices),
			Batching: &scenarios.Batching{MaxBatch: 16, MaxWait: scenarios.Duration(2 * time.Millisecond)}},
		Policy: scenarios.Policy{Kind: "threshold", Feature: "max_prob", Threshold: 0.5},
	}
	return Config{
		Scenario: sc, Outcomes: testOutcomes(10000, 1),
		EdgeModel: edge, CloudModel: heavy,
		Uplink: func(int) profiles.Link { return constLink{mbps: 20} },
	}
}

// benchSim simulates b.N requests; an op is one simulated request.
func benchSim(b *testing.B, devices int) {
	s, err := New(benchConfig(devices, b.N))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime()
	sum, err := s.Run(nil)
	cpu = cpuTime() - cpu
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "requests/s")
	if cpu > 0 {
		b.ReportMetric(float64(b.N)/cpu.Seconds(), "requests/cpu-s")
	}
	b.ReportMetric(float64(sum.Events)/float64(b.N), "events/request")
}

func BenchmarkSimManyDevices(b *testing.B) { benchSim(b, benchDevices) }
func BenchmarkSimOneDevice(b *testing.B)   { benchSim(b, 1) }
