package compress

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/tandem-edge/tandem/dnn"
	"github.com/tandem-edge/tandem/dnn/data"
)

func TestChooseMeetsAParameterBudget(t *testing.T) {
	g, _ := trained(t)
	for _, m := range []string{Uniform, L1, Random} {
		c, err := Choose(g, m, Budget{Params: 0.2}, 1)
		if err != nil {
			t.Fatal(err)
		}
		if p := c.Graph.Params(); float64(p) > 0.2*float64(g.Params()) || float64(p) < 0.1*float64(g.Params()) {
			t.Errorf("%s: %d params for a budget of 0.2 of %d", m, p, g.Params())
		}
	}
}

// noisy flips every fifth label, so that no model is right on more than
// about 80% of it.
func noisy(s *data.Set) *data.Set {
	out := *s
	out.Y = append([]int32(nil), s.Y...)
	for i := 0; i < len(out.Y); i += 5 {
		out.Y[i] = 1 - out.Y[i]
	}
	return &out
}

func TestTargetSearch(t *testing.T) {
	if testing.Short() {
		t.Skip("trains and fine-tunes several models: run without -short (make unit does)")
	}
	g, sp := trained(t)
	ft := dnn.TrainConfig{Epochs: 1, BatchSize: 32, CropPad: -1, NoFlip: true, LR: 0.01, Teacher: g}
	cases := []struct {
		name    string
		val     *data.Set
		target  Target
		reached bool
	}{
		{"reachable", sp.Val, Target{Drop: 0.05, Steps: 4}, true},
		{"flops", sp.Val, Target{Drop: 0.05, Steps: 3, Resource: ResourceFLOPs}, true},
		{"above what the labels allow", noisy(sp.Val), Target{Accuracy: 0.95, Steps: 3}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			splits := *sp
			splits.Val = c.val
			target := c.target
			rep, best, err := Run(Config{Heavy: g, Splits: &splits, Target: &target, Seed: 1, Methods: []string{Uniform, L1}, Finetune: ft})
			if err != nil {
				t.Fatal(err)
			}
			tr := rep.Target
			if tr == nil || tr.Steps != c.target.Steps || tr.Min != 0.01 || !rep.Finetune.Distill || rep.Finetune.Temperature != 4 {
				t.Fatalf("report %+v, target %+v", rep, tr)
			}
			if c.target.Accuracy == 0 && math.Abs(tr.Accuracy-(tr.HeavyValAccuracy-0.05)) > 1e-12 {
				t.Errorf("target %.4f, want the heavy model's %.4f less 0.05", tr.Accuracy, tr.HeavyValAccuracy)
			}
			for _, r := range rep.Methods {
				if r.Reached == nil || *r.Reached != c.reached {
					t.Fatalf("%s: reached %v, want %v", r.Method, r.Reached, c.reached)
				}
				if len(r.Probes) == 0 || len(r.Probes) > tr.Steps {
					t.Fatalf("%s: %d probes for %d steps", r.Method, len(r.Probes), tr.Steps)
				}
				// The answer is the smallest probe that reached the
				// target, or the most accurate when none did.
				for _, p := range r.Probes {
					if c.reached && p.ValAccuracy >= tr.Accuracy && p.Budget < r.Budget {
						t.Errorf("%s: probe at %.4g reached %.4f, yet the answer is %.4g", r.Method, p.Budget, p.ValAccuracy, r.Budget)
					}
					if !c.reached && p.ValAccuracy > r.ValAccuracy {
						t.Errorf("%s: probe at %.4g was more accurate than the answer", r.Method, p.Budget)
					}
				}
				if c.reached && r.ValAccuracy < tr.Accuracy {
					t.Errorf("%s: answer at %.4f is under the target %.4f", r.Method, r.ValAccuracy, tr.Accuracy)
				}
				limit := r.Budget * float64(rep.Heavy.Params)
				if tr.Resource == ResourceFLOPs {
					limit = r.Budget * float64(rep.Heavy.FLOPs)
				}
				if got := float64(tr.cost(r)); got > limit {
					t.Errorf("%s: %g of the resource over its budget %g", r.Method, got, limit)
				}
				if r.Seconds.Finetune <= 0 || r.Seconds.Measure <= 0 {
					t.Errorf("%s: seconds %+v", r.Method, r.Seconds)
				}
				if r.Accuracy == 0 || r.Params == 0 {
					t.Errorf("%s: %+v", r.Method, r)
				}
			}
			if best == nil || best.Meta["compress_method"] != rep.Best {
				t.Fatalf("best %q", rep.Best)
			}
		})
	}
}

