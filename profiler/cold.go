package profiler

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tandem-edge/tandem/hil"
	"github.com/tandem-edge/tandem/profiles"
)

// coldWarmup is how many untimed back-to-back runs TimeCold makes first, so
// that what it measures is the cost of the spacing, not of a session's
// first runs (allocating its buffers, loading its weights).
const coldWarmup = 5

// defaultColdRuns is how many timed runs measure each gap of the cold
// latency when Options.ColdRuns is 0.
const defaultColdRuns = 40

// TimeCold measures the ONNX model in the file path at batch 1 the way a
// device that has been idle between inferences runs it, once per gap: in one
// session, after coldWarmup untimed back-to-back runs, for each gap in
// ascending order, runs timed runs each come after that gap of sleep, in
// which the core idles or runs other work and the model's weights and the
// runtime's state leave its caches. It returns one ColdLatency per distinct
// gap, in ascending order of gap (duplicates are measured once), the curve
// profiles.Model.LatencyAt interpolates. Every gap must be above 0 and there
// must be at least one. threads is ONNX Runtime's intra-op thread count (0
// means 1); use TimeModel's, so that the cold latency compares with the warm
// one. Inputs are fixed pseudo-random values in [0, 1). It takes about
// runs × (sum of the gaps + len(gaps) × the latency).
func TimeCold(path string, threads int, gaps []time.Duration, runs int) ([]profiles.ColdLatency, error) {
	if len(gaps) == 0 {
		return nil, fmt.Errorf("profiler: cold latency of %s: no gaps, want 1 or more", path)
	}
	for _, gap := range gaps {
		if gap <= 0 {
			return nil, fmt.Errorf("profiler: cold latency of %s: gap %v, want more than 0", path, gap)
		}
	}
	if runs < 1 {
		return nil, fmt.Errorf("profiler: cold latency of %s: %d runs, want 1 or more", path, runs)
	}
	gaps = slices.Compact(slices.Sorted(slices.Values(gaps)))
	s, err := hil.Open(path, hil.Options{IntraOpThreads: max(threads, 1)})
	if err != nil {
		return nil, err
	}
	defer s.Close()
	x, y := probeInput(s, 1), make([]float32, s.OutputSize())
	for range coldWarmup {
		if err := s.Run(y, x, 1); err != nil {
			return nil, err
		}
	}
	curve := make([]profiles.ColdLatency, 0, len(gaps))
	times := make([]time.Duration, runs)
	for _, gap := range gaps {
		for i := range runs {
			time.Sleep(gap)
			start := time.Now()
			if err := s.Run(y, x, 1); err != nil {
				return nil, err
			}
			times[i] = time.Since(start)
		}
		curve = append(curve, profiles.ColdLatency{Gap: gap, Latency: hil.NewLatency(times).P50, Spread: TrimmedCV(times), Runs: runs})
	}
	return curve, nil
}

// FormatCold writes a cold latency curve on one line, each median at its
// gap: "0.70ms@1ms 0.77ms@3ms 0.87ms@10ms".
func FormatCold(cold []profiles.ColdLatency) string {
	parts := make([]string, len(cold))
	for i, c := range cold {
		parts[i] = FormatMs(c.Latency) + "@" + c.Gap.String()
	}
	return strings.Join(parts, " ")
}

// FormatMs writes a latency in milliseconds to about three significant
// digits: "0.63ms", "12.3ms", "240ms".
func FormatMs(d time.Duration) string {
	ms := float64(d) / float64(time.Millisecond)
	prec := 3
	switch a := math.Abs(ms); {
	case a >= 100:
		prec = 0
	case a >= 10:
		prec = 1
	case a >= 0.1:
		prec = 2
	}
	return strconv.FormatFloat(ms, 'f', prec, 64) + "ms"
}
