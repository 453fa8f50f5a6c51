package compress

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tandem-edge/tandem/dnn"
	"github.com/tandem-edge/tandem/dnn/data"
	"github.com/tandem-edge/tandem/predict"
	"github.com/tandem-edge/tandem/profiles"
)

func hilPredict(d *profiles.Device, g *dnn.Graph) (time.Duration, error) {
	return predict.Graph(d, g, 1)
}

// halves is a two-class 8x8 set: class 0 bright on top, class 1 below.
func halves(n int, seed uint64) *data.Set {
	rng := rand.New(rand.NewPCG(seed, 1))
	s := &data.Set{Name: "halves", Shape: []int{1, 8, 8}, Classes: 2}
	for i := range n {
		y := i % 2
		s.Y = append(s.Y, int32(y))
		for p := range 64 {
			v := 0.25 * rng.Float32()
			if (p < 32) == (y == 0) {
				v += 0.6
			}
			s.X = append(s.X, v)
		}
	}
	return s
}

func trained(t *testing.T) (*dnn.Graph, *data.Splits) {
	t.Helper()
	sp := &data.Splits{Train: halves(300, 1), Val: halves(60, 2), Test: halves(100, 3)}
	g, err := dnn.Zoo("vgg", []int{1, 8, 8}, 2, 0.5, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dnn.Train(g, sp.Train, sp.Val, dnn.TrainConfig{Epochs: 2, BatchSize: 32, Seed: 1, CropPad: -1, NoFlip: true}, nil); err != nil {
		t.Fatal(err)
	}
	return g, sp
}

func TestChooseMeetsTheBudget(t *testing.T) {
	g, _ := trained(t)
	base, _ := g.FLOPs()
	for _, m := range []string{Uniform, L1, Random} {
		for _, frac := range []float64{0.2, 0.5} {
			c, err := Choose(g, m, Budget{FLOPs: frac}, 1)
			if err != nil {
				t.Fatalf("%s at %g: %v", m, frac, err)
			}
			f, _ := c.Graph.FLOPs()
			if float64(f) > frac*float64(base) {
				t.Errorf("%s at %g: %d FLOPs, over %g of %d", m, frac, f, frac, base)
			}
			// The largest model that fits: within a few percent of the budget.
			if float64(f) < 0.75*frac*float64(base) {
				t.Errorf("%s at %g: %d FLOPs, far under the budget %g·%d", m, frac, f, frac, base)
			}
			if len(c.Ratios) != len(g.ConvGroups()) {
				t.Errorf("%s: %d ratios for %d groups", m, len(c.Ratios), len(g.ConvGroups()))
			}
		}
	}
	// The same seed chooses the same random model.
	a, _ := Choose(g, Random, Budget{FLOPs: 0.3}, 7)
	b, _ := Choose(g, Random, Budget{FLOPs: 0.3}, 7)
	if a.Graph.Params() != b.Graph.Params() || len(a.Keep) != len(b.Keep) {
		t.Error("two random choices with one seed differ")
	}
}

func TestRunReports(t *testing.T) {
	g, sp := trained(t)
	measured := 0
	rep, best, err := Run(Config{Heavy: g, Splits: sp, Budget: Budget{FLOPs: 0.3}, Seed: 1, Methods: []string{Uniform, L1, Random},
		Finetune: dnn.TrainConfig{Epochs: 1, BatchSize: 32, CropPad: -1, NoFlip: true, LR: 0.01},
		Measure:  func(*dnn.Graph) (time.Duration, error) { measured++; return time.Millisecond, nil }})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Methods) != 3 || measured != 3 || best == nil || rep.Best == "" {
		t.Fatalf("report %+v", rep)
	}
	for _, r := range rep.Methods {
		if float64(r.FLOPs) > 0.3*float64(rep.Heavy.FLOPs) || r.Params >= rep.Heavy.Params || r.LatencyMSMeasured != 1 {
			t.Errorf("%+v", r)
		}
		if r.Method == rep.Best && best.Meta["compress_method"] != r.Method {
			t.Errorf("best model is %s, report says %s", best.Meta["compress_method"], rep.Best)
		}
	}
	// The winner is chosen on validation, never on the test split.
	for _, r := range rep.Methods {
		for _, o := range rep.Methods {
			if o.Method == rep.Best && r.ValAccuracy > o.ValAccuracy {
				t.Errorf("%s is more accurate on validation (%.4f) than the chosen %s (%.4f)", r.Method, r.ValAccuracy, o.Method, o.ValAccuracy)
			}
		}
	}
}

