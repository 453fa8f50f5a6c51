package scenarios

import (
	"time"

	"github.com/tandem-edge/tandem/profiles"
)

// DeviceLinks returns device i's uplink and downlink. With trace_phase
// random, each device replays the traces from its own starting point, a
// pure function of the scenario's seed and i, so that the simulator and
// hardware-in-the-loop shape device i's link the same way and adding a
// device moves no other device's phase. Both directions share the offset,
// keeping an uplink and a downlink trace recorded together in step.
func (in *Inputs) DeviceLinks(i int) (up, down profiles.Link) {
	g := in.Group(i)
	up, down = g.Uplink, g.Downlink
	if g.Link.TracePhase != PhaseRandom || up == nil {
		return up, down
	}
	period := longestPeriod(up, down)
	if period <= 0 {
		return up, down
	}
	by := time.Duration(unitFloat(uint64(in.Scenario.Seed), uint64(i)) * float64(period))
	return profiles.Shift(up, by), profiles.Shift(down, by)
}

// longestPeriod is the longest period among the links that repeat, 0 if
// none does.
func longestPeriod(links ...profiles.Link) time.Duration {
	var p time.Duration
	for _, l := range links {
		if pl, ok := l.(profiles.Periodic); ok {
			p = max(p, pl.Period())
		}
	}
	return p
}

// unitFloat maps (seed, i) to a number in [0, 1) with the splitmix64
// finaliser, so neighbouring devices get unrelated phases.
func unitFloat(seed, i uint64) float64 {
	z := seed*0x9e3779b97f4a7c15 + (i+1)*0xbf58476d1ce4e5b9 + 0x7068617365 // "phase"
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	z ^= z >> 31
	return float64(z>>11) / (1 << 53)
}
