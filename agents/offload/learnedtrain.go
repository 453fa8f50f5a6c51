package offload

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// Helps reports whether offloading a sample pays: the edge model is wrong
// and the cloud model is right. It is what the offloader learns to predict
// and what a decision is judged against: keeping a sample the edge answers
// correctly, or one neither model gets right, is the right call too.
func Helps(s *Sample) bool { return !s.EdgeCorrect && s.CloudCorrect }

// ErrNothingToLearn is Train's error when no sample is one that offloading
// would help: the edge model is never wrong where the cloud model is right.
var ErrNothingToLearn = errors.New("offload: train: no sample where the cloud is right and the edge wrong: there is nothing to learn")

// TrainConfig sets how an offloader is trained and its threshold chosen.
type TrainConfig struct {
	Hidden int     // hidden units; default 16
	Epochs int     // full-batch Adam steps; default 2000
	LR     float64 // Adam step size; default 0.01
	L2     float64 // weight decay on the weights (not the biases); default 1e-3
	Folds  int     // cross-fitting folds for choosing the threshold; default 5
	Seed   uint64  // initial weights and fold assignment

	// Embedding trains on the samples' Embedding as well as on the edge
	// model's output; every sample must have one, of one length.
	Embedding bool

	// Budget, when in (0, 1], is the largest fraction of requests the
	// offloader may send to the cloud: the threshold is the one with the
	// best accuracy within it. When 0, the threshold is set for the
	// cascade to be as accurate as sending every request to the cloud.
	Budget float64

	// Confidence, in [0.5, 1), is how sure that setting must be, without a
	// budget: the rate offloaded is ParityRate of the out-of-fold samples
	// at it. 0 means DefaultConfidence. At 0.5 the rate is the lowest at
	// which the cascade matches the cloud on those samples, which on new
	// inputs falls short about as often as not.
	Confidence float64

	// Tolerance, in [0, 1), is how much less accurate than the cloud, as
	// a fraction (0.001: 0.1 points), the cascade may be at that
	// confidence, without a budget.
	Tolerance float64
}

func (c TrainConfig) withDefaults() TrainConfig {
	if c.Hidden == 0 {
		c.Hidden = 16
	}
	if c.Epochs == 0 {
		c.Epochs = 2000
	}
	if c.LR == 0 {
		c.LR = 0.01
	}
	if c.L2 == 0 {
		c.L2 = 1e-3
	}
	if c.Folds == 0 {
		c.Folds = 5
	}
	if c.Confidence == 0 {
		c.Confidence = DefaultConfidence
	}
	return c
}

// Train fits an offloader to samples (the edge model's output on data the
// models were not trained on, with both models' correctness) and chooses its
// threshold on out-of-fold scores: each sample is scored by a network fitted
// without it, so the operating point is not chosen on what the network has
// memorised. The returned offloader is fitted to all samples. Training is
// deterministic: the same samples and config give the same offloader.
func Train(samples []Sample, cfg TrainConfig) (*Offloader, error) {
	cfg = cfg.withDefaults()
	if err := checkTrain(samples, cfg); err != nil {
		return nil, err
	}
	classes, emb := len(samples[0].Logits), 0
	if cfg.Embedding {
		emb = len(samples[0].Embedding)
	}
	n, d := len(samples), InputCount(classes, emb)
	x := make([]float64, n*d)
	y := make([]float64, n)
	for i := range samples {
		inputs(&samples[i], x[i*d:(i+1)*d])
		if Helps(&samples[i]) {
			y[i] = 1
		}
	}
	mean, std := standardise(x, d)

	// Out-of-fold scores choose the offload rate.
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x6f66666c6f6164)) // "offload"
	fold := make([]int, n)
	for i, j := range rng.Perm(n) {
		fold[j] = i % cfg.Folds
	}
	oof := make([]float64, n)
	for f := range cfg.Folds {
		var tx, ty []float64
		for i := range n {
			if fold[i] != f {
				tx, ty = append(tx, x[i*d:(i+1)*d]...), append(ty, y[i])
			}
		}
		net := fit(tx, ty, d, cfg, cfg.Seed+uint64(f)+1)
		h := make([]float64, cfg.Hidden)
		for i := range n {
			if fold[i] == f {
				oof[i] = net.score(x[i*d:(i+1)*d], h)
			}
		}
	}
	rate, pick := chooseRate(oof, samples, cfg)

	o := fit(x, y, d, cfg, cfg.Seed)
	o.Format, o.Classes, o.Inputs, o.Mean, o.Std = OffloaderFormat, classes, inputNames(classes, emb), mean, std
	o.Embedding = emb
	o.Target = "probability that the edge model is wrong and the cloud model right"
	all := make([]float64, n)
	h := make([]float64, cfg.Hidden)
	for i := range n {
		all[i] = o.score(x[i*d:(i+1)*d], h)
	}
	o.Threshold = thresholdForRate(all, rate)
	pos := 0
	for _, v := range y {
		pos += int(v)
	}
	o.Training = map[string]any{
		"samples": n, "helped_by_offloading": pos,
		"hidden": cfg.Hidden, "epochs": cfg.Epochs, "lr": cfg.LR, "l2": cfg.L2, "folds": cfg.Folds, "seed": cfg.Seed,
		"threshold_rule": pick, "offload_rate": round4(rate),
	}
	switch {
	case cfg.Budget > 0:
		o.Training["budget"] = cfg.Budget
	case cfg.Tolerance > 0:
		o.Training["confidence"], o.Training["tolerance"] = cfg.Confidence, cfg.Tolerance
	default:
		o.Training["confidence"] = cfg.Confidence
	}
	return o, nil
}

