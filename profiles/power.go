package profiles

import (
	"math"

	"github.com/tandem-edge/tandem/scenarios/strictyaml"
)

// Power is what a device draws, in watts, in each state the simulator
// tells apart, so that a run can say what its requests cost in energy and
// how long a battery lasts at its workload. Every figure is the whole
// device's draw in that state; the states above idle add up when they
// overlap (the radio sends while the processor computes), each adding its
// draw above idle. A state left at 0 costs nothing above idle.
//
// A profile carries measured figures (tandem profile records the
// processor's package power where the host exposes RAPL counters) or
// figures cited from published measurements of the board, and Source says
// which.
type Power struct {
	IdleW     float64 `yaml:"idle_w"`               // powered on, nothing running
	BusyW     float64 `yaml:"busy_w"`               // running models on every one of its slots
	TransmitW float64 `yaml:"transmit_w,omitempty"` // sending on the uplink
	ReceiveW  float64 `yaml:"receive_w,omitempty"`  // receiving on the downlink
	// BatteryWh is the battery's capacity in watt-hours; 0 for a device on
	// mains power, which gets no battery life.
	BatteryWh float64 `yaml:"battery_wh,omitempty"`
	Source    string  `yaml:"source"` // where the figures come from: a measurement, or a citation
}

// Check validates p as the value of key path of a document ("power" in a
// profile, "edge.power" in a scenario); a nil p has nothing to check.
func (p *Power) Check(c *strictyaml.Checker, path string) {
	if p == nil {
		return
	}
	ok := func(v float64) bool { return v >= 0 && !math.IsInf(v, 0) }
	for _, f := range []struct {
		key string
		v   float64
	}{{"idle_w", p.IdleW}, {"busy_w", p.BusyW}, {"transmit_w", p.TransmitW}, {"receive_w", p.ReceiveW}, {"battery_wh", p.BatteryWh}} {
		if !ok(f.v) {
			c.Errorf(path+"."+f.key, "must be a finite number >= 0, got %g", f.v)
		}
	}
	for _, f := range []struct {
		key string
		v   float64
	}{{"busy_w", p.BusyW}, {"transmit_w", p.TransmitW}, {"receive_w", p.ReceiveW}} {
		if f.v != 0 && f.v < p.IdleW {
			c.Errorf(path+"."+f.key, "%g W is below idle_w (%g W): each state's figure is the whole device's draw in it, at least its idle draw", f.v, p.IdleW)
		}
	}
	if p.BusyW == 0 && p.TransmitW == 0 && p.ReceiveW == 0 && p.IdleW == 0 {
		c.Errorf(path, "no figure: give at least idle_w and busy_w in watts")
	}
	if p.Source == "" {
		c.Errorf(path+".source", "required: where the figures come from (the measurement, or the publication cited)")
	}
}

// above is a state's draw above idle, or 0 for a state without a figure.
func (p *Power) above(w float64) float64 { return max(w-p.IdleW, 0) }

// ComputeAboveIdleW, TransmitAboveIdleW and ReceiveAboveIdleW are what each
// state draws beyond idle.
func (p *Power) ComputeAboveIdleW() float64  { return p.above(p.BusyW) }
func (p *Power) TransmitAboveIdleW() float64 { return p.above(p.TransmitW) }
func (p *Power) ReceiveAboveIdleW() float64  { return p.above(p.ReceiveW) }
