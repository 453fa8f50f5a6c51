package dnn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/tandem-edge/tandem/dnn/data"
)

func TestDistillCrossEntropyGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	const n, k = 4, 5
	z, tz := make([]float32, n*k), make([]float32, n*k)
	for i := range z {
		z[i] = float32(3 * rng.NormFloat64())
		tz[i] = float32(3 * rng.NormFloat64())
	}
	labels := []int32{0, 4, 2, 2}
	for _, c := range []struct{ temp, alpha, eps float64 }{{1, 0.5, 0}, {4, 0.9, 0}, {4, 1, 0}, {2, 0.3, 0.1}, {4, 0, 0}} {
		t.Run(fmt.Sprintf("T=%g α=%g ε=%g", c.temp, c.alpha, c.eps), func(t *testing.T) {
			d := make([]float32, len(z))
			DistillCrossEntropy(d, z, tz, labels, k, c.temp, c.alpha, c.eps)
			for i := range z {
				old := z[i]
				const h = 1e-2
				z[i] = old + h
				lp, _ := DistillCrossEntropy(nil, z, tz, labels, k, c.temp, c.alpha, c.eps)
				z[i] = old - h
				lm, _ := DistillCrossEntropy(nil, z, tz, labels, k, c.temp, c.alpha, c.eps)
				z[i] = old
				if num := (lp - lm) / (2 * h); math.Abs(num-float64(d[i])) > 1e-4 {
					t.Errorf("dz[%d]: analytic %.6g, numeric %.6g", i, d[i], num)
				}
			}
		})
	}
}

func TestDistillCrossEntropyValues(t *testing.T) {
	z := []float32{2, 0, -1, 0.5, 0.5, 0.5}
	labels := []int32{0, 2}
	hard, _ := SoftmaxCrossEntropy(nil, z, labels, 3, 0)
	cases := []struct {
		name    string
		teacher []float32
		alpha   float64
		want    float64
	}{
		{"no soft weight is the hard loss", []float32{9, 9, 9, 9, 9, 9}, 0, hard},
		{"a teacher equal to the student adds nothing", z, 1, 0},
		{"a teacher equal to the student, mixed", z, 0.25, 0.75 * hard},
	}
	for _, c := range cases {
		got, correct := DistillCrossEntropy(nil, z, c.teacher, labels, 3, 3, c.alpha, 0)
		if math.Abs(got-c.want) > 1e-9 || correct != 1 {
			t.Errorf("%s: loss %.9g correct %d, want %.9g and 1", c.name, got, correct, c.want)
		}
	}
	// A confident teacher disagreeing with the student costs more at α = 1
	// than one that agrees.
	agree, _ := DistillCrossEntropy(nil, z, []float32{5, 0, 0, 0, 0, 5}, labels, 3, 2, 1, 0)
	disagree, _ := DistillCrossEntropy(nil, z, []float32{0, 0, 5, 5, 0, 0}, labels, 3, 2, 1, 0)
	if !(disagree > agree && agree > 0) {
		t.Errorf("soft loss %g for an agreeing teacher, %g for a disagreeing one", agree, disagree)
	}
}

