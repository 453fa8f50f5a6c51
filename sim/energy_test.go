package sim

import (
	"math"
	"testing"

	"github.com/tandem-edge/tandem/profiles"
	"github.com/tandem-edge/tandem/scenarios"
)

// What a request costs a device above idle is its stage times priced by
// the device's power figures, whatever the arrivals.
func TestEnergyPricesTheStages(t *testing.T) {
	power := &profiles.Power{IdleW: 2, BusyW: 6, TransmitW: 3, ReceiveW: 2.5, BatteryWh: 10, Source: "test"}
	cases := []struct {
		policy       string
		perRequestMJ float64
	}{
		{"edge-only", 4 * 1},          // (6 − 2) W × 1 ms of edge model
		{"cloud-only", 1*1 + 0.5*0.5}, // (3 − 2) W × 1 ms up, (2.5 − 2) W × 0.5 ms down
	}
	for _, tc := range cases {
		t.Run(tc.policy, func(t *testing.T) {
			sc := baseScenario()
			sc.Edge[0].Count = 3
			sc.Policy.Kind = tc.policy
			sc.Link = scenarios.Link{RTT: 0, RequestBytes: 1000, ResponseBytes: 500}
			sum := run(t, Config{Scenario: sc, Outcomes: testOutcomes(50, 1), Power: power,
				Uplink: func(int) profiles.Link { return constLink{mbps: 8} }}, nil)
			e := sum.Energy
			if e == nil {
				t.Fatal("no energy in the summary")
			}
			if math.Abs(e.PerRequestMJ-tc.perRequestMJ) > 1e-6 {
				t.Errorf("%.6f mJ a request above idle, want %.6f", e.PerRequestMJ, tc.perRequestMJ)
			}
			span := e.IdleJ / (3 * power.IdleW)
			if sum.ThroughputRPS > 0 && math.Abs(span-float64(sum.Completed)/sum.ThroughputRPS) > 1e-9 {
				t.Errorf("idle energy over %.6f s, the run lasted %.6f s", span, float64(sum.Completed)/sum.ThroughputRPS)
			}
			if got := e.MeanPowerW * span * 3; math.Abs(got-e.Joules) > 1e-9 {
				t.Errorf("mean power × span × devices = %g J, total %g J", got, e.Joules)
			}
			// Each device's battery lasts its capacity at its own draw: the
			// mean life is at least the life at the mean draw (Jensen).
			if atMean := power.BatteryWh / e.MeanPowerW; e.BatteryHours < atMean-1e-9 || e.BatteryHoursMin > e.BatteryHours ||
				math.Abs(e.BatteryHoursMin-power.BatteryWh/e.MaxPowerW) > 1e-9 {
				t.Errorf("battery %g h (first flat after %g h), at the mean draw %g h", e.BatteryHours, e.BatteryHoursMin, atMean)
			}
		})
	}
}

// A run without power figures reports no energy, rather than zero.
func TestNoEnergyWithoutPower(t *testing.T) {
	if sum := run(t, Config{Scenario: baseScenario(), Outcomes: testOutcomes(50, 1)}, nil); sum.Energy != nil {
		t.Errorf("energy %+v", sum.Energy)
	}
}
