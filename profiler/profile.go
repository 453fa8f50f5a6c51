package profiler

import (
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/tandem-edge/tandem/hil"
)

// Options tune TimeModel and MeasureFile. The zero value is valid.
type Options struct {
	// Threads is ONNX Runtime's intra-op thread count; 0 means 1, the edge
	// setting (one core of a board).
	Threads int

	// Runs is how many timed runs measure the batch-1 latency, both without
	// and with the profiler; 0 means 200.
	Runs int

	// Warmup is how many untimed runs come before the timed ones at each
	// batch size; 0 means 20, a negative number none.
	Warmup int

	// Batches are the batch sizes of the batch curve, each at least 1;
	// batch 1 is always measured. Nil measures batch 1 only.
	Batches []int

	// BatchBudget caps the time spent timing one batch size above 1: the
	// runs stop at Runs or when the budget is spent, after at least
	// minBatchRuns. 0 means 5s.
	BatchBudget time.Duration

	// ColdGaps, when not empty, also has MeasureFile time the model's cold
	// batch-1 latency after each of these idle gaps (see TimeCold): the
	// curve profiles.Model.LatencyAt interpolates. Nil or empty skips it;
	// a gap of 0 or less is an error.
	ColdGaps []time.Duration

	// ColdRuns is how many timed runs measure the cold latency at each
	// gap; 0 means 40.
	ColdRuns int

	// Serving also has MeasureFile time the model's serving path over both
	// wire protocols (see TimeServing).
	Serving bool

	// ServingRuns is how many timed requests measure each serving path; 0
	// means 200.
	ServingRuns int

	// Progress, when not nil, receives a line per step of a long profile.
	Progress io.Writer
}

// progress writes one line about profiling the model in the file path to
// o.Progress, when set.
func (o *Options) progress(path, format string, args ...any) {
	if o.Progress != nil {
		fmt.Fprintf(o.Progress, "profile: %s: "+format+"\n", append([]any{filepath.Base(path)}, args...)...)
	}
}

// minBatchRuns is the fewest timed runs of a batch size, whatever the budget.
const minBatchRuns = 10

// Timing is what TimeModel measured of one model.
type Timing struct {
	Threads int

	// Latency is batch-1 latency without the profiler: the time of
	// hil.Session.Run, the number a deployment sees.
	Latency hil.Latency

	// Profiled is batch-1 latency of the same model with ONNX Runtime's
	// profiler on, its runs in blocks alternating with Latency's so that
	// both see the same machine load.
	Profiled hil.Latency

	// Batches is the latency of a whole batch at each batch size measured,
	// ascending, without the profiler; batch 1 is Latency.
	Batches []BatchTiming

	// Trace holds the profiled session's timed runs, warm-up dropped.
	Trace *ORTTrace
}

// BatchTiming is the latency of batches of one size.
type BatchTiming struct {
	Size    int
	Latency hil.Latency
}

// ProfilerOverhead is how much slower a run is with the profiler on:
// median profiled over median unprofiled batch-1 latency.
func (t *Timing) ProfilerOverhead() float64 {
	if t.Latency.P50 <= 0 {
		return 0
	}
	return float64(t.Profiled.P50) / float64(t.Latency.P50)
}

// TimeModel measures the ONNX model in the file path with ONNX Runtime:
// batch-1 latency without and with ONNX Runtime's profiler, the two
// sessions' runs in alternating blocks (see interleave), then whole-batch
// latency at each of opts.Batches.
// The profiler's trace is read back from a temporary folder, which is
// removed. Inputs are fixed pseudo-random values in [0, 1).
func TimeModel(path string, opts Options) (*Timing, error) {
	threads := max(opts.Threads, 0)
	if threads == 0 {
		threads = 1
	}
	runs := defaultInt(opts.Runs, 200)
	if runs < 1 {
		return nil, fmt.Errorf("profiler: profiling %s: %d runs, want 1 or more", path, opts.Runs)
	}
	warmup := defaultInt(opts.Warmup, 20)
	for _, b := range opts.Batches {
		if b < 1 {
			return nil, fmt.Errorf("profiler: profiling %s: batch size %d, want 1 or more", path, b)
		}
	}
	progress := func(format string, args ...any) { opts.progress(path, format, args...) }

	dir, err := os.MkdirTemp("", "tandem-profile-")
	if err != nil {
		return nil, fmt.Errorf("profiler: profiling %s: %w", path, err)
	}
	defer os.RemoveAll(dir)

	plain, err := hil.Open(path, hil.Options{IntraOpThreads: threads})
	if err != nil {
		return nil, err
	}
	defer plain.Close()
	profiled, err := hil.Open(path, hil.Options{IntraOpThreads: threads, ProfilePrefix: filepath.Join(dir, "ort")})
	if err != nil {
		return nil, err
	}
	defer profiled.Close()

	t := &Timing{Threads: threads}
	progress("batch 1: %d warm-up and %d timed runs, without and with the profiler, on %d thread(s)", warmup, runs, threads)
	base, prof, err := interleave(plain, profiled, warmup, runs)
	if err != nil {
		return nil, err
	}
	t.Latency, t.Profiled = hil.NewLatency(base), hil.NewLatency(prof)
	if err := profiled.Close(); err != nil { // ONNX Runtime writes the trace now
		return nil, err
	}
	if t.Trace, err = readTrace(dir, timedRuns(max(warmup, 0), runs)); err != nil {
		return nil, fmt.Errorf("profiler: profiling %s: %w", path, err)
	}
	t.Batches = []BatchTiming{{Size: 1, Latency: t.Latency}}

	sizes := slices.Clone(opts.Batches)
	slices.Sort(sizes)
	sizes = slices.Compact(sizes)
	budget := opts.BatchBudget
	if budget <= 0 {
		budget = 5 * time.Second
	}
	for _, b := range sizes {
		if b == 1 {
			continue
		}
		if fixed := plain.Input.Shape[0]; fixed > 0 {
			return nil, fmt.Errorf("profiler: profiling %s at batch %d: the model's batch dimension is fixed at %d", path, b, fixed)
		}
		progress("batch %d: up to %d timed runs or %s", b, runs, budget)
		times, err := timeBatch(plain, b, warmup, runs, budget)
		if err != nil {
			return nil, err
		}
		t.Batches = append(t.Batches, BatchTiming{Size: b, Latency: hil.NewLatency(times)})
	}
	progress("batch 1 median %s without the profiler, %s with it (%.2f×)", t.Latency.P50, t.Profiled.P50, t.ProfilerOverhead())
	return t, nil
}

