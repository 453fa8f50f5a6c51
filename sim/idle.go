package sim

import "time"

// idleCharge sums the idle penalties charged to one stage's runs.
type idleCharge struct {
	sum  time.Duration
	runs int64
}

func (c *idleCharge) add(p time.Duration) { c.sum += p; c.runs++ }

// meanMS is the mean penalty per run in milliseconds; 0 with no runs.
func (c *idleCharge) meanMS() float64 {
	if c.runs == 0 {
		return 0
	}
	return float64(c.sum) / float64(c.runs) / 1e6
}

// idleCharges are the idle penalties of the edge runs and the cloud
// batches, and what the serving path's cold curve added to the overhead of
// each batch's requests (one charge a batch).
type idleCharges struct{ edge, cloud, serving idleCharge }
