package offload

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
)

// A Calibration says how often a threshold rule's target held on samples
// the offloader and its threshold never saw: the samples are split at
// random, again and again; each time an offloader is trained on one part
// and its threshold judged on the other.
//
// The rule's own confidence is a share of bootstrap resamples of the
// samples it is set on, a statement about those samples. Met counts how
// often the cascade actually reached the target on fresh samples, which
// is what a deployment needs of it.
type Calibration struct {
	Rule       string             `json:"threshold_rule"`
	Confidence float64            `json:"confidence"`
	Tolerance  float64            `json:"tolerance,omitempty"`
	Holdout    float64            `json:"holdout"` // the share of the samples each split holds out
	Seed       uint64             `json:"seed"`    // the splits' seed
	Splits     []CalibrationSplit `json:"splits"`
	Met        int                `json:"met"` // splits whose held-out part reached the target
	// MetLow and MetHigh are the Wilson 95% interval of the share met.
	MetLow  float64 `json:"met_low"`
	MetHigh float64 `json:"met_high"`
}

// A CalibrationSplit is one split's outcome.
type CalibrationSplit struct {
	Trained  int     `json:"trained"`   // samples the offloader was trained on
	HeldOut  int     `json:"held_out"`  // samples it was judged on
	Rate     float64 `json:"rate"`      // the offload rate the rule chose on the trained part
	HeldRate float64 `json:"held_rate"` // the share of the held-out part its threshold offloaded
	// Lead is the cascade's correct answers less the cloud's on the
	// held-out part; the target is met when it is at least −Slack.
	Lead  int  `json:"lead"`
	Slack int  `json:"slack"`
	Met   bool `json:"met"`
}

// CalibrateConfig sets how Calibrate splits the samples.
type CalibrateConfig struct {
	Train   TrainConfig // the offloader and its rule
	Splits  int         // how many random splits
	Holdout float64     // the share of the samples each split holds out
	Seed    uint64      // split i is drawn from Seed and i
	Workers int         // splits run at once; the result does not depend on it
	// Progress, when set, is called after each split with how many are
	// done, one call at a time.
	Progress func(done, total int)
}

// Calibrate splits samples cc.Splits times, trains an offloader by
// cc.Train on each split's kept part and checks whether its threshold met
// the rule's target on the held-out part. A budget is refused: its rate
// holds by construction.
func Calibrate(samples []Sample, cc CalibrateConfig) (*Calibration, error) {
	cfg := cc.Train.withDefaults()
	switch {
	case cfg.Budget > 0:
		return nil, errors.New("offload: calibrate: a budget sets the offload rate itself, so there is no target to check; calibrate the parity or tolerance rule")
	case cc.Splits < 1:
		return nil, fmt.Errorf("offload: calibrate: %d splits, want at least 1", cc.Splits)
	case !(cc.Holdout > 0 && cc.Holdout < 1):
		return nil, fmt.Errorf("offload: calibrate: holdout %g: want a share of the samples between 0 and 1", cc.Holdout)
	}
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	n := len(samples)
	held := int(math.Round(cc.Holdout * float64(n)))
	if held < 1 || n-held < 2*cfg.Folds {
		return nil, fmt.Errorf("offload: calibrate: %d samples, %d held out: want at least one held out and %d (two per fold) to train on", n, held, 2*cfg.Folds)
	}
	c := &Calibration{Rule: ParityTarget(cfg.Confidence, cfg.Tolerance), Confidence: cfg.Confidence, Tolerance: cfg.Tolerance,
		Holdout: cc.Holdout, Seed: cc.Seed, Splits: make([]CalibrationSplit, cc.Splits)}
	errs := make([]error, cc.Splits)
	next := make(chan int)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		done int
	)
	for range max(1, min(cc.Workers, cc.Splits)) {
		wg.Go(func() {
			for i := range next {
				c.Splits[i], errs[i] = calibrateSplit(samples, cfg, held, cc.Seed, i)
				if cc.Progress != nil {
					mu.Lock()
					done++
					cc.Progress(done, cc.Splits)
					mu.Unlock()
				}
			}
		})
	}
	for i := range cc.Splits {
		next <- i
	}
	close(next)
	wg.Wait()
	// The first failure stands for the rest, which are most often the same
	// (a kept part with no sample the cloud rescues), in one line.
	for _, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("offload: calibrate: %w", err)
		}
	}
	for _, s := range c.Splits {
		if s.Met {
			c.Met++
		}
	}
	c.MetLow, c.MetHigh = wilson(c.Met, cc.Splits)
	return c, nil
}

func calibrateSplit(samples []Sample, cfg TrainConfig, held int, seed uint64, i int) (CalibrationSplit, error) {
	rng := rand.New(rand.NewPCG(seed, uint64(i)))
	perm := rng.Perm(len(samples))
	out := make([]Sample, held)
	in := make([]Sample, 0, len(samples)-held)
	for k, j := range perm {
		if k < held {
			out[k] = samples[j]
		} else {
			in = append(in, samples[j])
		}
	}
	o, err := Train(in, cfg)
	if err != nil {
		return CalibrationSplit{}, fmt.Errorf("split %d: %w", i, err)
	}
	s := CalibrationSplit{Trained: len(in), HeldOut: held, Slack: slackOf(cfg.Tolerance, held)}
	s.Rate, _ = o.Training["offload_rate"].(float64)
	// The learned policy decides, as it would deployed; a kept sample adds
	// its diff to the lead, an offloaded one ties the cloud on it.
	policy, offloaded := NewLearned(o), 0
	for k := range out {
		if policy.Decide(&out[k], nil) == Cloud {
			offloaded++
			continue
		}
		s.Lead += int(Diff(&out[k]))
	}
	s.HeldRate = round4(float64(offloaded) / float64(held))
	s.Met = s.Lead >= -s.Slack
	return s, nil
}

// wilson is the Wilson score interval at 95% of k successes in n trials.
func wilson(k, n int) (lo, hi float64) {
	const z = 1.959963984540054
	p, nf := float64(k)/float64(n), float64(n)
	d := 1 + z*z/nf
	mid := (p + z*z/(2*nf)) / d
	half := z * math.Sqrt(p*(1-p)/nf+z*z/(4*nf*nf)) / d
	return max(0, mid-half), min(1, mid+half)
}
