package deploy

import (
	"math"
	"testing"
	"time"

	"github.com/tandem-edge/tandem/profiles"
)

func TestEnergy(t *testing.T) {
	pi := &profiles.Power{IdleW: 2, BusyW: 6, TransmitW: 3, ReceiveW: 2.5, BatteryWh: 10, Source: "test"}
	cases := []struct {
		name string
		busy Busy
		want Energy
	}{
		{"edge only, one slot", Busy{Edge: []time.Duration{2 * time.Second, 4 * time.Second}, Slots: []int{1, 1}, Power: []*profiles.Power{pi, pi}},
			// idle 2 W × 10 s × 2 devices; compute (6−2) W × 6 s; the
			// devices draw 2.8 and 3.6 W.
			Energy{Joules: 64, IdleJ: 40, ComputeJ: 24, PerRequestMJ: 24e3 / 8, PerDeviceJ: 32, MeanPowerW: 3.2, MaxPowerW: 3.6,
				BatteryHours: (10/2.8 + 10/3.6) / 2, BatteryHoursMin: 10 / 3.6}},
		{"two slots, radio", Busy{Edge: []time.Duration{2 * time.Second}, Slots: []int{2},
			Uplink: []time.Duration{time.Second}, Downlink: []time.Duration{2 * time.Second}, Power: []*profiles.Power{pi}},
			// compute 4 W × 2 s / 2 slots; transmit 1 W × 1 s; receive 0.5 W × 2 s.
			Energy{Joules: 26, IdleJ: 20, ComputeJ: 4, TransmitJ: 1, ReceiveJ: 1, PerRequestMJ: 6e3 / 8, PerDeviceJ: 26,
				MeanPowerW: 2.6, MaxPowerW: 2.6, BatteryHours: 10 / 2.6, BatteryHoursMin: 10 / 2.6}},
		{"no battery, no radio figures", Busy{Edge: []time.Duration{time.Second}, Slots: []int{1},
			Uplink: []time.Duration{time.Second}, Downlink: []time.Duration{time.Second},
			Power: []*profiles.Power{{IdleW: 1, BusyW: 1.5, Source: "test"}}},
			Energy{Joules: 10.5, IdleJ: 10, ComputeJ: 0.5, PerRequestMJ: 0.5e3 / 8, PerDeviceJ: 10.5, MeanPowerW: 1.05, MaxPowerW: 1.05}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := &Summary{Requests: 8, Completed: 8}
			tc.busy.Fill(s, 10*time.Second)
			if s.Energy == nil {
				t.Fatal("no energy in the summary")
			}
			got, want := *s.Energy, tc.want
			want.Source = "test"
			for _, f := range []struct {
				name      string
				got, want float64
			}{
				{"joules", got.Joules, want.Joules}, {"idle", got.IdleJ, want.IdleJ}, {"compute", got.ComputeJ, want.ComputeJ},
				{"transmit", got.TransmitJ, want.TransmitJ}, {"receive", got.ReceiveJ, want.ReceiveJ},
				{"per request", got.PerRequestMJ, want.PerRequestMJ}, {"per device", got.PerDeviceJ, want.PerDeviceJ},
				{"mean power", got.MeanPowerW, want.MeanPowerW}, {"max power", got.MaxPowerW, want.MaxPowerW},
				{"battery", got.BatteryHours, want.BatteryHours}, {"battery min", got.BatteryHoursMin, want.BatteryHoursMin},
			} {
				if math.Abs(f.got-f.want) > 1e-9*max(1, math.Abs(f.want)) {
					t.Errorf("%s: got %g, want %g", f.name, f.got, f.want)
				}
			}
			if got.Source != want.Source {
				t.Errorf("source %q", got.Source)
			}
		})
	}
}

func TestNoPowerNoEnergy(t *testing.T) {
	s := &Summary{Requests: 1, Completed: 1}
	(&Busy{Edge: []time.Duration{time.Second}, Slots: []int{1}}).Fill(s, time.Second)
	if s.Energy != nil {
		t.Errorf("energy %+v without power figures", s.Energy)
	}
	// Nor when one device of the fleet has none.
	p := &profiles.Power{IdleW: 1, BusyW: 2, Source: "test"}
	(&Busy{Edge: []time.Duration{time.Second, time.Second}, Slots: []int{1, 1}, Power: []*profiles.Power{p, nil}}).Fill(s, time.Second)
	if s.Energy != nil {
		t.Errorf("energy %+v with a device without power figures", s.Energy)
	}
}
