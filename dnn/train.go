package dnn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/tandem-edge/tandem/dnn/data"
)

// Progress reports training as it goes: once after every step and once more
// at the end of each epoch (EpochDone, with the validation accuracy).
type Progress struct {
	Epoch, Epochs int     // 1-based epoch and the number of epochs
	Step, Steps   int     // 1-based step within the epoch and steps per epoch
	Loss          float64 // mean training loss over the epoch so far
	Accuracy      float64 // training accuracy (augmented inputs) over the epoch so far
	ImagesPerSec  float64 // training throughput over the epoch so far
	LR            float64 // learning rate of the last step
	EpochDone     bool
	ValAccuracy   float64 // on the validation set at EpochDone; negative otherwise or without one
}

// EpochStats summarises one epoch of training.
type EpochStats struct {
	Epoch        int
	Loss         float64 // mean training loss
	Accuracy     float64 // training accuracy on augmented inputs
	ValAccuracy  float64 // negative without a validation set
	Seconds      float64 // training time, validation excluded
	ImagesPerSec float64
}

// TrainResult is what Train did.
type TrainResult struct {
	Epochs      []EpochStats
	ValAccuracy float64 // after the last epoch; negative without a validation set
	Seconds     float64 // wall time of the whole run
}

// Stream identifiers that keep Train's random streams apart under one seed.
const (
	streamShuffle = 1 + iota
	streamAugment
	streamDropout
)