// Blocks of interleave: each session runs blockRuns timed runs in turn,
// after rewarmRuns untimed ones, which bring its tensors and weights back
// into cache after the other session ran.
const (
	blockRuns  = 20
	rewarmRuns = 2
)

// interleave times runs of a and b, after warmup untimed runs of each, in
// alternating blocks, so that a change of machine load between them affects
// both alike. Blocks rather than single runs: alternating run by run, each
// run would find the caches full of the other session's data, and the
// unprofiled latency would come out up to a third higher than a deployment
// sees (measured here).
func interleave(a, b *hil.Session, warmup, runs int) (ta, tb []time.Duration, err error) {
	type side struct {
		s     *hil.Session
		x, y  []float32
		times []time.Duration
	}
	sides := [2]*side{{s: a}, {s: b}}
	for _, sd := range sides {
		sd.x, sd.y = probeInput(sd.s, 1), make([]float32, sd.s.OutputSize())
		sd.times = make([]time.Duration, 0, runs)
		for range warmup {
			if err := sd.s.Run(sd.y, sd.x, 1); err != nil {
				return nil, nil, err
			}
		}
	}
	for len(sides[1].times) < runs {
		for _, sd := range sides {
			for range rewarmRuns {
				if err := sd.s.Run(sd.y, sd.x, 1); err != nil {
					return nil, nil, err
				}
			}
			for range min(blockRuns, runs-len(sd.times)) {
				start := time.Now()
				if err := sd.s.Run(sd.y, sd.x, 1); err != nil {
					return nil, nil, err
				}
				sd.times = append(sd.times, time.Since(start))
			}
		}
	}
	return sides[0].times, sides[1].times, nil
}

// timeBatch times runs of batches of n samples until runs are done or the
// budget is spent, after at least minBatchRuns.
func timeBatch(s *hil.Session, n, warmup, runs int, budget time.Duration) ([]time.Duration, error) {
	x, y := probeInput(s, n), make([]float32, n*s.OutputSize())
	for range warmup {
		if err := s.Run(y, x, n); err != nil {
			return nil, err
		}
	}
	var times []time.Duration
	var spent time.Duration
	for len(times) < runs && (len(times) < minBatchRuns || spent < budget) {
		start := time.Now()
		if err := s.Run(y, x, n); err != nil {
			return nil, err
		}
		d := time.Since(start)
		times = append(times, d)
		spent += d
	}
	return times, nil
}

// probeInput is n samples of fixed pseudo-random values in [0, 1): the
// same every time, and not all zero, which some kernels shortcut.
func probeInput(s *hil.Session, n int) []float32 {
	rng := rand.New(rand.NewPCG(1, 2))
	x := make([]float32, n*s.InputSize())
	for i := range x {
		x[i] = rng.Float32()
	}
	return x
}

// timedRuns lists the indices, among all runs of a session, of the runs
// interleave timed.
func timedRuns(warmup, runs int) []int {
	idx := make([]int, 0, runs)
	for i := warmup; len(idx) < runs; {
		i += rewarmRuns
		for range min(blockRuns, runs-len(idx)) {
			idx = append(idx, i)
			i++
		}
	}
	return idx
}

// readTrace reads the one profile ONNX Runtime wrote into dir and keeps
// the runs at the indices timed.
func readTrace(dir string, timed []int) (*ORTTrace, error) {
	files, err := filepath.Glob(filepath.Join(dir, "ort*.json"))
	if err != nil || len(files) != 1 {
		return nil, fmt.Errorf("ONNX Runtime wrote %d profile files, want 1", len(files))
	}
	tr, err := ReadORTTrace(files[0])
	if err != nil {
		return nil, err
	}
	if last := timed[len(timed)-1]; len(tr.Runs) <= last {
		return nil, fmt.Errorf("ONNX Runtime's profile holds %d runs, want %d", len(tr.Runs), last+1)
	}
	kept := &ORTTrace{}
	for _, i := range timed {
		kept.Runs = append(kept.Runs, tr.Runs[i])
		kept.RunDurs = append(kept.RunDurs, tr.RunDurs[i])
	}
	return kept, nil
}

// defaultInt is v, or def when v is 0; a negative v becomes 0, which
// callers read as "none".
func defaultInt(v, def int) int {
	if v == 0 {
		return def
	}
	return max(v, 0)
}
