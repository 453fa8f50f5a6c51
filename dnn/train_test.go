package dnn

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/tandem-edge/tandem/dnn/data"
)

// barSet makes n 1x8x8 images of three classes, a horizontal bar, a vertical
// bar and a diagonal, at random positions under noise.
func barSet(n int, seed uint64) *data.Set {
	rng := rand.New(rand.NewPCG(seed, 9))
	s := &data.Set{Name: "bars", Shape: []int{1, 8, 8}, Classes: 3, X: make([]float32, n*64), Y: make([]int32, n)}
	for i := range n {
		x := s.X[i*64 : (i+1)*64]
		for j := range x {
			x[j] = 0.3 * rng.Float32()
		}
		y := rng.IntN(3)
		p := 1 + rng.IntN(6)
		for k := range 8 {
			switch y {
			case 0:
				x[p*8+k] += 0.7
			case 1:
				x[k*8+p] += 0.7
			case 2:
				x[k*8+k] += 0.7
			}
		}
		s.Y[i] = int32(y)
	}
	return s
}

func TestTrainLossFalls(t *testing.T) {
	train, val := barSet(384, 1), barSet(128, 2)
	g, err := Zoo("tiny", train.Shape, 3, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, opt := range []string{"sgd", "nesterov", "adam"} {
		t.Run(opt, func(t *testing.T) {
			g := g.Clone()
			var steps int
			res, err := Train(g, train, val, TrainConfig{Epochs: 6, BatchSize: 32, Optimizer: opt, NoFlip: true, Seed: 3},
				func(p Progress) {
					if !p.EpochDone {
						steps++
					}
				})
			if err != nil {
				t.Fatal(err)
			}
			first, last := res.Epochs[0], res.Epochs[len(res.Epochs)-1]
			if last.Loss > 0.75*first.Loss || res.ValAccuracy < 0.9 || steps != 6*12 {
				t.Errorf("loss %.3f -> %.3f, validation accuracy %.3f after %d steps", first.Loss, last.Loss, res.ValAccuracy, steps)
			}
			if g.InputMean == nil || g.InputStd == nil {
				t.Error("Train left the input normalisation unset")
			}
			acc, preds, logits, err := Evaluate(g, val, 50)
			if err != nil || acc != res.ValAccuracy || len(preds) != val.Len() || len(logits) != 3*val.Len() {
				t.Fatalf("Evaluate: %v %d preds %d logits (%v)", acc, len(preds), len(logits), err)
			}
			for i, p := range preds {
				if int(p) != Argmax(logits[3*i:3*i+3]) {
					t.Fatalf("sample %d: prediction %d is not the largest logit of %v", i, p, logits[3*i:3*i+3])
				}
			}
		})
	}
}

// dropoutModel is the tiny zoo model with dropout before its classifier.
func dropoutModel(t *testing.T) *Graph {
	g, err := Zoo("tiny", []int{1, 8, 8}, 3, 1, 5)
	if err != nil {
		t.Fatal(err)
	}
	fc := g.Node("fc")
	g.Nodes = slices.Insert(g.Nodes, len(g.Nodes)-1, &Node{Name: "drop", Op: OpDropout, Inputs: fc.Inputs, Rate: 0.3})
	fc.Inputs = []string{"drop"}
	return g
}

func trainedWeights(t *testing.T, g *Graph, seed uint64) []float32 {
	t.Helper()
	_, err := Train(g, barSet(160, 1), nil, TrainConfig{Epochs: 2, BatchSize: 32, Seed: seed}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var w []float32
	for _, n := range g.Nodes {
		for _, p := range []*Tensor{n.W, n.B, n.Scale, n.Bias, n.Mean, n.Var} {
			if p != nil {
				w = append(w, p.Data...)
			}
		}
	}
	return w
}

func TestTrainDeterministic(t *testing.T) {
	// A small im2col budget splits each batch into many chunks, so that the
	// weight gradients are summed from several parts.
	defer func(b int) { colBudget = b }(colBudget)
	colBudget = 3 * 9 * 64
	g := dropoutModel(t)
	a := trainedWeights(t, g.Clone(), 7)
	b := trainedWeights(t, g.Clone(), 7)
	if !slices.Equal(a, b) {
		t.Error("two runs with one seed differ")
	}
	if slices.Equal(a, trainedWeights(t, g.Clone(), 8)) {
		t.Error("runs with different seeds agree")
	}
	// Holding the worker pool makes every layer run on this goroutine alone.
	p := workers()
	p.mu.Lock()
	c := trainedWeights(t, g.Clone(), 7)
	p.mu.Unlock()
	if !slices.Equal(a, c) {
		t.Error("training on one worker differs from training on several")
	}
}

func TestTrainErrors(t *testing.T) {
	g, _ := Zoo("tiny", []int{1, 8, 8}, 3, 1, 1)
	set := barSet(10, 1)
	other := &data.Set{Name: "other", Shape: []int{1, 9, 9}, Classes: 3, X: make([]float32, 81), Y: []int32{0}}
	bad := barSet(10, 1)
	bad.Y[3] = 5
	for name, run := range map[string]func() error{
		"shape":     func() error { _, err := Train(g.Clone(), other, nil, TrainConfig{}, nil); return err },
		"label":     func() error { _, err := Train(g.Clone(), bad, nil, TrainConfig{}, nil); return err },
		"optimizer": func() error { _, err := Train(g.Clone(), set, nil, TrainConfig{Optimizer: "rmsprop"}, nil); return err },
		"schedule":  func() error { _, err := Train(g.Clone(), set, nil, TrainConfig{Schedule: "linear"}, nil); return err },
		"diverges": func() error {
			_, err := Train(g.Clone(), set, nil, TrainConfig{LR: 1e30, Epochs: 3, BatchSize: 5}, nil)
			return err
		},
		"evaluate": func() error { _, _, _, err := Evaluate(g, other, 0); return err },
	} {
		if run() == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestLearningRate(t *testing.T) {
	cfg, err := TrainConfig{Epochs: 10, LR: 1, WarmupEpochs: 1}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	const per, total = 10, 100
	for _, c := range []struct {
		step int
		want float64
	}{{0, 0.1}, {4, 0.5}, {9, 1}, {10, 1}, {55, 0.5}, {99, (1 + math.Cos(math.Pi*89/90)) / 2}} {
		if got := cfg.learningRate(c.step, per, total); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("cosine step %d: %g, want %g", c.step, got, c.want)
		}
	}
	cfg, _ = TrainConfig{Epochs: 9, LR: 1, Schedule: "step"}.withDefaults()
	for _, c := range []struct {
		step int
		want float64
	}{{0, 1}, {29, 1}, {30, 0.1}, {89, 0.01}} {
		if got := cfg.learningRate(c.step, per, 90); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("step schedule step %d: %g, want %g", c.step, got, c.want)
		}
	}
}

func TestOptimizers(t *testing.T) {
	// Minimise ½‖w − 3‖² from w = 0; the second parameter also decays.
	for name, opt := range map[string]Optimizer{
		"sgd":      &SGD{Momentum: 0.9},
		"nesterov": &SGD{Momentum: 0.9, Nesterov: true},
		"plain":    &SGD{},
		"adam":     &Adam{},
	} {
		params := []*Param{
			{Name: "a", Value: []float32{0, 0}, Grad: make([]float32, 2)},
			{Name: "b", Value: []float32{0}, Grad: make([]float32, 1), Decay: true},
		}
		for range 500 {
			for _, p := range params {
				for i, v := range p.Value {
					p.Grad[i] = v - 3
				}
			}
			opt.Step(params, 0.05)
		}
		if a := params[0].Value[0]; math.Abs(float64(a)-3) > 0.05 {
			t.Errorf("%s: w = %g, want 3", name, a)
		}
	}
	// With weight decay λ the minimum of ½(w − 3)² + ½λw² is 3/(1 + λ).
	p := []*Param{{Value: []float32{0}, Grad: []float32{0}, Decay: true}}
	o := &SGD{Momentum: 0.9, WeightDecay: 1}
	for range 500 {
		p[0].Grad[0] = p[0].Value[0] - 3
		o.Step(p, 0.05)
	}
	if w := p[0].Value[0]; math.Abs(float64(w)-1.5) > 1e-3 {
		t.Errorf("decayed w = %g, want 1.5", w)
	}
}

func TestAugment(t *testing.T) {
	shape := []int{2, 3, 4}
	src := make([]float32, 24)
	for i := range src {
		src[i] = float32(i + 1)
	}
	dst := make([]float32, 24)
	rng := rand.New(rand.NewPCG(1, 1))
	augment(dst, src, shape, 0, false, rng)
	if !slices.Equal(dst, src) {
		t.Fatalf("no augmentation changed the image: %v", dst)
	}
	flips := 0
	for range 50 {
		augment(dst, src, shape, 0, true, rng)
		mirrored := true
		for c := range 2 {
			for y := range 3 {
				for x := range 4 {
					if dst[(c*3+y)*4+x] != src[(c*3+y)*4+3-x] {
						mirrored = false
					}
				}
			}
		}
		switch {
		case mirrored:
			flips++
		case !slices.Equal(dst, src):
			t.Fatalf("flip-only augmentation is neither identity nor mirror: %v", dst)
		}
	}
	if flips < 10 || flips > 40 {
		t.Errorf("%d flips in 50", flips)
	}
	// A crop keeps every pixel it shows at its shifted place and the sum of
	// the visible pixels never exceeds the original.
	for range 50 {
		augment(dst, src, shape, 1, false, rng)
		for i, v := range dst {
			if v != 0 && (int(v)-1)/12 != i/12 {
				t.Fatalf("pixel %v moved across channels to %d", v, i)
			}
		}
	}
}

// sideSet makes n 1x8x8 images of two classes that are each other's mirror
// image: a bright column left of the middle or right of it.
func sideSet(n int, seed uint64) *data.Set {
	rng := rand.New(rand.NewPCG(seed, 5))
	s := &data.Set{Name: "sides", Shape: []int{1, 8, 8}, Classes: 2, X: make([]float32, n*64), Y: make([]int32, n)}
	for i := range n {
		x := s.X[i*64 : (i+1)*64]
		for j := range x {
			x[j] = 0.3 * rng.Float32()
		}
		y := rng.IntN(2)
		col := rng.IntN(3)
		if y == 1 {
			col = 7 - col
		}
		for r := range 8 {
			x[r*8+col] += 0.7
		}
		s.Y[i] = int32(y)
	}
	return s
}

// A set that says its mirror images are other classes is never flipped,
// even when the configuration asks for flips.
func TestTrainHonoursSetNoFlip(t *testing.T) {
	for _, tc := range []struct {
		noFlip bool
		ok     func(acc float64) bool
	}{
		{true, func(acc float64) bool { return acc >= 0.9 }},
		{false, func(acc float64) bool { return acc <= 0.75 }},
	} {
		train, val := sideSet(384, 1), sideSet(128, 2)
		train.NoFlip = tc.noFlip
		g, err := Zoo("tiny", train.Shape, 2, 1, 1)
		if err != nil {
			t.Fatal(err)
		}
		res, err := Train(g, train, val, TrainConfig{Epochs: 6, BatchSize: 32, CropPad: -1, Seed: 3}, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("set NoFlip %v: validation accuracy %.3f", tc.noFlip, res.ValAccuracy)
		if !tc.ok(res.ValAccuracy) {
			t.Errorf("set NoFlip %v: validation accuracy %.3f", tc.noFlip, res.ValAccuracy)
		}
	}
}
