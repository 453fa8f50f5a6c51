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
		Edge:     scenarios.EdgeGroups{{Count: devices, Concurrency: 1}},
		Link:     scenarios.Link{RTT: scenarios.Duration(20 * time.Millisecond), RequestBytes: 3136, ResponseBytes: 64},
		Cloud: scenarios.CloudPools{{Servers: max(1, 16*devices/benchDevices),
			Batching: &scenarios.Batching{MaxBatch: 16, MaxWait: scenarios.Duration(2 * time.Millisecond)}}},
		Policy: scenarios.Policy{Kind: "threshold", Feature: "max_prob", Threshold: 0.5},
	}
	return Config{
		Scenario: sc, Outcomes: testOutcomes(10000, 1),
		EdgeModel: edge, CloudModel: heavy,
		Uplink: func(int) profiles.Link { return constLink{mbps: 20} },
	}
}

// withCold gives both models of cfg a cold curve of five points, as
// tandem profile measures them, so that every run is charged its idle
// penalty.
func withCold(cfg Config) Config {
	curve := func(m *profiles.Model) *profiles.Model {
		c := *m
		for i, gap := range []time.Duration{1, 3, 10, 30, 100} {
			c.Cold = append(c.Cold, profiles.ColdLatency{Gap: gap * time.Millisecond, Latency: m.Latency * time.Duration(10+i) / 10, Runs: 40})
		}
		return &c
	}
	cfg.EdgeModel, cfg.CloudModel = curve(cfg.EdgeModel), curve(cfg.CloudModel)
	return cfg
}

// benchSim simulates b.N requests; an op is one simulated request.
func benchSim(b *testing.B, devices int) { benchRun(b, benchConfig(devices, b.N)) }

func benchRun(b *testing.B, cfg Config) {
	s, err := New(cfg)
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

// BenchmarkSimManyDevicesCold is BenchmarkSimManyDevices with the models'
// cold curves: what charging every run its idle penalty costs.
func BenchmarkSimManyDevicesCold(b *testing.B) {
	benchRun(b, withCold(benchConfig(benchDevices, b.N)))
}

// BenchmarkSimManyDevicesColdServing is BenchmarkSimManyDevicesCold with
// the serving path's cold curve as well: what taking each batch's serving
// overhead after its server's idle time costs.
func BenchmarkSimManyDevicesColdServing(b *testing.B) {
	cfg := withCold(benchConfig(benchDevices, b.N))
	c := *cfg.CloudModel
	sv := profiles.Serving{Protocol: profiles.ProtocolBinary, Latency: c.Latency * 3 / 2, Runs: 200}
	for _, p := range c.Cold {
		sv.Cold = append(sv.Cold, profiles.ColdLatency{Gap: p.Gap, Latency: p.Latency * 2, Runs: 40})
	}
	c.Serving = []profiles.Serving{sv}
	cfg.CloudModel = &c
	cfg.Scenario.Cloud[0].Protocol = profiles.ProtocolBinary
	benchRun(b, cfg)
}

// BenchmarkSimManyDevicesMixed is BenchmarkSimManyDevices as a fleet of two
// groups of devices (their own concurrency and rate) with power figures:
// what per-group figures and energy accounting cost.
func BenchmarkSimManyDevicesMixed(b *testing.B) {
	cfg := benchConfig(benchDevices, b.N)
	sc := cfg.Scenario
	sc.Edge = halves(sc.Edge[0], "one-slot", "two-slot")
	sc.Edge[1].Concurrency, sc.Edge[1].Rate = 2, benchRate/2
	cfg.Power = &profiles.Power{IdleW: 2.7, BusyW: 6.4, TransmitW: 3, ReceiveW: 2.9, BatteryWh: 37, Source: "bench"}
	benchRun(b, cfg)
}

// BenchmarkSimManyDevicesApps is BenchmarkSimManyDevices as two
// applications, half the fleet each, sharing the cloud pool: what a queue
// per application at the cloud costs.
func BenchmarkSimManyDevicesApps(b *testing.B) {
	cfg := benchConfig(benchDevices, b.N)
	cfg.Scenario.Edge = halves(cfg.Scenario.Edge[0], "a", "b")
	heavyB := *cfg.CloudModel
	heavyB.Name = "heavy-b"
	cfg.Apps = []App{
		{Outcomes: cfg.Outcomes, CloudModel: cfg.CloudModel},
		{Outcomes: testOutcomes(10000, 2), CloudModel: &heavyB},
	}
	cfg.GroupApps = []int{0, 1}
	benchRun(b, cfg)
}

// halves is the group e as two groups of half its devices, named a and b.
func halves(e scenarios.Edge, a, b string) scenarios.EdgeGroups {
	e.Count /= 2
	g := scenarios.EdgeGroups{e, e}
	g[0].Name, g[1].Name = a, b
	return g
}