// shiftedTeacher trains a teacher that answers class (y+1) mod 3 for class y.
func shiftedTeacher(t *testing.T, train *data.Set) *Graph {
	t.Helper()
	teacher, err := Zoo("tiny", train.Shape, 3, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	shifted := *train
	shifted.Y = make([]int32, len(train.Y))
	for i, y := range train.Y {
		shifted.Y[i] = (y + 1) % 3
	}
	if _, err := Train(teacher, &shifted, nil, TrainConfig{Epochs: 6, BatchSize: 32, NoFlip: true, Seed: 3}, nil); err != nil {
		t.Fatal(err)
	}
	return teacher
}

// TestTrainDistils trains a student on labels it never sees the truth of:
// its teacher answers class (y+1) mod 3 for class y, and with all weight on
// the soft targets the student must learn the teacher's answers.
func TestTrainDistils(t *testing.T) {
	train, val := barSet(384, 1), barSet(128, 2)
	teacher := shiftedTeacher(t, train)
	student0, err := Zoo("tiny", train.Shape, 3, 0.5, 2)
	if err != nil {
		t.Fatal(err)
	}
	cfg := TrainConfig{Epochs: 6, BatchSize: 32, NoFlip: true, Seed: 3, Teacher: teacher, DistillWeight: 1, Temperature: 2}
	student := student0.Clone()
	if _, err := Train(student, train, nil, cfg, nil); err != nil {
		t.Fatal(err)
	}
	_, preds, _, err := Evaluate(student, val, 0)
	if err != nil {
		t.Fatal(err)
	}
	agree := 0
	for i, p := range preds {
		if p == (val.Y[i]+1)%3 {
			agree++
		}
	}
	if frac := float64(agree) / float64(len(preds)); frac < 0.85 {
		t.Errorf("the student answers as its teacher on %.2f of validation images, want most", frac)
	}
	again := student0.Clone()
	if _, err := Train(again, train, nil, cfg, nil); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(again.Nodes[0].W.Data, student.Nodes[0].W.Data) {
		t.Error("distillation is not deterministic for one seed")
	}

	for _, bad := range []TrainConfig{
		{Epochs: 1, Teacher: teacher, DistillWeight: 1.5},
		{Epochs: 1, Teacher: teacher, Temperature: -1},
	} {
		if _, err := Train(student0.Clone(), train, nil, bad, nil); err == nil {
			t.Errorf("Train with α %g, T %g: no error", bad.DistillWeight, bad.Temperature)
		}
	}
	other, _ := Zoo("tiny", train.Shape, 4, 1, 1)
	if _, err := Train(student0.Clone(), train, nil, TrainConfig{Epochs: 1, Teacher: other}, nil); err == nil {
		t.Error("Train with a teacher of 4 classes for a model of 3: no error")
	}
}

// TestTrainDistilsFromCachedLogits: soft targets computed once give the
// student its teacher's answers too, and differ from live distillation only
// by the augmentation they do not follow.
func TestTrainDistilsFromCachedLogits(t *testing.T) {
	train, val := barSet(384, 1), barSet(128, 2)
	teacher := shiftedTeacher(t, train)
	cached, err := TeacherLogitsOf(teacher, train)
	if err != nil {
		t.Fatal(err)
	}
	student0, _ := Zoo("tiny", train.Shape, 3, 0.5, 2)
	for _, c := range []struct {
		name string
		cfg  TrainConfig
	}{
		{"no augmentation", TrainConfig{CropPad: -1}},
		{"augmented", TrainConfig{CropPad: 1}},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := c.cfg
			cfg.Epochs, cfg.BatchSize, cfg.NoFlip, cfg.Seed, cfg.DistillWeight, cfg.Temperature = 6, 32, true, 3, 1, 2
			live, fixed := cfg, cfg
			live.Teacher, fixed.TeacherLogits = teacher, cached
			a, b := student0.Clone(), student0.Clone()
			if _, err := Train(a, train, nil, live, nil); err != nil {
				t.Fatal(err)
			}
			if _, err := Train(b, train, nil, fixed, nil); err != nil {
				t.Fatal(err)
			}
			// Equal up to rounding: a GEMM library may sum a sample's row
			// in another order in another batch, so the cached logits,
			// computed in batches of their own, can differ from the live
			// teacher's in the last bit (2.4e-7 after training here with
			// OpenBLAS, 0 with the Go kernels), where a teacher that sees
			// other crops moves the weights by about 0.09.
			var diff float64
			for i, w := range a.Nodes[0].W.Data {
				diff = max(diff, math.Abs(float64(w-b.Nodes[0].W.Data[i])))
			}
			if same, want := diff <= 1e-4, cfg.CropPad < 0; same != want {
				t.Errorf("live and cached soft targets trained the same weights (largest difference %g): %v, want %v", diff, same, want)
			}
			_, preds, _, _ := Evaluate(b, val, 0)
			agree := 0
			for i, p := range preds {
				if p == (val.Y[i]+1)%3 {
					agree++
				}
			}
			if frac := float64(agree) / float64(len(preds)); frac < 0.85 {
				t.Errorf("the student answers as its teacher on %.2f of validation images", frac)
			}
		})
	}
	if _, err := Train(student0.Clone(), train, nil, TrainConfig{Epochs: 1, TeacherLogits: cached[:5]}, nil); err == nil {
		t.Error("5 teacher logits for 384 samples: no error")
	}
	if _, err := Train(student0.Clone(), train, nil, TrainConfig{Epochs: 1, Teacher: teacher, TeacherLogits: cached}, nil); err == nil {
		t.Error("a teacher and cached logits together: no error")
	}
}
