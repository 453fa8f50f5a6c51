package profiler

import (
	"time"

	"github.com/tandem-edge/tandem/hil"
)

// roundRobin measures the batch-1 latency of each session: rounds times,
// every session in turn runs rewarmRuns untimed and runs timed runs; the
// latency is the median of a session's timed runs. Spreading each model's
// runs over the whole measurement keeps a burst of load on a shared
// machine from skewing a few models.
func roundRobin(sessions []*hil.Session, rounds, runs int) ([]time.Duration, error) {
	times := make([][]time.Duration, len(sessions))
	for range rounds {
		for i, s := range sessions {
			x, y := probeInput(s, 1), make([]float32, s.OutputSize())
			for range rewarmRuns {
				if err := s.Run(y, x, 1); err != nil {
					return nil, err
				}
			}
			for range runs {
				start := time.Now()
				if err := s.Run(y, x, 1); err != nil {
					return nil, err
				}
				times[i] = append(times[i], time.Since(start))
			}
		}
	}
	lat := make([]time.Duration, len(sessions))
	for i, t := range times {
		lat[i] = hil.NewLatency(t).P50
	}
	return lat, nil
}
