package dnn

import (
	"fmt"
	"math"
)

// TrainConfig says how Train trains. Every zero value means a sensible
// default, given in the field's comment. Together the defaults are the
// recipe tuned for the zoo's vgg on Fashion-MNIST: 15 epochs of momentum SGD
// in batches of 128, cosine annealing from 0.05, weight decay 5e-4, random
// crops and flips.
type TrainConfig struct {
	// Epochs is the number of passes over the training set; 0 means 15.
	Epochs int
	// BatchSize is the number of samples per step; 0 means 128. Each epoch
	// drops the final partial batch (the shuffle differs every epoch, so
	// every sample is still seen).
	BatchSize int
	// Optimizer is "sgd" (momentum SGD; the default), "nesterov" or "adam"
	// (AdamW).
	Optimizer string
	// LR is the peak learning rate; 0 means 0.05 for SGD and 0.002 for Adam.
	LR float64
	// Momentum is the SGD momentum; 0 means 0.9 and a negative value none.
	Momentum float64
	// WeightDecay is the L2 factor on Conv and Dense weights (never on
	// biases or BatchNorm); 0 means 5e-4 for SGD and 0.05 for AdamW, and a
	// negative value none.
	WeightDecay float64
	// Schedule shapes the learning rate over training after the warmup:
	// "cosine" (the default) anneals it to 0 along a half cosine,
	//
	//	lr(t) = LR · (1 + cos(π·t/T)) / 2,
	//
	// "step" multiplies it by StepGamma every StepEvery epochs, and
	// "constant" keeps it.
	Schedule string
	// StepEvery is the period of the "step" schedule in epochs; 0 means a
	// third of Epochs (at least 1).
	StepEvery int
	// StepGamma is the factor of the "step" schedule; 0 means 0.1.
	StepGamma float64
	// WarmupEpochs is the length, in (possibly fractional) epochs, of a
	// linear ramp of the learning rate from LR/w to LR over the first w
	// steps, before the schedule starts; 0 means none.
	WarmupEpochs float64
	// LabelSmoothing is ε of SoftmaxCrossEntropy; 0 means none.
	LabelSmoothing float64
	// CropPad is the zero padding of random-crop augmentation: each training
	// image is shifted by up to CropPad pixels each way, uncovered pixels
	// black. 0 means 2; a negative value turns cropping off.
	CropPad int
	// NoFlip turns off the random horizontal flip (probability 1/2) of
	// training images; set it for data whose mirror image is another class,
	// such as digits. A data.Set whose NoFlip is set is never flipped.
	NoFlip bool
	// Teacher, when set, distils it into the model trained: every step
	// also runs Teacher in inference mode on the same augmented batch and
	// minimises DistillCrossEntropy against its logits instead of the
	// cross-entropy alone. It must take the same inputs and classes.
	Teacher *Graph
	// TeacherLogits, when set instead of Teacher, are the teacher's logits
	// on every training sample as it is, without augmentation (n·Classes
	// values, computed once: TeacherLogitsOf), used as the soft targets of
	// each augmented view of it. It saves the teacher's forward pass at
	// every step, at the price of soft targets of the unshifted image.
	TeacherLogits []float32
	// Temperature is distillation's T; 0 means 4.
	Temperature float64
	// DistillWeight is distillation's α, the weight of the teacher's soft
	// targets against the labels, in (0, 1]; 0 means 0.9.
	DistillWeight float64
	// Seed drives Train's randomness: shuffling, augmentation and dropout
	// (the initial weights are the Graph's). Equal seeds give equal runs.
	Seed uint64
}

