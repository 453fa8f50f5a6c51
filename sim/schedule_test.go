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
				got, err := deploy.Schedule(sc, cfg.Arrivals, len(cfg.Outcomes))
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
