package deploy

import (
	"math"
	"time"
)

// Energy is what the edge devices drew over a run, in summary.json. Each
// device draws its idle power for the whole run, and, above idle, its
// busy power for the time it ran models (over all of its slots: a device
// with two slots busy for 1 s on one of them is at busy power for 0.5 s),
// its transmit power for the time its uplink carried its requests and its
// receive power for the time its downlink carried the answers. The run
// lasts from time 0 to the last request's end, as for utilisation.
type Energy struct {
	Source string `json:"source"` // where the power figures come from
	// Joules is every device's energy over the run, idle included; the
	// next four split it: the idle draw over the run, and each state's
	// draw above idle.
	Joules    float64 `json:"joules"`
	IdleJ     float64 `json:"idle_j"`
	ComputeJ  float64 `json:"compute_j"`
	TransmitJ float64 `json:"transmit_j"`
	ReceiveJ  float64 `json:"receive_j"`
	// PerRequestMJ is what a request cost a device above idle, in
	// millijoules: compute, transmit and receive over every request of
	// the run, failed ones included (they drew power too).
	PerRequestMJ float64 `json:"per_request_mj"`
	// PerDeviceJ is a device's energy over the run, idle included, the
	// mean over devices; MeanPowerW its mean draw, and MaxPowerW the draw
	// of the device that drew most.
	PerDeviceJ float64 `json:"per_device_j"`
	MeanPowerW float64 `json:"mean_power_w"`
	MaxPowerW  float64 `json:"max_power_w"`
	// BatteryHours is how long a device's battery lasts at the draw it
	// had over the run, the mean over the devices with a battery;
	// BatteryHoursMin is the shortest, the first device to run flat. Both
	// 0 without a battery capacity.
	BatteryHours    float64 `json:"battery_hours"`
	BatteryHoursMin float64 `json:"battery_hours_min"`
}

// energy is the energy of devices lo to hi-1 over a run of span seconds
// with requests requests; nil unless each of them has power figures.
func (b *Busy) energy(lo, hi int, span float64, requests int64) *Energy {
	if b.Power == nil || hi <= lo {
		return nil
	}
	for i := lo; i < hi; i++ {
		if b.Power[i] == nil {
			return nil
		}
	}
	e := &Energy{Source: b.Power[lo].Source}
	at := func(d []time.Duration, i int) float64 {
		if d == nil {
			return 0
		}
		return d[i].Seconds()
	}
	var lives, battery float64
	e.BatteryHoursMin = math.Inf(1)
	for i := lo; i < hi; i++ {
		p := b.Power[i]
		if p.Source != e.Source {
			e.Source = "per group (see groups)"
		}
		compute := p.ComputeAboveIdleW() * b.Edge[i].Seconds() / float64(max(b.Slots[i], 1))
		tx := p.TransmitAboveIdleW() * at(b.Uplink, i)
		rx := p.ReceiveAboveIdleW() * at(b.Downlink, i)
		idle := p.IdleW * span
		e.ComputeJ += compute
		e.TransmitJ += tx
		e.ReceiveJ += rx
		e.IdleJ += idle
		w := (idle + compute + tx + rx) / span
		e.MaxPowerW = max(e.MaxPowerW, w)
		if p.BatteryWh > 0 {
			life := hours(p.BatteryWh, w)
			lives += life
			battery++
			e.BatteryHoursMin = min(e.BatteryHoursMin, life)
		}
	}
	n := float64(hi - lo)
	above := e.ComputeJ + e.TransmitJ + e.ReceiveJ
	e.Joules = e.IdleJ + above
	e.PerDeviceJ = e.Joules / n
	e.MeanPowerW = e.PerDeviceJ / span
	if requests > 0 {
		e.PerRequestMJ = above / float64(requests) * 1e3
	}
	if battery > 0 {
		e.BatteryHours = lives / battery
	} else {
		e.BatteryHoursMin = 0
	}
	return e
}

// hours is how long wh watt-hours last at w watts, at most a century: a
// device that draws nothing would last for ever, which JSON cannot write.
func hours(wh, w float64) float64 {
	const century = 100 * 365.25 * 24
	if w <= 0 {
		return century
	}
	return math.Min(wh/w, century)
}
