package profiler

import (
	"fmt"
	"time"

	"github.com/tandem-edge/tandem/hil"
	"github.com/tandem-edge/tandem/profiles"
)

// coldWarmup is how many untimed back-to-back runs TimeCold makes first, so
// that what it measures is the cost of the spacing, not of a session's
// first runs (allocating its buffers, loading its weights).
const coldWarmup = 5

// TimeCold measures the ONNX model in the file path at batch 1 the way a
// device that infers once per gap runs it: after coldWarmup untimed runs,
// each of runs timed runs comes after gap of sleep, in which the core idles
// or runs other work and the model's weights and the runtime's state leave
// its caches. threads is ONNX Runtime's intra-op thread count (0 means 1);
// use TimeModel's, so that the cold latency compares with the warm one.
// Inputs are fixed pseudo-random values in [0, 1). It takes about
// runs × (gap + the latency).
func TimeCold(path string, threads int, gap time.Duration, runs int) (profiles.ColdLatency, error) {
	switch {
	case gap <= 0:
		return profiles.ColdLatency{}, fmt.Errorf("profiler: cold latency of %s: gap %v, want more than 0", path, gap)
	case runs < 1:
		return profiles.ColdLatency{}, fmt.Errorf("profiler: cold latency of %s: %d runs, want 1 or more", path, runs)
	}
	s, err := hil.Open(path, hil.Options{IntraOpThreads: max(threads, 1)})
	if err != nil {
		return profiles.ColdLatency{}, err
	}
	defer s.Close()
	x, y := probeInput(s, 1), make([]float32, s.OutputSize())
	for range coldWarmup {
		if err := s.Run(y, x, 1); err != nil {
			return profiles.ColdLatency{}, err
		}
	}
	times := make([]time.Duration, 0, runs)
	for range runs {
		time.Sleep(gap)
		start := time.Now()
		if err := s.Run(y, x, 1); err != nil {
			return profiles.ColdLatency{}, err
		}
		times = append(times, time.Since(start))
	}
	return profiles.ColdLatency{Gap: gap, Latency: hil.NewLatency(times).P50, Spread: TrimmedCV(times), Runs: runs}, nil
}