// Check reports a setting out of range, once defaults are applied to the
// zero ones.
func (c TrainConfig) Check() error {
	c = c.withDefaults()
	switch {
	case c.Hidden < 1 || c.Epochs < 1 || c.Folds < 2:
		return fmt.Errorf("offload: train: hidden %d, epochs %d, folds %d: want hidden and epochs >= 1, folds >= 2", c.Hidden, c.Epochs, c.Folds)
	case !(c.LR > 0) || !(c.L2 >= 0):
		return fmt.Errorf("offload: train: lr %g, l2 %g: want lr > 0, l2 >= 0", c.LR, c.L2)
	case !(c.Budget >= 0 && c.Budget <= 1):
		return fmt.Errorf("offload: train: budget %g: want a fraction from 0 to 1 (0: match the cloud's accuracy)", c.Budget)
	case !(c.Confidence >= 0.5 && c.Confidence < 1):
		return fmt.Errorf("offload: train: confidence %g: want a probability from 0.5 (parity on the validation samples) to below 1", c.Confidence)
	case !(c.Tolerance >= 0 && c.Tolerance < 1):
		return fmt.Errorf("offload: train: tolerance %g: want a fraction of accuracy from 0 (as accurate as the cloud) to below 1", c.Tolerance)
	case c.Tolerance > 0 && c.Budget > 0:
		return fmt.Errorf("offload: train: tolerance %g and budget %g: a budget sets the rate itself; give one or the other", c.Tolerance, c.Budget)
	}
	return nil
}

func checkTrain(samples []Sample, cfg TrainConfig) error {
	if err := cfg.Check(); err != nil {
		return err
	}
	if len(samples) < 2*cfg.Folds {
		return fmt.Errorf("offload: train: %d samples, want at least %d (two per fold)", len(samples), 2*cfg.Folds)
	}
	classes := len(samples[0].Logits)
	if classes < 2 {
		return fmt.Errorf("offload: train: samples have %d logits, want at least 2", classes)
	}
	emb := len(samples[0].Embedding)
	if cfg.Embedding && emb == 0 {
		return errors.New("offload: train: training on the edge model's features, and the samples have none")
	}
	helps := 0
	for i := range samples {
		if len(samples[i].Logits) != classes {
			return fmt.Errorf("offload: train: sample %d has %d logits, sample 0 has %d", i, len(samples[i].Logits), classes)
		}
		if cfg.Embedding && len(samples[i].Embedding) != emb {
			return fmt.Errorf("offload: train: sample %d has %d features, sample 0 has %d", i, len(samples[i].Embedding), emb)
		}
		if Helps(&samples[i]) {
			helps++
		}
	}
	if helps == 0 {
		return ErrNothingToLearn
	}
	return nil
}

// standardise centres and scales each of the d columns of x in place and
// returns the means and standard deviations it used (1 for a constant
// column, which then stays 0).
func standardise(x []float64, d int) (mean, std []float64) {
	n := len(x) / d
	mean, std = make([]float64, d), make([]float64, d)
	for i := range n {
		for j := range d {
			mean[j] += x[i*d+j]
		}
	}
	for j := range d {
		mean[j] /= float64(n)
	}
	for i := range n {
		for j := range d {
			v := x[i*d+j] - mean[j]
			std[j] += v * v
		}
	}
	for j := range d {
		std[j] = math.Sqrt(std[j] / float64(n))
		if std[j] < minStd {
			std[j] = 1
		}
	}
	for i := range n {
		for j := range d {
			x[i*d+j] = (x[i*d+j] - mean[j]) / std[j]
		}
	}
	return mean, std
}

