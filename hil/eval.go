package hil

import (
	"fmt"
	"time"

	"github.com/tandem-edge/tandem/dnn"
	"github.com/tandem-edge/tandem/dnn/data"
)

// EvalOptions tune Evaluate. The zero value is ready to use.
type EvalOptions struct {
	// Batch is how many samples one run takes for the accuracy pass; 0
	// means 32. A model with a fixed batch dimension overrides it.
	Batch int

	// LatencyRuns is how many timed batch-1 runs measure latency, cycling
	// through the samples; 0 means 200, a negative number skips latency.
	LatencyRuns int

	// Warmup is how many untimed batch-1 runs come first, so that lazy
	// allocation and cold caches stay out of the measurement; 0 means 20,
	// a negative number none.
	Warmup int

	// Mean and Std normalise each input channel c as (x - Mean[c]) / Std[c],
	// with one entry per channel or one for all. Nil means what the model's
	// metadata says (Session.Normalization), or no normalisation if it says
	// nothing.
	Mean, Std []float32
}

// EvalResult is what Evaluate measured.
type EvalResult struct {
	Samples  int
	Correct  int
	Accuracy float64 // Correct / Samples
	Pred     []int32 // per sample, the class of the largest logit
	Latency  Latency // batch-1 runs
}

// Evaluate runs the model of s over every sample of set: once in batches for
// accuracy and predictions, then sample by sample for latency. Latency is
// the time of Session.Run alone (normalisation happens before the clock
// starts), at the thread count s was opened with.
func Evaluate(s *Session, set *data.Set, opts EvalOptions) (*EvalResult, error) {
	if set.Len() == 0 {
		return nil, fmt.Errorf("hil: evaluating %s on %s: no samples", s.Name, set.Name)
	}
	if err := data.CheckShape(set, s.SampleShape()); err != nil {
		return nil, fmt.Errorf("hil: %s: %w", s.Name, err)
	}
	if s.OutputSize() < set.Classes {
		return nil, fmt.Errorf("hil: %s gives %d outputs per sample but dataset %s has %d classes", s.Name, s.OutputSize(), set.Name, set.Classes)
	}
	norm, err := newNormalizer(s, opts.Mean, opts.Std)
	if err != nil {
		return nil, err
	}
	batch := defaultInt(opts.Batch, 32)
	if b := s.Input.Shape[0]; b > 0 {
		batch = int(b)
	}

	n, k, classes := set.Len(), set.SampleSize(), s.OutputSize()
	res := &EvalResult{Samples: n, Pred: make([]int32, n)}
	x := make([]float32, batch*k)
	logits := make([]float32, batch*classes)
	fixed := s.Input.Shape[0] > 0
	for at := 0; at < n; at += batch {
		m := min(batch, n-at)
		norm.Apply(x[:m*k], set.X[at*k:(at+m)*k])
		run := m
		if fixed {
			// A fixed batch dimension takes whole batches only: pad the
			// last one with copies of its first sample, outputs ignored.
			for i := m; i < batch; i++ {
				copy(x[i*k:(i+1)*k], x[:k])
			}
			run = batch
		}
		if err := s.Run(logits[:run*classes], x[:run*k], run); err != nil {
			return nil, err
		}
		for i := range m {
			p := dnn.Argmax(logits[i*classes : (i+1)*classes])
			res.Pred[at+i] = int32(p)
			if int32(p) == set.Y[at+i] {
				res.Correct++
			}
		}
	}
	res.Accuracy = float64(res.Correct) / float64(n)

	if opts.LatencyRuns >= 0 && s.Input.Shape[0] <= 1 {
		res.Latency, err = measureLatency(s, set, norm, defaultInt(opts.Warmup, 20), defaultInt(opts.LatencyRuns, 200))
		if err != nil {
			return nil, err
		}
	}
	return res, nil
}

// MeasureLatency times runs of s on one all-zero sample, after warmup
// untimed ones: a model's latency when no dataset is at hand (timing does
// not depend on the values).
func MeasureLatency(s *Session, warmup, runs int) (Latency, error) {
	zero := &data.Set{Shape: s.SampleShape(), X: make([]float32, s.InputSize()), Y: []int32{0}}
	return measureLatency(s, zero, &Normalizer{}, warmup, runs)
}

// measureLatency times runs of one sample each, after warmup untimed ones.
func measureLatency(s *Session, set *data.Set, norm *Normalizer, warmup, runs int) (Latency, error) {
	k, n := set.SampleSize(), set.Len()
	x := make([]float32, k)
	y := make([]float32, s.OutputSize())
	times := make([]time.Duration, 0, runs)
	for i := range max(warmup, 0) + runs {
		norm.Apply(x, set.Sample(i%n))
		start := time.Now()
		if err := s.Run(y, x, 1); err != nil {
			return Latency{}, err
		}
		if i >= max(warmup, 0) {
			times = append(times, time.Since(start))
		}
	}
	return NewLatency(times), nil
}

// defaultInt is v, or def when v is 0; negative values pass through for the
// caller to read as "none".
func defaultInt(v, def int) int {
	if v == 0 {
		return def
	}
	return max(v, 0)
}
