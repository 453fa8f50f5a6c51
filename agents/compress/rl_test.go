package compress

import (
	"math"
	"math/rand/v2"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/tandem-edge/tandem/dnn"
	"github.com/tandem-edge/tandem/dnn/data"
)

// TestEpisodeCriticLearns runs the whole-episode update on a bandit whose
// reward couples the steps: the best action of each depends on the others'.
// From random warm-up episodes and then its own noisy ones, the actor's
// greedy episode must come close to the best reward, 0.
func TestEpisodeCriticLearns(t *testing.T) {
	if testing.Short() {
		// One goroutine's arithmetic, 17 times slower under the race
		// detector (129 s); make unit runs it in full.
		t.Skip("a single-threaded learning run: run without -short (make unit does)")
	}
	reward := func(a []float64) float64 {
		d0, d1, d2 := a[0]-0.8, a[1]+a[2]-0.9, a[3]-a[0]/2
		return -(d0*d0 + d1*d1 + d2*d2)
	}
	const steps = 4
	states := make([][]float64, steps)
	for i := range states {
		states[i] = make([]float64, stateDim)
		states[i][0] = float64(i) / steps
		states[i][1+i] = 1
	}
	rng := rand.New(rand.NewPCG(3, 4))
	actor := newMLP(rng, true, stateDim, 64, 64, 1)
	critic := newMLP(rng, false, steps, 64, 64, 1)
	greedy := func() float64 {
		a := make([]float64, steps)
		for i, s := range states {
			a[i] = actor.forward(s)[0]
		}
		return reward(a)
	}
	start := greedy()
	var eps []episode
	sigma := 0.5
	for ep := range 125 {
		a := make([]float64, steps)
		for i, s := range states {
			if ep < 25 {
				a[i] = rng.Float64()
			} else {
				a[i] = truncNormal(rng, actor.forward(s)[0], sigma, 0, 1)
			}
		}
		eps = append(eps, episode{states: states, acts: a, r: reward(a)})
		if ep%25 == 24 {
			t.Logf("ep %d greedy %.4f sigma %.3f", ep, greedy(), sigma)
		}
		if ep >= 25 {
			sigma *= 0.98
			for range 10 {
				updateEpisodes(actor, critic, eps, 64, rng, 3e-4, 3e-3)
			}
		}
	}
	t.Logf("greedy reward %.4f before, %.4f after", start, greedy())
	if end := greedy(); end < -0.02 || end <= start {
		t.Errorf("greedy reward %.4f after learning (%.4f before); want above -0.02", end, start)
	}
}

// rescored finds the re-scored accuracy in a shortlist's log line.
var rescored = regexp.MustCompile(`shortlist \d+/\d+: reward [0-9.]+, \S+ ([0-9.]+) on (\d+) held-out`)

// TestShortlist: with a shortlist the search re-scores that many distinct
// models by the shortlist's reward on the held-out training images (75 at
// most of 300; episodes use 7 validation images), still fits the budget
// and repeats with its seed; without one nothing is re-scored.
func TestShortlist(t *testing.T) {
	g, sp := trained(t)
	cases := []struct {
		k      int
		reward string
		logged string // the reward each re-scored model's line names
	}{
		{0, "", ""},
		{3, RewardLSFinetune, RewardLSFinetune},
		{2, RewardFinetune, RewardFinetune},
	}
	_, out, err := holdOut(sp.Train, 1000)
	if err != nil || out.Len() != 75 {
		t.Fatalf("holding out of 300 training images: %v, %d images; want 75", err, out.Len())
	}
	informative := 0 // re-scored accuracies that tell 75 images from 7
	// Validation is as large as the training split, so the held-out
	// images are capped at a quarter of that.
	val := sp.Train
	for _, tc := range cases {
		run := func() (*Choice, string) {
			var log strings.Builder
			cfg := RLConfig{Episodes: 4, Warmup: 4, Samples: 7, Calibrate: 2, Slice: 64, Shortlist: tc.k, ShortlistReward: tc.reward, Log: &log}
			c, err := chooseRL(g, Budget{Params: 0.05}, val, sp.Train, cfg, 2)
			if err != nil {
				t.Fatal(err)
			}
			return c, log.String()
		}
		c, log := run()
		if got := strings.Count(log, "shortlist"); got != tc.k {
			t.Errorf("shortlist %d: %d models re-scored:\n%s", tc.k, got, log)
		}
		if got := strings.Count(log, ", "+tc.logged+" "); tc.k > 0 && got != tc.k {
			t.Errorf("shortlist %d by %q: %d lines name %s:\n%s", tc.k, tc.reward, got, tc.logged, log)
		}
		for _, m := range rescored.FindAllStringSubmatch(log, -1) {
			v, _ := strconv.ParseFloat(m[1], 64)
			if v > 0 && v < 1 {
				informative++
			}
			if m[2] != "75" {
				t.Errorf("shortlist %d: re-scored on %s held-out images, want 75", tc.k, m[2])
			}
			if n := v * float64(out.Len()); math.Abs(n-math.Round(n)) > 0.01 {
				t.Errorf("shortlist %d: re-scored accuracy %s is not a count of %d images", tc.k, m[1], out.Len())
			}
		}
		if float64(c.Graph.Params()) > 0.05*float64(g.Params()) {
			t.Errorf("shortlist %d: %d params of %d", tc.k, c.Graph.Params(), g.Params())
		}
		checkShortlisted(t, c, tc.k)
		if d, _ := run(); !slices.Equal(d.Ratios, c.Ratios) {
			t.Errorf("shortlist %d: two searches with one seed: %v and %v", tc.k, c.Ratios, d.Ratios)
		}
	}
	if informative == 0 {
		t.Error("every re-scored accuracy is 0 or 1: the test cannot tell the images it was measured on")
	}
}