func TestBudgetErrors(t *testing.T) {
	g, _ := trained(t)
	cases := []struct {
		b    Budget
		want string
	}{
		{Budget{}, "no budget"},
		{Budget{FLOPs: 1.5}, "want (0, 1]"},
		{Budget{Params: -0.5}, "parameter fraction -0.5: want (0, 1]"},
		{Budget{Latency: time.Millisecond}, "needs a device profile with a latency predictor"},
		{Budget{Latency: time.Millisecond, Device: &profiles.Device{Name: "x"}}, "needs a device profile with a latency predictor"},
		{Budget{FLOPs: 1e-9}, "even one channel a layer exceeds the budget"},
	}
	for _, tc := range cases {
		if _, err := Choose(g, Uniform, tc.b, 1); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Choose(%+v): %v, want %q", tc.b, err, tc.want)
		}
	}
	if _, err := Choose(g, "amc", Budget{FLOPs: 0.5}, 1); err == nil || !strings.Contains(err.Error(), `unknown method "amc"`) {
		t.Errorf("Choose(amc): %v", err)
	}
}

// latencyRange is g's predicted latency on the built-in edge-cpu-1t, whole
// and with one channel a layer, and the profile it was predicted on.
func latencyRange(t *testing.T, g *dnn.Graph) (d *profiles.Device, least, full time.Duration) {
	t.Helper()
	d, err := profiles.LoadDevice("edge-cpu-1t")
	if err != nil {
		t.Fatal(err)
	}
	if full, err = hilPredict(d, g); err != nil {
		t.Fatal(err)
	}
	one := map[string][]int{}
	for _, gr := range g.ConvGroups() {
		setGroup(one, gr, dnn.L1Channels(g, gr, 1))
	}
	thin, err := dnn.Prune(g, one)
	if err != nil {
		t.Fatal(err)
	}
	if least, err = hilPredict(d, thin); err != nil {
		t.Fatal(err)
	}
	return d, least, full
}

func TestLatencyBudget(t *testing.T) {
	g, _ := trained(t)
	d, least, full := latencyRange(t, g)
	// Halfway between one channel a layer and the whole model: fixed
	// per-layer costs dominate a model this small.
	budget := (least + full) / 2
	c, err := Choose(g, Uniform, Budget{Latency: budget, Device: d}, 1)
	if err != nil {
		t.Fatal(err)
	}
	got, err := hilPredict(d, c.Graph)
	if err != nil {
		t.Fatal(err)
	}
	if got > budget || got <= least {
		t.Errorf("predicted %v for a budget of %v (the heavy model: %v)", got, budget, full)
	}
}