// Train fits g to the training set in place: the Graph's parameters and
// BatchNorm statistics end as the trained model. When g has no input
// normalisation, Train first sets InputMean and InputStd to the per-channel
// mean and standard deviation of the training pixels. Each step draws a
// shuffled batch, augments it (TrainConfig.CropPad, NoFlip), minimises
// SoftmaxCrossEntropy (DistillCrossEntropy with a Teacher) and updates with the configured optimizer and
// schedule. val may be nil; otherwise it is evaluated after every epoch.
// progress may be nil. Training is deterministic for a given Graph, sets,
// config and seed on one machine and build.
func Train(g *Graph, train, val *data.Set, cfg TrainConfig, progress func(Progress)) (*TrainResult, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := checkSet(g, train); err != nil {
		return nil, err
	}
	if val != nil {
		if err := checkSet(g, val); err != nil {
			return nil, err
		}
	}
	if train.Len() < 2 {
		return nil, fmt.Errorf("dnn: train: %d training samples, need at least 2", train.Len())
	}
	if g.InputMean == nil && g.InputStd == nil {
		g.InputMean, g.InputStd = ChannelStats(train)
	}
	batch := min(cfg.BatchSize, train.Len())
	net, err := NewNet(g, batch)
	if err != nil {
		return nil, err
	}
	net.Seed(cfg.Seed ^ streamDropout<<56)
	var teacher *Net
	var tlogits []float32
	if t := cfg.Teacher; t != nil {
		if !slices.Equal(t.InputShape, g.InputShape) || t.Classes != g.Classes {
			return nil, fmt.Errorf("dnn: train: teacher %q takes %v and gives %d classes, model %q %v and %d",
				t.Name, t.InputShape, t.Classes, g.Name, g.InputShape, g.Classes)
		}
		if teacher, err = NewNet(t, batch); err != nil {
			return nil, fmt.Errorf("dnn: train: teacher: %w", err)
		}
		tlogits = make([]float32, batch*g.Classes)
	}
	cached := cfg.TeacherLogits
	if cached != nil {
		if len(cached) != train.Len()*g.Classes {
			return nil, fmt.Errorf("dnn: train: %d teacher logits for %d training samples of %d classes", len(cached), train.Len(), g.Classes)
		}
		tlogits = make([]float32, batch*g.Classes)
	}
	shuffle := rand.New(rand.NewPCG(cfg.Seed, streamShuffle))
	aug := rand.New(rand.NewPCG(cfg.Seed, streamAugment))
	opt := cfg.optimizer()

	k, classes := train.SampleSize(), g.Classes
	xb := make([]float32, batch*k)
	yb := make([]int32, batch)
	logits := make([]float32, batch*classes)
	dlogits := make([]float32, batch*classes)
	order := make([]int, train.Len())
	for i := range order {
		order[i] = i
	}
	steps := train.Len() / batch
	total := steps * cfg.Epochs
	res := &TrainResult{ValAccuracy: -1}
	start := time.Now()
	for ep := range cfg.Epochs {
		shuffle.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		t0 := time.Now()
		var lossSum float64
		var correct, seen int
		var lr float64
		for st := range steps {
			for i, idx := range order[st*batch : (st+1)*batch] {
				augment(xb[i*k:(i+1)*k], train.Sample(idx), train.Shape, cfg.CropPad, !cfg.NoFlip && !train.NoFlip, aug)
				yb[i] = train.Y[idx]
				if cached != nil {
					copy(tlogits[i*classes:(i+1)*classes], cached[idx*classes:])
				}
			}
			net.Forward(logits, xb, batch, true)
			var loss float64
			var c int
			if teacher != nil || cached != nil {
				if teacher != nil {
					teacher.Forward(tlogits, xb, batch, false)
				}
				loss, c = DistillCrossEntropy(dlogits, logits, tlogits, yb, classes, cfg.Temperature, cfg.DistillWeight, cfg.LabelSmoothing)
			} else {
				loss, c = SoftmaxCrossEntropy(dlogits, logits, yb, classes, cfg.LabelSmoothing)
			}
			if math.IsNaN(loss) || math.IsInf(loss, 0) {
				return res, fmt.Errorf("dnn: train: loss diverged to %g at epoch %d step %d (lower the learning rate)", loss, ep+1, st+1)
			}
			net.Backward(nil, dlogits, batch)
			lr = cfg.learningRate(ep*steps+st, steps, total)
			opt.Step(net.Params(), lr)
			lossSum += loss * float64(batch)
			correct += c
			seen += batch
			if progress != nil {
				progress(Progress{Epoch: ep + 1, Epochs: cfg.Epochs, Step: st + 1, Steps: steps,
					Loss: lossSum / float64(seen), Accuracy: float64(correct) / float64(seen),
					ImagesPerSec: float64(seen) / time.Since(t0).Seconds(), LR: lr, ValAccuracy: -1})
			}
		}
		secs := time.Since(t0).Seconds()
		es := EpochStats{Epoch: ep + 1, Loss: lossSum / float64(seen), Accuracy: float64(correct) / float64(seen),
			ValAccuracy: -1, Seconds: secs, ImagesPerSec: float64(seen) / secs}
		if val != nil {
			es.ValAccuracy, _ = evaluate(net, val, nil, nil)
			res.ValAccuracy = es.ValAccuracy
		}
		res.Epochs = append(res.Epochs, es)
		if progress != nil {
			progress(Progress{Epoch: ep + 1, Epochs: cfg.Epochs, Step: steps, Steps: steps, Loss: es.Loss,
				Accuracy: es.Accuracy, ImagesPerSec: es.ImagesPerSec, LR: lr, EpochDone: true, ValAccuracy: es.ValAccuracy})
		}
	}
	res.Seconds = time.Since(start).Seconds()
	return res, nil
}

// TeacherLogitsOf runs teacher over every sample of set, as it is, for
// TrainConfig.TeacherLogits.
func TeacherLogitsOf(teacher *Graph, set *data.Set) ([]float32, error) {
	_, _, logits, err := Evaluate(teacher, set, 0)
	return logits, err
}

// Evaluate runs g in inference mode over set in batches of batch samples
// (0 means 256) and returns the accuracy, the predicted class (largest logit)
// of every sample, and every sample's logits, n·Classes values sample-major.
func Evaluate(g *Graph, set *data.Set, batch int) (accuracy float64, preds []int32, logits []float32, err error) {
	if err := checkSet(g, set); err != nil {
		return 0, nil, nil, err
	}
	if batch <= 0 {
		batch = 256
	}
	net, err := NewNet(g, min(batch, max(set.Len(), 1)))
	if err != nil {
		return 0, nil, nil, err
	}
	preds = make([]int32, set.Len())
	logits = make([]float32, set.Len()*g.Classes)
	accuracy, _ = evaluate(net, set, preds, logits)
	return accuracy, preds, logits, nil
}

