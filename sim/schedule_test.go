package sim

import (
	"github.com/tandem-edge/tandem/deploy"
	"testing"
	"time"

	"github.com/tandem-edge/tandem/scenarios"
)

// scheduleRecorder keeps each simulated request's device, arrival and sample.
type scheduleRecorder struct{ got []deploy.Arrival }

func (r *scheduleRecorder) Record(rec *deploy.Record) error {
	r.got = append(r.got, deploy.Arrival{ID: rec.ID, Device: rec.Device, At: rec.Arrival, Outcome: rec.Sample})
	return nil
}

// TestScheduleMatchesTheSimulator checks that deploy.Schedule gives the requests a
// simulation of the same scenario makes: same ids, devices, times and
// samples, for every arrival process, bounded by requests or by duration.
func TestScheduleMatchesTheSimulator(t *testing.T) {
	for _, arrival := range []string{scenarios.ArrivalPoisson, scenarios.ArrivalPeriodic, scenarios.ArrivalMMPP, scenarios.ArrivalTrace} {
		for _, byDuration := range []bool{false, true} {
			name := arrival
			if byDuration {
				name += "/duration"
			}
			t.Run(name, func(t *testing.T) {
				sc := baseScenario()
				sc.Seed, sc.Requests, sc.Edge[0].Count = 7, 200, 50
				sc.Workload = scenarios.Workload{Arrival: arrival, Rate: 20}
				cfg := Config{Scenario: sc, Outcomes: testOutcomes(300, 1)}
				if arrival == scenarios.ArrivalMMPP {
					sc.Workload.BurstRate, sc.Workload.BurstMean, sc.Workload.NormalMean = 200, scenarios.Duration(50*time.Millisecond), scenarios.Duration(time.Second)
				}
				if arrival == scenarios.ArrivalTrace {
					cfg.Arrivals = []time.Duration{0, 3 * time.Millisecond, 40 * time.Millisecond, 41 * time.Millisecond, 90 * time.Millisecond}
				}
				if byDuration {
					sc.Requests, sc.Duration = 0, scenarios.Duration(2*time.Second)
				}
				s, err := New(cfg)
				if err != nil {
					t.Fatal(err)
				}
				var rec scheduleRecorder
				if _, err := s.Run(&rec); err != nil {
					t.Fatal(err)
				}
				want := make(map[uint64]deploy.Arrival, len(rec.got))
				for _, a := range rec.got {
					want[a.ID] = a
				}
				got, err := deploy.Schedule(sc, cfg.Arrivals, []int{len(cfg.Outcomes)})
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != len(want) {
					t.Fatalf("%d arrivals scheduled, the simulator had %d", len(got), len(want))
				}
				for _, a := range got {
					w := want[a.ID]
					// deploy.Record.Sample is the outcome's sample index; the test
					// bundle's outcomes are numbered by position.
					if a != w {
						t.Fatalf("arrival %d: scheduled %+v, simulated %+v", a.ID, a, w)
					}
				}
			})
		}
	}
}

// TestScheduleMatchesTheSimulatorApps checks the same for a fleet of two
// applications: each arrival replays an outcome of its own group's
// application, the one the simulator's request replays.
func TestScheduleMatchesTheSimulatorApps(t *testing.T) {
	sc := baseScenario()
	sc.Seed, sc.Requests = 3, 300
	sc.Edge = scenarios.EdgeGroups{{Name: "a", Count: 4, Concurrency: 1, Service: fixed(time.Millisecond)}, {Name: "b", Count: 3, Concurrency: 1, Service: fixed(time.Millisecond)}}
	sc.Workload = scenarios.Workload{Arrival: scenarios.ArrivalPoisson, Rate: 20}
	second := testOutcomes(70, 2)
	for i := range second {
		second[i].Sample += 1000
	}
	cfg := Config{Scenario: sc, GroupApps: []int{0, 1}, Apps: []App{{Outcomes: testOutcomes(300, 1)}, {Outcomes: second}}}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var rec scheduleRecorder
	if _, err := s.Run(&rec); err != nil {
		t.Fatal(err)
	}
	got, err := deploy.Schedule(sc, nil, []int{300, 70})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(rec.got) {
		t.Fatalf("%d arrivals scheduled, the simulator had %d", len(got), len(rec.got))
	}
	want := make(map[uint64]deploy.Arrival, len(rec.got))
	for _, a := range rec.got {
		want[a.ID] = a
	}
	for _, a := range got {
		if a.Device >= 4 {
			a.Outcome = second[a.Outcome].Sample
		}
		if w := want[a.ID]; a != w {
			t.Fatalf("arrival %d: scheduled %+v, simulated %+v", a.ID, a, w)
		}
	}
	if _, err := deploy.Schedule(sc, nil, []int{300, 70, 5}); err == nil {
		t.Error("three outcome counts for two groups: no error")
	}
}