// checkShortlisted: the choice records k re-scored models in the order of
// their episode reward, and marks as chosen the one the shortlist scored
// best, which is the model chosen.
func checkShortlisted(t *testing.T, c *Choice, k int) {
	t.Helper()
	if len(c.Shortlist) != k {
		t.Fatalf("shortlist %d: %d models recorded", k, len(c.Shortlist))
	}
	chosen := -1
	for i, s := range c.Shortlist {
		if i > 0 && s.Reward > c.Shortlist[i-1].Reward {
			t.Errorf("shortlist %d: model %d's episode reward %g above model %d's %g", k, i, s.Reward, i-1, c.Shortlist[i-1].Reward)
		}
		if s.Chosen {
			if chosen >= 0 {
				t.Errorf("shortlist %d: models %d and %d both chosen", k, chosen, i)
			}
			chosen = i
		}
	}
	if k == 0 {
		return
	}
	if chosen < 0 {
		t.Fatalf("shortlist %d: none chosen", k)
	}
	for i, s := range c.Shortlist {
		if s.Score > c.Shortlist[chosen].Score {
			t.Errorf("shortlist %d: model %d scored %g, above the chosen model %d's %g", k, i, s.Score, chosen, c.Shortlist[chosen].Score)
		}
	}
	if s := c.Shortlist[chosen]; s.Params != c.Graph.Params() || !slices.Equal(s.Keep, c.Ratios) {
		t.Errorf("shortlist %d: chosen %d params, keep %v; the model has %d, keep %v", k, s.Params, s.Keep, c.Graph.Params(), c.Ratios)
	}
}

// TestShortlistRecipe: re-scored by the fine-tuning recipe (the default),
// the shortlist keeps the model that, fine-tuned by the recipe and seed on
// the training images less the held-out ones, is most accurate on those;
// validation beyond the episodes' samples plays no part. The recipe cannot
// score every episode.
func TestShortlistRecipe(t *testing.T) {
	g, sp := trained(t)
	recipe := dnn.TrainConfig{Epochs: 1, BatchSize: 32, LR: 0.01, CropPad: -1, NoFlip: true}
	run := func(val *data.Set) (*Choice, string) {
		var log strings.Builder
		cfg := RLConfig{Episodes: 4, Warmup: 4, Samples: 7, Calibrate: 2, Shortlist: 3, Recipe: recipe, Log: &log}
		c, err := chooseRL(g, Budget{Params: 0.3}, val, sp.Train, cfg, 5)
		if err != nil {
			t.Fatal(err)
		}
		return c, log.String()
	}
	c, log := run(sp.Val)
	checkShortlisted(t, c, 3)
	best := -1.0
	for _, m := range rescored.FindAllStringSubmatch(log, -1) {
		v, _ := strconv.ParseFloat(m[1], 64)
		best = max(best, v)
	}
	fit, out, err := holdOut(sp.Train, sp.Val.Len())
	if err != nil {
		t.Fatal(err)
	}
	tuned := c.Graph.Clone()
	recipe.Seed = 5
	if _, err := dnn.Train(tuned, fit, nil, recipe, nil); err != nil {
		t.Fatal(err)
	}
	acc, _, _, err := dnn.Evaluate(tuned, out, 0)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(acc-best) > 1e-9 {
		t.Errorf("the chosen model's held-out accuracy %.4f; the shortlist's best %.4f:\n%s", acc, best, log)
	}
	// The same search with every validation label past the episodes' 7
	// samples changed chooses the same model.
	flipped := sp.Val.First(sp.Val.Len())
	for i := 7; i < flipped.Len(); i++ {
		flipped.Y[i] = 1 - flipped.Y[i]
	}
	if d, _ := run(flipped); !slices.Equal(d.Ratios, c.Ratios) {
		t.Errorf("validation labels the episodes never see changed the choice: %v and %v", c.Ratios, d.Ratios)
	}
	cfg := RLConfig{Episodes: 4, Warmup: 4, Samples: 7, Calibrate: 2, Shortlist: 3, Recipe: recipe, Reward: RewardRecipe}
	if _, err := chooseRL(g, Budget{Params: 0.3}, sp.Val, sp.Train, cfg, 5); err == nil || !strings.Contains(err.Error(), "cannot score every episode") {
		t.Errorf("the recipe as every episode's reward: %v", err)
	}
}