// withDefaults returns c with every zero field replaced by its default and
// the negative "off" values turned into zeros.
func (c TrainConfig) withDefaults() (TrainConfig, error) {
	if c.Epochs == 0 {
		c.Epochs = 15
	}
	if c.BatchSize == 0 {
		c.BatchSize = 128
	}
	if c.Epochs < 0 || c.BatchSize < 0 {
		return c, fmt.Errorf("dnn: train: epochs %d and batch size %d must be positive", c.Epochs, c.BatchSize)
	}
	adam := false
	switch c.Optimizer {
	case "":
		c.Optimizer = "sgd"
	case "sgd", "nesterov":
	case "adam":
		adam = true
	default:
		return c, fmt.Errorf("dnn: train: unknown optimizer %q (want sgd, nesterov or adam)", c.Optimizer)
	}
	if c.LR == 0 {
		c.LR = 0.05
		if adam {
			c.LR = 0.002
		}
	}
	if c.LR < 0 || math.IsNaN(c.LR) {
		return c, fmt.Errorf("dnn: train: learning rate %g, want > 0", c.LR)
	}
	c.Momentum = orDefault(c.Momentum, 0.9)
	wd := 5e-4
	if adam {
		wd = 0.05
	}
	c.WeightDecay = orDefault(c.WeightDecay, wd)
	switch c.Schedule {
	case "":
		c.Schedule = "cosine"
	case "cosine", "step", "constant":
	default:
		return c, fmt.Errorf("dnn: train: unknown schedule %q (want cosine, step or constant)", c.Schedule)
	}
	if c.StepEvery <= 0 {
		c.StepEvery = max(1, c.Epochs/3)
	}
	if c.StepGamma == 0 {
		c.StepGamma = 0.1
	}
	if c.WarmupEpochs < 0 {
		c.WarmupEpochs = 0
	}
	if c.LabelSmoothing < 0 || c.LabelSmoothing >= 1 {
		return c, fmt.Errorf("dnn: train: label smoothing %g, want 0 <= ε < 1", c.LabelSmoothing)
	}
	if c.CropPad == 0 {
		c.CropPad = 2
	}
	c.CropPad = max(c.CropPad, 0)
	if c.Teacher != nil && c.TeacherLogits != nil {
		return c, fmt.Errorf("dnn: train: a teacher and precomputed teacher logits: give one")
	}
	if c.Teacher != nil || c.TeacherLogits != nil {
		if c.Temperature == 0 {
			c.Temperature = 4
		}
		if c.DistillWeight == 0 {
			c.DistillWeight = 0.9
		}
		if !(c.Temperature > 0) || math.IsInf(c.Temperature, 0) {
			return c, fmt.Errorf("dnn: train: distillation temperature %g, want > 0", c.Temperature)
		}
		if !(c.DistillWeight > 0 && c.DistillWeight <= 1) {
			return c, fmt.Errorf("dnn: train: distillation weight %g, want 0 < α <= 1", c.DistillWeight)
		}
	}
	return c, nil
}

// orDefault maps 0 to def and a negative value to 0 (off).
func orDefault(v, def float64) float64 {
	switch {
	case v == 0:
		return def
	case v < 0:
		return 0
	}
	return v
}

// optimizer builds the configured optimizer; c has its defaults filled.
func (c TrainConfig) optimizer() Optimizer {
	if c.Optimizer == "adam" {
		return &Adam{WeightDecay: c.WeightDecay}
	}
	return &SGD{Momentum: c.Momentum, Nesterov: c.Optimizer == "nesterov", WeightDecay: c.WeightDecay}
}

// learningRate is the rate of step t (0-based) of a run of total steps with
// perEpoch steps per epoch; c has its defaults filled.
func (c TrainConfig) learningRate(t, perEpoch, total int) float64 {
	warm := int(math.Round(c.WarmupEpochs * float64(perEpoch)))
	if t < warm {
		return c.LR * float64(t+1) / float64(warm)
	}
	switch c.Schedule {
	case "cosine":
		span := max(total-warm, 1)
		return c.LR * (1 + math.Cos(math.Pi*float64(t-warm)/float64(span))) / 2
	case "step":
		return c.LR * math.Pow(c.StepGamma, float64(t/perEpoch/c.StepEvery))
	}
	return c.LR
}