// evaluate runs net in inference mode over set, filling preds and logits
// when they are not nil; it returns the accuracy and the number correct.
func evaluate(net *Net, set *data.Set, preds []int32, logits []float32) (float64, int) {
	k, classes, b := set.SampleSize(), net.g.Classes, net.maxBatch
	correct := 0
	for s0 := 0; s0 < set.Len(); s0 += b {
		n := min(b, set.Len()-s0)
		net.Forward(nil, set.X[s0*k:(s0+n)*k], n, false)
		out := net.Logits(n)
		if logits != nil {
			copy(logits[s0*classes:], out)
		}
		for i := range n {
			row := out[i*classes : (i+1)*classes]
			p := int32(Argmax(row))
			if preds != nil {
				preds[s0+i] = p
			}
			if p == set.Y[s0+i] {
				correct++
			}
		}
	}
	if set.Len() == 0 {
		return 0, 0
	}
	return float64(correct) / float64(set.Len()), correct
}

// Argmax is the index of x's largest element, the first on ties: the class a
// row of logits predicts. It is 0 for an empty x.
func Argmax(x []float32) int {
	best := 0
	for i, v := range x {
		if v > x[best] {
			best = i
		}
	}
	return best
}

// checkSet reports whether set can feed g.
func checkSet(g *Graph, set *data.Set) error {
	if set == nil {
		return fmt.Errorf("dnn: no dataset")
	}
	if !slices.Equal(set.Shape, g.InputShape) {
		return fmt.Errorf("dnn: dataset %q has samples of shape %v, model %q expects %v", set.Name, set.Shape, g.Name, g.InputShape)
	}
	if set.Classes > g.Classes {
		return fmt.Errorf("dnn: dataset %q has %d classes, model %q outputs %d", set.Name, set.Classes, g.Name, g.Classes)
	}
	if len(set.X) != set.Len()*set.SampleSize() {
		return fmt.Errorf("dnn: dataset %q has %d pixels for %d samples of %d", set.Name, len(set.X), set.Len(), set.SampleSize())
	}
	for i, y := range set.Y {
		if y < 0 || int(y) >= g.Classes {
			return fmt.Errorf("dnn: dataset %q: sample %d has label %d outside [0, %d)", set.Name, i, y, g.Classes)
		}
	}
	return nil
}

// ChannelStats returns the per-channel mean and standard deviation of the
// pixels of set, the usual input normalisation (Graph.InputMean, InputStd).
// A constant channel gets standard deviation 1.
func ChannelStats(set *data.Set) (mean, std []float32) {
	c := set.Shape[0]
	hw := set.SampleSize() / c
	sum, sq := make([]float64, c), make([]float64, c)
	for i := range set.Len() {
		x := set.Sample(i)
		for ch := range c {
			for _, v := range x[ch*hw : (ch+1)*hw] {
				sum[ch] += float64(v)
				sq[ch] += float64(v) * float64(v)
			}
		}
	}
	mean, std = make([]float32, c), make([]float32, c)
	n := float64(set.Len() * hw)
	for ch := range c {
		m := sum[ch] / n
		v := sq[ch]/n - m*m
		mean[ch] = float32(m)
		std[ch] = 1
		if v > 1e-12 {
			std[ch] = float32(math.Sqrt(v))
		}
	}
	return mean, std
}

// augment writes into dst the sample src (shape C, H, W) shifted by a random
// offset in [−pad, pad] on each axis, uncovered pixels zero (a random crop of
// the zero-padded image), and mirrored left to right with probability 1/2
// when flip is set.
func augment(dst, src []float32, shape []int, pad int, flip bool, rng *rand.Rand) {
	if len(shape) != 3 || (pad == 0 && !flip) {
		copy(dst, src)
		return
	}
	c, h, w := shape[0], shape[1], shape[2]
	dy, dx := 0, 0
	if pad > 0 {
		dy, dx = rng.IntN(2*pad+1)-pad, rng.IntN(2*pad+1)-pad
	}
	mirror := flip && rng.Uint64()&1 == 1
	for ch := range c {
		for y := range h {
			d := dst[(ch*h+y)*w:][:w]
			sy := y + dy
			if sy < 0 || sy >= h {
				clear(d)
				continue
			}
			s := src[(ch*h+sy)*w:][:w]
			for x := range w {
				xs := x
				if mirror {
					xs = w - 1 - x
				}
				if sx := xs + dx; sx >= 0 && sx < w {
					d[x] = s[sx]
				} else {
					d[x] = 0
				}
			}
		}
	}
}