// fit trains the network on standardised inputs x (rows of d) and targets y
// by full-batch Adam on the mean binary cross-entropy plus L2 on weights.
func fit(x, y []float64, d int, cfg TrainConfig, seed uint64) *Offloader {
	n, hn := len(y), cfg.Hidden
	rng := rand.New(rand.NewPCG(seed, 0x6d6c70)) // "mlp"
	o := &Offloader{W1: make([][]float64, hn), B1: make([]float64, hn), W2: make([]float64, hn)}
	scale1, scale2 := math.Sqrt(2/float64(d)), math.Sqrt(1/float64(hn))
	for j := range hn {
		o.W1[j] = make([]float64, d)
		for i := range d {
			o.W1[j][i] = rng.NormFloat64() * scale1
		}
		o.W2[j] = rng.NormFloat64() * scale2
	}
	// Start at the base rate, so early steps learn ranking, not the mean.
	var pos float64
	for _, v := range y {
		pos += v
	}
	p0 := min(max(pos/float64(n), 1e-6), 1-1e-6)
	o.B2 = math.Log(p0 / (1 - p0))

	params := hn*d + 3*hn + 1
	grad, m, v := make([]float64, params), make([]float64, params), make([]float64, params)
	h := make([]float64, hn)
	const beta1, beta2, eps = 0.9, 0.999, 1e-8
	for step := 1; step <= cfg.Epochs; step++ {
		clear(grad)
		gW1, gB1, gW2 := grad[:hn*d], grad[hn*d:hn*d+hn], grad[hn*d+hn:hn*d+2*hn]
		for r := range n {
			xr := x[r*d : (r+1)*d]
			g := (o.score(xr, h) - y[r]) / float64(n) // dLoss/dz of the output
			grad[params-1] += g
			for j := range hn {
				gW2[j] += g * h[j]
				if h[j] > 0 {
					gh := g * o.W2[j]
					gB1[j] += gh
					row := gW1[j*d : (j+1)*d]
					for i, xv := range xr {
						row[i] += gh * xv
					}
				}
			}
		}
		// Weight decay on weights only.
		for j := range hn {
			for i := range d {
				gW1[j*d+i] += cfg.L2 * o.W1[j][i]
			}
			gW2[j] += cfg.L2 * o.W2[j]
		}
		c1, c2 := 1-math.Pow(beta1, float64(step)), 1-math.Pow(beta2, float64(step))
		update := func(k int, p *float64) {
			m[k] = beta1*m[k] + (1-beta1)*grad[k]
			v[k] = beta2*v[k] + (1-beta2)*grad[k]*grad[k]
			*p -= cfg.LR * (m[k] / c1) / (math.Sqrt(v[k]/c2) + eps)
		}
		for j := range hn {
			for i := range d {
				update(j*d+i, &o.W1[j][i])
			}
			update(hn*d+j, &o.B1[j])
			update(hn*d+hn+j, &o.W2[j])
		}
		update(params-1, &o.B2)
	}
	return o
}

// byScore orders sample indices by descending score, ties in sample order.
func byScore(scores []float64) []int {
	order := make([]int, len(scores))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmpDesc(scores[a], scores[b]) })
	return order
}

// cascade counts, for every k, the samples the cascade answers right when
// the first k of order go to the cloud (correct[k], k = 0..n), and those the
// cloud alone answers right.
func cascade(order []int, samples []Sample) (correct []int, cloud int) {
	correct = make([]int, len(order)+1)
	for i := range samples {
		if samples[i].EdgeCorrect {
			correct[0]++
		}
		if samples[i].CloudCorrect {
			cloud++
		}
	}
	for k, i := range order {
		c := correct[k]
		if samples[i].EdgeCorrect {
			c--
		}
		if samples[i].CloudCorrect {
			c++
		}
		correct[k+1] = c
	}
	return correct, cloud
}

// chooseRate picks the fraction of samples to offload, highest scores
// first, and names the rule that picked it: within a budget, the most
// accurate; without one, ParityRate at the confidence.
func chooseRate(scores []float64, samples []Sample, cfg TrainConfig) (rate float64, rule string) {
	n := len(scores)
	order := byScore(scores)
	if budget := cfg.Budget; budget > 0 {
		correct, _ := cascade(order, samples)
		best := 0
		limit := int(math.Floor(budget * float64(n)))
		for k := 1; k <= limit; k++ {
			if correct[k] > correct[best] {
				best = k
			}
		}
		return float64(best) / float64(n), fmt.Sprintf("most accurate offload rate within the budget of %g", budget)
	}
	diff := make([]int8, n)
	for k, i := range order {
		diff[k] = Diff(&samples[i])
	}
	rate = ParityRate(diff, cfg.Confidence, cfg.Tolerance, cfg.Seed)
	target := ParityTarget(cfg.Confidence, cfg.Tolerance)
	if cfg.Confidence <= 0.5 {
		return rate, "lowest offload rate " + target + " (out-of-fold)"
	}
	return rate, "offload rate " + target + " (out-of-fold)"
}

// Diff is s's edge correctness minus its cloud correctness, as ParityRate
// reads it.
func Diff(s *Sample) int8 {
	switch {
	case s.EdgeCorrect && !s.CloudCorrect:
		return 1
	case !s.EdgeCorrect && s.CloudCorrect:
		return -1
	}
	return 0
}

// thresholdForRate returns the score threshold that offloads a fraction rate
// of the given scores: the midpoint between the last score offloaded and the
// first kept.
func thresholdForRate(scores []float64, rate float64) float64 {
	s := slices.Clone(scores)
	slices.SortFunc(s, cmpDesc)
	k := int(math.Round(rate * float64(len(s))))
	switch {
	case k <= 0:
		return min(math.Nextafter(s[0], math.Inf(1)), 1) // above every score: offload nothing
	case k >= len(s):
		return s[len(s)-1]
	}
	return (s[k-1] + s[k]) / 2
}

func cmpDesc(a, b float64) int {
	switch {
	case a > b:
		return -1
	case a < b:
		return 1
	}
	return 0
}

func round4(v float64) float64 { return math.Round(v*1e4) / 1e4 }