// TestRLSearch runs a short DDPG search: every episode's model fits the
// budget by construction, the best is kept, and a seed repeats the search.
func TestRLSearch(t *testing.T) {
	g, sp := trained(t)
	base, _ := g.FLOPs()
	run := func() *Choice {
		c, err := chooseRL(g, Budget{FLOPs: 0.3}, sp.Val, sp.Train, RLConfig{Episodes: 12, Warmup: 6, Samples: 60, Calibrate: 2}, 5)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	c := run()
	f, _ := c.Graph.FLOPs()
	if float64(f) > 0.3*float64(base) {
		t.Errorf("rl model: %d FLOPs over the budget of 0.3·%d", f, base)
	}
	if len(c.Ratios) != len(g.ConvGroups()) || c.Method != RL {
		t.Errorf("choice %+v", c)
	}
	if d := run(); !slices.Equal(d.Ratios, c.Ratios) {
		t.Errorf("two searches with one seed: %v and %v", c.Ratios, d.Ratios)
	}
}

// TestFitEqualSharesIsUniform: an episode that asks the same width of
// every layer group is uniform pruning's model, at any budget and channel
// multiple, so an agent that learns nothing but to saturate its actor is
// no worse than uniform. Unequal proportions fit the budget too.
func TestFitEqualSharesIsUniform(t *testing.T) {
	g, err := dnn.Zoo("resnet", []int{1, 8, 8}, 2, 0.5, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range []Budget{{Params: 0.3}, {Params: 0.6, Multiple: 8}, {FLOPs: 0.4}, {FLOPs: 0.2, Multiple: 4}} {
		e, err := newEnv(g, b, nil, 0.1)
		if err != nil {
			t.Fatal(err)
		}
		equal := make([]float64, len(e.groups))
		for i := range equal {
			equal[i] = 0.7
		}
		ratios, err := e.fit(equal, 0.1)
		if err != nil {
			t.Fatal(err)
		}
		got, err := e.build(ratios)
		if err != nil {
			t.Fatal(err)
		}
		u, err := Choose(g, Uniform, b, 1)
		if err != nil {
			t.Fatal(err)
		}
		if got.Params() != u.Graph.Params() {
			t.Errorf("%+v: equal shares give %d params, uniform %d", b, got.Params(), u.Graph.Params())
		}
		skewed := slices.Clone(equal)
		skewed[0], skewed[len(skewed)-1] = 1, 0.2
		if ratios, err = e.fit(skewed, 0.1); err != nil {
			t.Fatal(err)
		}
		p, _ := e.build(ratios)
		if ok, _ := b.meets(p, e.base); !ok || ratios[0] <= ratios[len(ratios)-1] {
			t.Errorf("%+v: skewed shares give ratios %v (fits: %v)", b, round2(ratios), ok)
		}
	}
}

// TestRandomSearch: the agent's ablation runs as many episodes as the
// agent, all of them random, names itself, fits the budget and repeats
// with its seed.
func TestRandomSearch(t *testing.T) {
	g, sp := trained(t)
	var log strings.Builder
	cfg := RLConfig{Episodes: 22, Warmup: 3, Samples: 60, Calibrate: 2, Log: &log, randomOnly: true}
	c, err := chooseRL(g, Budget{Params: 0.3}, sp.Val, sp.Train, cfg, 2)
	if err != nil {
		t.Fatal(err)
	}
	if c.Method != RandomSearch || float64(c.Graph.Params()) > 0.3*float64(g.Params()) {
		t.Errorf("%s: %d params of %d", c.Method, c.Graph.Params(), g.Params())
	}
	if !strings.Contains(log.String(), "random-search: episode 25/25") {
		t.Errorf("log %q: want 25 episodes", log.String())
	}
	d, err := chooseRL(g, Budget{Params: 0.3}, sp.Val, sp.Train, cfg, 2)
	if err != nil || !slices.Equal(d.Ratios, c.Ratios) {
		t.Errorf("two searches with one seed: %v and %v (%v)", c.Ratios, d.Ratios, err)
	}
}

// TestRLLatencyBudgetNearTheFloor runs the agent at latency budgets just
// above the least the model can be predicted at. The profile's predictor
// rounds channels to kernel blocks, so a cost need not fall as channels
// are cut: every episode must still fit, and none may be refused as
// infeasible when a fitting model exists.
func TestRLLatencyBudgetNearTheFloor(t *testing.T) {
	g, sp := trained(t)
	d, least, full := latencyRange(t, g)
	for _, f := range []float64{0.15, 0.3, 0.5} {
		budget := least + time.Duration(f*float64(full-least))
		c, err := chooseRL(g, Budget{Latency: budget, Device: d}, sp.Val, sp.Train, RLConfig{Episodes: 10, Warmup: 5, Samples: 60, Calibrate: 2}, 3)
		if err != nil {
			t.Errorf("budget %v (the least %v, the whole model %v): %v", budget, least, full, err)
			continue
		}
		if got, _ := hilPredict(d, c.Graph); got > budget {
			t.Errorf("budget %v: the agent's model is predicted at %v", budget, got)
		}
	}
}

// TestRLDropBlocks gives the agent a parameter budget that no model of the
// least width fits unless a residual block goes: without DropBlocks the
// search is infeasible, with it every episode drops the block, and the
// model it returns fits, lacks the block and reports its ratio as 0.
func TestRLDropBlocks(t *testing.T) {
	sp := &data.Splits{Train: halves(200, 1), Val: halves(60, 2), Test: halves(60, 3)}
	g, err := dnn.Zoo("resnet", []int{1, 8, 8}, 2, 0.5, 1)
	if err != nil {
		t.Fatal(err)
	}
	blocks := g.BlockGroups()
	if len(blocks) != 1 || blocks[1] != "layer1.0.add" {
		t.Fatalf("BlockGroups = %v, want group 1 closing layer1.0", blocks)
	}
	e, err := newEnv(g, Budget{Params: 1}, sp.Val, 0.1)
	if err != nil {
		t.Fatal(err)
	}
	least := make([]float64, len(e.groups))
	for i := range least {
		least[i] = 0.1
	}
	narrow, err := e.build(least)
	if err != nil {
		t.Fatal(err)
	}
	e.blocks = blocks
	least[1] = 0
	shallow, err := e.build(least)
	if err != nil {
		t.Fatal(err)
	}
	if shallow.Node("layer1.0.conv1") != nil || shallow.Params() >= narrow.Params() {
		t.Fatalf("dropping the block left %d params of %d", shallow.Params(), narrow.Params())
	}
	budget := Budget{Params: float64(shallow.Params()+narrow.Params()) / 2 / float64(g.Params())}

	cfg := RLConfig{Episodes: 6, Warmup: 4, Samples: 40, Calibrate: 2}
	if _, err := chooseRL(g, budget, sp.Val, sp.Train, cfg, 1); err == nil {
		t.Fatal("a budget below the least model was met without dropping a block")
	}
	cfg.DropBlocks = true
	run := func() *Choice {
		c, err := chooseRL(g, budget, sp.Val, sp.Train, cfg, 1)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	c := run()
	if c.Ratios[1] != 0 || c.Graph.Node("layer1.0.conv1") != nil {
		t.Errorf("ratios %v: the block should be gone", c.Ratios)
	}
	if p := c.Graph.Params(); float64(p) > budget.Params*float64(g.Params()) {
		t.Errorf("%d params over the budget of %d", p, int64(budget.Params*float64(g.Params())))
	}
	if d := run(); !slices.Equal(d.Ratios, c.Ratios) {
		t.Errorf("two searches with one seed: %v and %v", c.Ratios, d.Ratios)
	}
}

func TestBudgetChannels(t *testing.T) {
	for _, tc := range []struct {
		r          float64
		n, m, want int
	}{
		{0.59375, 32, 0, 19}, // no multiple: the nearest count
		{0.59375, 32, 1, 19},
		{0.59375, 32, 8, 16},
		{0.328125, 64, 8, 24},
		{0.1, 16, 8, 8},  // at least one multiple
		{0.01, 64, 0, 1}, // at least one channel
		{1, 16, 8, 16},
		{0.97, 20, 8, 20}, // all of a width that is no multiple
		{0.5, 4, 8, 4},    // a layer narrower than the multiple keeps all
	} {
		if got := (Budget{Multiple: tc.m}).channels(tc.r, tc.n); got != tc.want {
			t.Errorf("channels(%g of %d, multiple %d) = %d, want %d", tc.r, tc.n, tc.m, got, tc.want)
		}
	}
}

// Every method, the agent included, keeps a multiple of the budget's
// channel multiple in each layer, or the whole layer, within the budget.
func TestChooseKeepsChannelMultiples(t *testing.T) {
	g, sp := trained(t)
	base, _ := g.FLOPs()
	b := Budget{FLOPs: 0.4, Multiple: 4}
	var choices []*Choice
	for _, m := range []string{Uniform, L1, Random} {
		c, err := Choose(g, m, b, 1)
		if err != nil {
			t.Fatalf("%s: %v", m, err)
		}
		choices = append(choices, c)
	}
	c, err := chooseRL(g, b, sp.Val, sp.Train, RLConfig{Episodes: 3, Warmup: 2, Samples: 60, Calibrate: 2}, 5)
	if err != nil {
		t.Fatalf("rl: %v", err)
	}
	choices = append(choices, c)
	for _, c := range choices {
		if f, _ := c.Graph.FLOPs(); float64(f) > b.FLOPs*float64(base) {
			t.Errorf("%s: %d FLOPs over %g of %d", c.Method, f, b.FLOPs, base)
		}
		for _, gr := range g.ConvGroups() {
			n, k := g.Node(gr[0]).Out, c.Graph.Node(gr[0]).Out
			if k%b.Multiple != 0 && k != n {
				t.Errorf("%s: %s keeps %d of %d channels, not a multiple of %d", c.Method, gr[0], k, n, b.Multiple)
			}
		}
	}
}

// TestReportShortlist: report.json carries the shortlist of the search
// that made each model, for a fixed budget and for every probe of a target
// search, with the model it chose marked and kept.
func TestReportShortlist(t *testing.T) {
	g, sp := trained(t)
	rl := RLConfig{Episodes: 2, Warmup: 3, Samples: 7, Calibrate: 2, Shortlist: 2, ShortlistReward: RewardLS}
	cases := []struct {
		name   string
		budget Budget
		target *Target
	}{
		{"budget", Budget{Params: 0.3}, nil},
		{"target", Budget{}, &Target{Drop: 0.5, Steps: 2}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rep, _, err := Run(Config{Heavy: g, Splits: sp, Budget: c.budget, Target: c.target, Seed: 1, Methods: []string{RandomSearch}, RL: rl})
			if err != nil {
				t.Fatal(err)
			}
			r := rep.Methods[0]
			lists := [][]Shortlisted{r.Shortlist}
			for _, p := range r.Probes {
				lists = append(lists, p.Shortlist)
			}
			if c.target != nil && len(r.Probes) == 0 {
				t.Fatal("no probes")
			}
			for i, l := range lists {
				if len(l) != 2 {
					t.Fatalf("list %d: %d models, want 2", i, len(l))
				}
			}
			i := slices.IndexFunc(r.Shortlist, func(s Shortlisted) bool { return s.Chosen })
			if i < 0 || !slices.Equal(r.Shortlist[i].Keep, r.Keep) || r.Shortlist[i].Params != r.Params {
				t.Errorf("chosen %d of %+v; the model: %d params, keep %v", i, r.Shortlist, r.Params, r.Keep)
			}
		})
	}
}

// TestShortlistEpochs: a shortlist ranked by the recipe fine-tunes for
// RL.Recipe's epochs when they are set, for the fine-tuning's when not,
// and records which; the model kept is fine-tuned by the fine-tuning's.
func TestShortlistEpochs(t *testing.T) {
	g, sp := trained(t)
	ft := dnn.TrainConfig{Epochs: 2, BatchSize: 32, CropPad: -1, NoFlip: true, LR: 0.01}
	short := ft
	short.Epochs = 1
	cases := []struct {
		name   string
		recipe dnn.TrainConfig
		want   int
	}{
		{"the fine-tuning's", dnn.TrainConfig{}, 2},
		{"shorter", short, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rl := RLConfig{Episodes: 2, Warmup: 3, Samples: 7, Calibrate: 2, Shortlist: 2, ShortlistReward: RewardRecipe, Recipe: c.recipe}
			rep, best, err := Run(Config{Heavy: g, Splits: sp, Budget: Budget{Params: 0.3}, Seed: 1, Methods: []string{RandomSearch}, RL: rl, Finetune: ft})
			if err != nil {
				t.Fatal(err)
			}
			r := rep.Methods[0]
			for i, l := range r.Shortlist {
				if l.Epochs != c.want {
					t.Errorf("shortlisted model %d fine-tuned %d epochs, want %d", i, l.Epochs, c.want)
				}
			}
			// The kept model is fine-tuned by ft whatever ranked it: the
			// same cut model fine-tuned by ft scores what was reported.
			i := slices.IndexFunc(r.Shortlist, func(s Shortlisted) bool { return s.Chosen })
			if i < 0 {
				t.Fatalf("no shortlisted model chosen: %+v", r.Shortlist)
			}
			again, err := ChooseGiven(g, r.Keep, Budget{Params: 0.3})
			if err != nil {
				t.Fatal(err)
			}
			tc := ft
			tc.Seed = 1
			if _, err := dnn.Train(again.Graph, sp.Train, nil, tc, nil); err != nil {
				t.Fatal(err)
			}
			acc, _, _, err := dnn.Evaluate(again.Graph, sp.Val, 0)
			if err != nil {
				t.Fatal(err)
			}
			if acc != r.ValAccuracy || best.Params() != again.Graph.Params() {
				t.Errorf("kept model: %.4f on validation, %d params; again by the recipe: %.4f, %d params", r.ValAccuracy, best.Params(), acc, again.Graph.Params())
			}
		})
	}
}

func TestProfileDisagrees(t *testing.T) {
	dev := &profiles.Device{Name: "board", Host: profiles.Host{CPU: "Cortex-A72", MeasuredAt: "2026-12-01T10:00:00Z"}}
	cases := []struct {
		name                string
		dev                 *profiles.Device
		predicted, measured float64
		want                string
	}{
		{"agree", dev, 0.4, 0.44, ""},
		{"at the edge of the spread", dev, 0.4, 0.5, ""},
		{"faster here", dev, 0.4, 0.2, "0.200 ms measured here, 0.400 ms predicted on board (0.50×): the profile was measured on Cortex-A72 at 2026-12-01T10:00:00Z"},
		{"slower here", dev, 0.4, 0.8, "(2.00×)"},
		{"nothing predicted", dev, 0, 0.8, ""},
		{"nothing measured", dev, 0.4, 0, ""},
		{"no device", nil, 0.4, 0.8, ""},
		{"unnamed host", &profiles.Device{Name: "x"}, 0.4, 0.8, "measured on an unnamed host, another"},
	}
	for _, c := range cases {
		got := profileDisagrees(c.dev, c.predicted, c.measured)
		if (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
			t.Errorf("%s: %q, want one containing %q", c.name, got, c.want)
		}
	}
}

// TestRunNotesProfileOfAnotherMachine checks that a model measured three
// times slower than its profile predicts carries the note into the report.
func TestRunNotesProfileOfAnotherMachine(t *testing.T) {
	g, sp := trained(t)
	d, _, _ := latencyRange(t, g)
	var log strings.Builder
	rep, _, err := Run(Config{Heavy: g, Splits: sp, Budget: Budget{FLOPs: 0.5}, Seed: 1, Methods: []string{Uniform}, Device: d, Log: &log,
		Measure: func(m *dnn.Graph) (time.Duration, error) {
			p, err := hilPredict(d, m)
			return 3 * p, err
		}})
	if err != nil {
		t.Fatal(err)
	}
	r := rep.Methods[0]
	if !strings.Contains(r.LatencyNote, "(3.00×)") || !strings.Contains(log.String(), "note: uniform model: "+r.LatencyNote) {
		t.Errorf("latency_note %q; log:\n%s", r.LatencyNote, log.String())
	}
}