// TestChooseGiven: given proportions at the budget the model they make
// fits keep their widths; at a smaller budget they shrink alike and fit;
// proportions that do not match the groups, or are not fractions, are
// refused.
func TestChooseGiven(t *testing.T) {
	g, _ := trained(t)
	groups := g.ConvGroups()
	shares := make([]float64, len(groups))
	for i, gr := range groups {
		n := g.Node(gr[0]).Out
		shares[i] = float64(max(1, n*(i+1)/(len(groups)+1))) / float64(n)
	}
	keep := map[string][]int{}
	for i, gr := range groups {
		setGroup(keep, gr, dnn.L1Channels(g, gr, int(math.Round(shares[i]*float64(g.Node(gr[0]).Out)))))
	}
	p, err := dnn.Prune(g, keep)
	if err != nil {
		t.Fatal(err)
	}
	own := (float64(p.Params()) + 0.5) / float64(g.Params())
	c, err := ChooseGiven(g, shares, Budget{Params: 1})
	if err != nil {
		t.Fatal(err)
	}
	for i := range shares {
		if c.Ratios[i] < shares[i] {
			t.Errorf("at the whole budget group %d shrank: %v from %v", i, c.Ratios[i], shares[i])
		}
	}
	if c, err = ChooseGiven(g, shares, Budget{Params: own}); err != nil || !slices.Equal(c.Ratios, shares) {
		t.Errorf("at its own budget %.4f: keep %v (%v), want %v", own, c.Ratios, err, shares)
	}
	small, err := ChooseGiven(g, shares, Budget{Params: own / 2})
	if err != nil {
		t.Fatal(err)
	}
	if float64(small.Graph.Params()) > own/2*float64(g.Params()) {
		t.Errorf("at half its budget: %d params of %d", small.Graph.Params(), g.Params())
	}
	for i := range shares {
		if small.Ratios[i] > shares[i] {
			t.Errorf("group %d grew at a smaller budget: %v from %v", i, small.Ratios[i], shares[i])
		}
	}
	for _, bad := range [][]float64{shares[1:], append(slices.Clone(shares[1:]), 0), append(slices.Clone(shares[1:]), 1.2)} {
		if _, err := ChooseGiven(g, bad, Budget{Params: 0.5}); err == nil {
			t.Errorf("proportions %v: no error", bad)
		}
	}
}

func TestTargetErrors(t *testing.T) {
	g, sp := trained(t)
	for _, c := range []struct {
		target Target
		want   string
	}{
		{Target{Resource: "energy"}, `target resource "energy"`},
		{Target{Resource: ResourceLatency}, "needs a device profile"},
		{Target{Accuracy: 1.5}, "target accuracy 1.5"},
		{Target{Min: 1}, "smallest target budget 1"},
	} {
		if _, _, err := Run(Config{Heavy: g, Splits: sp, Target: &c.target}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("target %+v: %v, want %q", c.target, err, c.want)
		}
	}
}

func TestSecondsAccumulate(t *testing.T) {
	var s Seconds
	s.add(Seconds{Choose: 1, Finetune: 2, Measure: 3})
	s.add(Seconds{Choose: 0.5, Finetune: 0.5, Measure: 0.5})
	if s != (Seconds{Choose: 1.5, Finetune: 2.5, Measure: 3.5}) {
		t.Errorf("%+v", s)
	}
}

// TestBudgetFit: the line through the probes crosses the target where a
// straight line in the log of the resource says, whatever order the
// bisection probed in; no rising line, no answer.
func TestBudgetFit(t *testing.T) {
	g, err := dnn.Zoo("vgg", []int{1, 8, 8}, 2, 0.5, 1)
	if err != nil {
		t.Fatal(err)
	}
	heavy := float64(g.Params())
	// Accuracy 0.9 + 0.02·ln(x): the target 0.86 lies at x = e^-2.
	probe := func(x float64) Probe {
		return Probe{Budget: x, Params: int64(math.Round(x * heavy)), ValAccuracy: 0.9 + 0.02*math.Log(x)}
	}
	r := &runner{cfg: Config{Heavy: g}}
	for _, tc := range []struct {
		name     string
		resource string
		probes   []Probe
		want     float64
	}{
		{"params", ResourceParams, []Probe{probe(0.3), probe(0.05), probe(0.12)}, math.Exp(-2)},
		{"latency, by budget", ResourceLatency, []Probe{probe(0.5), probe(0.2)}, math.Exp(-2)},
		{"one probe", ResourceParams, []Probe{probe(0.3)}, 0},
		{"flat", ResourceLatency, []Probe{{Budget: 0.1, ValAccuracy: 0.8}, {Budget: 0.5, ValAccuracy: 0.8}}, 0},
	} {
		got := r.fit(&TargetReport{Accuracy: 0.86, Resource: tc.resource}, tc.probes)
		if math.Abs(got-tc.want) > 0.002 {
			t.Errorf("%s: fit %.4f, want %.4f", tc.name, got, tc.want)
		}
	}
}
