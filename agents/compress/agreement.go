package compress

import (
	"fmt"

	"github.com/tandem-edge/tandem/profiles"
)

// profileSpread is how far, as a ratio either way, a model's latency
// measured here may be from its prediction on the device profile before
// the report says the profile describes another machine. The predictor's
// own error on held-out networks is about a tenth, and a shared machine's
// runs wander by as much again.
const profileSpread = 1.25

// profileDisagrees says, when a model measured on this machine ran much
// faster or slower than the device profile predicts, that the profile's
// numbers, not this machine's, set the budget and the reward; "" when
// they agree or either figure is missing.
func profileDisagrees(dev *profiles.Device, predictedMS, measuredMS float64) string {
	if dev == nil || predictedMS <= 0 || measuredMS <= 0 {
		return ""
	}
	r := measuredMS / predictedMS
	if r <= profileSpread && r >= 1/profileSpread {
		return ""
	}
	host := dev.Host.CPU
	if host == "" {
		host = "an unnamed host"
	}
	if dev.Host.MeasuredAt != "" {
		host += " at " + dev.Host.MeasuredAt
	}
	return fmt.Sprintf("%.3f ms measured here, %.3f ms predicted on %s (%.2f×): the profile was measured on %s, another machine or load than this one, and its predictions, not this machine's times, set the budget and the reward (tandem profile --sweep-widths measures this one)",
		measuredMS, predictedMS, dev.Name, r, host)
}
