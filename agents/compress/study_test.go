package compress

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/tandem-edge/tandem/dnn"
)

func TestSpearman(t *testing.T) {
	cases := []struct {
		x, y []float64
		want float64
	}{
		{[]float64{1, 2, 3, 4}, []float64{10, 20, 30, 40}, 1},
		{[]float64{1, 2, 3, 4}, []float64{9, 4, 1, 0}, -1},
		{[]float64{1, 2, 3, 4, 5}, []float64{1, 4, 9, 16, 25.5}, 1}, // monotone, not linear
		// Ties share their mean rank: x ranks 1, 2.5, 2.5, 4; y ranks 1..4.
		{[]float64{0, 5, 5, 9}, []float64{1, 2, 3, 4}, 2.25 / math.Sqrt(4.5*5) * 2},
		{[]float64{3, 1, 2}, []float64{1, 2, 3}, -0.5},
	}
	for _, c := range cases {
		if got := Spearman(c.x, c.y); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("Spearman(%v, %v) = %v, want %v", c.x, c.y, got, c.want)
		}
	}
	if got := Spearman([]float64{1, 1, 1}, []float64{1, 2, 3}); !math.IsNaN(got) {
		t.Errorf("Spearman of a constant = %v, want NaN", got)
	}
}

func TestStudyRewards(t *testing.T) {
	if testing.Short() {
		t.Skip("trains and fine-tunes several models: run without -short (make unit does)")
	}
	g, sp := trained(t)
	st, err := StudyRewards(StudyConfig{Heavy: g, Splits: sp, Budget: Budget{FLOPs: 0.3}, Models: 4, Seed: 1,
		Finetune: dnn.TrainConfig{Epochs: 1, BatchSize: 32, CropPad: -1, NoFlip: true, LR: 0.01, Teacher: g},
		RL:       RLConfig{Samples: 60, Calibrate: 2, Slice: 64}})
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Sampled) != 4 || len(st.Rewards) != len(Rewards) || !st.Finetune.Distill || st.Budget.FLOPsFraction != 0.3 {
		t.Fatalf("study %+v", st)
	}
	base, _ := g.FLOPs()
	var accs []float64
	for _, m := range st.Sampled {
		if float64(m.FLOPs) > 0.3*float64(base) || len(m.Rewards) != len(Rewards) || len(m.Keep) != len(g.ConvGroups()) {
			t.Errorf("sampled %+v", m)
		}
		accs = append(accs, m.ValAccuracy)
	}
	// Models differ in how they spend the budget, and each spends most of it.
	distinct := map[string]bool{}
	for _, m := range st.Sampled {
		distinct[fmt.Sprint(m.Keep)] = true
		if float64(m.FLOPs) < 0.6*0.3*float64(base) {
			t.Errorf("sampled %v: %d FLOPs, far under the budget", m.Keep, m.FLOPs)
		}
	}
	if len(distinct) < 3 {
		t.Errorf("only %d distinct models among %d sampled", len(distinct), len(st.Sampled))
	}
	for _, r := range st.Rewards {
		if !slices.Contains(accs, r.PickedValAccuracy) || r.PickedValAccuracy > st.BestValAccuracy || r.SecondsPerModel <= 0 {
			t.Errorf("reward %+v", r)
		}
		if r.Spearman != nil && (*r.Spearman < -1 || *r.Spearman > 1) {
			t.Errorf("%s: Spearman %v", r.Reward, *r.Spearman)
		}
	}
	if _, err := StudyRewards(StudyConfig{Heavy: g, Splits: sp, Budget: Budget{FLOPs: 0.3}, Models: 2}); err == nil {
		t.Error("a study of 2 models: no error")
	}
}

// TestRLRewards runs the search briefly with each reward.
func TestRLRewards(t *testing.T) {
	if testing.Short() {
		t.Skip("trains and fine-tunes several models: run without -short (make unit does)")
	}
	g, sp := trained(t)
	base, _ := g.FLOPs()
	for _, kind := range Rewards {
		c, err := chooseRL(g, Budget{FLOPs: 0.3}, sp.Val, sp.Train, RLConfig{Episodes: 3, Warmup: 2, Samples: 60, Calibrate: 2, Slice: 64, Reward: kind,
			Recipe: dnn.TrainConfig{CropPad: -1, NoFlip: true, Teacher: g}}, 5)
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		if f, _ := c.Graph.FLOPs(); float64(f) > 0.3*float64(base) {
			t.Errorf("%s: %d FLOPs over the budget", kind, f)
		}
	}
	if _, err := chooseRL(g, Budget{FLOPs: 0.3}, sp.Val, sp.Train, RLConfig{Reward: "luck"}, 5); err == nil {
		t.Error("an unknown reward: no error")
	}
}

// TestRLWarmupExplores: at a tight budget the warm-up episodes still try
// many different models, each within the budget.
func TestRLWarmupExplores(t *testing.T) {
	g, sp := trained(t)
	e, err := newEnv(g, Budget{FLOPs: 0.1}, sp.Val, 0.1)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	seen := map[string]bool{}
	for range 10 {
		r, err := e.sample(rng, 0.1)
		if err != nil {
			t.Fatal(err)
		}
		p, _ := e.build(r)
		if ok, _ := e.b.meets(p, e.base); !ok {
			t.Errorf("sampled %v is over the budget", r)
		}
		seen[fmt.Sprint(round2(r))] = true
	}
	if len(seen) < 8 {
		t.Errorf("10 samples gave %d distinct models", len(seen))
	}
}
