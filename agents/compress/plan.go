// Package compress owns the derivation of the edge model from the heavy one:
// structured channel pruning under the edge device's budget (FLOPs, or
// latency from the device profile's predictor), by the baseline methods
// (uniform keep ratios, global L1 magnitude, random ratios) and, where
// DESIGN.md places it, the DDPG agent that learns per-layer keep ratios;
// then fine-tuning and the report that says how each method did.
package compress

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"time"

	"github.com/tandem-edge/tandem/dnn"
	"github.com/tandem-edge/tandem/predict"
	"github.com/tandem-edge/tandem/profiles"
)

// Methods of choosing what to keep.
const (
	Uniform = "uniform" // one keep ratio for every layer, channels by L1 norm
	L1      = "l1"      // channels ranked by L1 norm across the whole network
	Random  = "random"  // random per-layer ratios, scaled to the budget, random channels
	// RandomSearch is the agent without its agent: every one of rl's
	// episodes (warm-up and search) draws random proportions, and the best
	// by rl's reward wins. It is what the DDPG agent must beat to have
	// learned anything, so it runs only when asked for.
	RandomSearch = "random-search"
	// Given scales proportions the caller gives, one a layer group (a
	// search's recorded keep fractions, say), to the budget, channels by L1
	// norm: the way to fine-tune a found allocation again by another
	// recipe, or to carry it to another budget. It runs only when asked for.
	Given = "given"
)

// minShare is the smallest relative width the random method draws for a
// layer before scaling to the budget.
const minShare = 0.3

// Methods lists the methods this package runs, in report order: the
// learned one first, then the baselines.
var Methods = []string{RL, Uniform, L1, Random}

// Known reports whether method is one of Methods, RandomSearch or Given.
func Known(method string) bool {
	return method == RandomSearch || method == Given || slices.Contains(Methods, method)
}

// Budget is what the edge model may cost. Zero fields are no limit; at
// least one must be set.
type Budget struct {
	FLOPs   float64       `json:"flops_fraction,omitempty"`  // of the heavy model's FLOPs, in (0, 1]
	Params  float64       `json:"params_fraction,omitempty"` // of the heavy model's parameters, in (0, 1]
	Latency time.Duration `json:"-"`                         // predicted on Device at batch 1
	Device  *profiles.Device
	// Multiple, above 1, makes every pruned layer keep a multiple of that
	// many channels (or all of them): ONNX Runtime's blocked convolutions
	// run a layer of 21 channels slower than one of 24, so a count the
	// kernels do not want costs time and buys nothing. 0 or 1: any count.
	Multiple int `json:"channel_multiple,omitempty"`
}

// Check reports a budget that limits nothing or cannot be met by anything.
func (b Budget) Check() error {
	switch {
	case b.FLOPs == 0 && b.Params == 0 && b.Latency == 0:
		return errors.New("compress: no budget: give a FLOPs fraction, a parameter fraction, a latency, or several")
	case b.FLOPs < 0 || b.FLOPs > 1:
		return fmt.Errorf("compress: FLOPs fraction %g: want (0, 1]", b.FLOPs)
	case b.Params < 0 || b.Params > 1:
		return fmt.Errorf("compress: parameter fraction %g: want (0, 1]", b.Params)
	case b.Latency < 0:
		return fmt.Errorf("compress: latency budget %v is negative", b.Latency)
	case b.Multiple < 0:
		return fmt.Errorf("compress: channel multiple %d is negative", b.Multiple)
	case b.Latency > 0 && (b.Device == nil || b.Device.Predictor == nil):
		return errors.New("compress: a latency budget needs a device profile with a latency predictor (tandem profile --sweep-widths)")
	}
	return nil
}

// meets reports whether a pruned graph fits the budget, given the heavy
// model's size.
func (b Budget) meets(g *dnn.Graph, base size) (bool, error) {
	if b.FLOPs > 0 {
		f, err := g.FLOPs()
		if err != nil {
			return false, err
		}
		if float64(f) > b.FLOPs*float64(base.flops) {
			return false, nil
		}
	}
	if b.Params > 0 && float64(g.Params()) > b.Params*float64(base.params) {
		return false, nil
	}
	if b.Latency > 0 {
		l, err := predict.Graph(b.Device, g, 1)
		if err != nil {
			return false, err
		}
		if l > b.Latency {
			return false, nil
		}
	}
	return true, nil
}

// channels is how many of a layer's n channels a keep ratio r keeps: the
// multiple of b.Multiple or the whole width n nearest to r·n, at least one
// multiple (one channel without one).
func (b Budget) channels(r float64, n int) int {
	m := max(b.Multiple, 1)
	x := r * float64(n)
	k := int(math.Round(x/float64(m))) * m
	if float64(n)-x < math.Abs(float64(k)-x) {
		k = n
	}
	return max(min(m, n), min(k, n))
}

// infeasible is the error of a budget that no model of a method fits.
type infeasible string

func (e infeasible) Error() string { return string(e) }

// size is what the budget's fractions are fractions of.
type size struct{ flops, params int64 }

func sizeOf(g *dnn.Graph) (size, error) {
	f, err := g.FLOPs()
	return size{flops: f, params: g.Params()}, err
}

// Choice is a method's pruning of the heavy model.
type Choice struct {
	Method string
	Keep   map[string][]int // kept channels per Conv
	Ratios []float64        // kept fraction per ConvGroups group, in order
	Graph  *dnn.Graph       // the pruned model, before fine-tuning
	// Shortlist is how an rl search with RLConfig.Shortlist re-scored its
	// best episodes, in the order of their episode reward.
	Shortlist []Shortlisted
}

// Shortlisted is one model a shortlist re-scored: what the episodes'
// reward and the shortlist's reward (on held-out training images) made of
// it, so a reader can see how far the two agreed and by how much the
// chosen model led.
type Shortlisted struct {
	Reward float64 `json:"reward"` // the episode's reward
	Score  float64 `json:"score"`  // the shortlist's reward
	// Epochs is how long RewardRecipe fine-tuned the model it scored; 0
	// for the other rewards.
	Epochs int       `json:"epochs,omitempty"`
	Params int64     `json:"params"`
	Keep   []float64 `json:"keep"`
	Chosen bool      `json:"chosen,omitempty"`
}

// Choose prunes g by method to the largest model that fits the budget,
// searching the method's one free parameter by bisection. seed drives the
// random method.
func Choose(g *dnn.Graph, method string, b Budget, seed uint64) (*Choice, error) {
	if err := b.Check(); err != nil {
		return nil, err
	}
	groups := g.ConvGroups()
	if len(groups) == 0 {
		return nil, fmt.Errorf("compress: %s has no prunable convolution", g.Name)
	}
	base, err := sizeOf(g)
	if err != nil {
		return nil, err
	}
	var keepAt func(x float64) map[string][]int
	switch method {
	case Uniform:
		ones := make([]float64, len(groups))
		for i := range ones {
			ones[i] = 1
		}
		keepAt = proportional(g, groups, b, ones)
	case L1:
		keepAt = globalL1(g, groups, b)
	case Random:
		rng := rand.New(rand.NewPCG(seed, 0x72616e64))
		shares := make([]float64, len(groups))
		orders := make([][]int, len(groups))
		for i, gr := range groups {
			shares[i] = minShare + (1-minShare)*rng.Float64()
			orders[i] = rng.Perm(g.Node(gr[0]).Out)
		}
		keepAt = func(s float64) map[string][]int {
			keep := map[string][]int{}
			for i, gr := range groups {
				n := g.Node(gr[0]).Out
				k := b.channels(s*shares[i], n)
				idx := slices.Clone(orders[i][:k])
				slices.Sort(idx)
				setGroup(keep, gr, idx)
			}
			return keep
		}
	case RL, RandomSearch:
		return nil, fmt.Errorf("compress: method %s learns from validation data: use Run", method)
	case Given:
		return nil, fmt.Errorf("compress: method %s needs its proportions: use ChooseGiven", method)
	default:
		return nil, fmt.Errorf("compress: unknown method %q; want one of %v", method, Methods)
	}
	// Bisection on the method's parameter x in [0, hi]: the model grows
	// with x; find the largest x whose model fits.
	hi := 1.0
	if method == Random {
		hi = 1 / minShare // every group at its full width
	}
	return fitBudget(g, groups, base, method, b, keepAt, hi)
}

// ChooseGiven prunes g to the largest model that fits the budget whose
// groups keep the given proportions of their channels (one in (0, 1] a
// group of g.ConvGroups, in order), the channels by L1 norm. At a budget
// the proportions themselves fit, and no further, it keeps them.
func ChooseGiven(g *dnn.Graph, shares []float64, b Budget) (*Choice, error) {
	if err := b.Check(); err != nil {
		return nil, err
	}
	groups := g.ConvGroups()
	if len(shares) != len(groups) {
		return nil, fmt.Errorf("compress: %s: %d proportions for %s's %d layer groups", Given, len(shares), g.Name, len(groups))
	}
	top := 0.0
	for i, v := range shares {
		if !(v > 0 && v <= 1) {
			return nil, fmt.Errorf("compress: %s: proportion %d is %g: want (0, 1]", Given, i+1, v)
		}
		top = max(top, v)
	}
	base, err := sizeOf(g)
	if err != nil {
		return nil, err
	}
	return fitBudget(g, groups, base, Given, b, proportional(g, groups, b, shares), 1/top)
}

// proportional returns the keep sets at scale s of the given proportions,
// one a group: each group keeps s times its share of its channels, those
// of largest L1 norm. Uniform pruning is every share 1.
func proportional(g *dnn.Graph, groups [][]string, b Budget, shares []float64) func(s float64) map[string][]int {
	return func(s float64) map[string][]int {
		keep := map[string][]int{}
		for i, gr := range groups {
			k := b.channels(s*shares[i], g.Node(gr[0]).Out)
			setGroup(keep, gr, dnn.L1Channels(g, gr, k))
		}
		return keep
	}
}

// fitBudget finds by bisection the largest x in [0, hi] whose keep sets,
// keepAt(x), make a model within the budget; the model grows with x.
func fitBudget(g *dnn.Graph, groups [][]string, base size, method string, b Budget, keepAt func(float64) map[string][]int, hi float64) (*Choice, error) {
	fits := func(x float64) (*dnn.Graph, map[string][]int, bool, error) {
		keep := keepAt(x)
		p, err := dnn.Prune(g, keep)
		if err != nil {
			return nil, nil, false, err
		}
		ok, err := b.meets(p, base)
		return p, keep, ok, err
	}
	bestG, bestKeep, ok, err := fits(0)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, infeasible(fmt.Sprintf("compress: %s: even one channel a layer exceeds the budget", method))
	}
	lo := 0.0
	for range 30 {
		mid := (lo + hi) / 2
		p, keep, ok, err := fits(mid)
		if err != nil {
			return nil, err
		}
		if ok {
			lo, bestG, bestKeep = mid, p, keep
		} else {
			hi = mid
		}
		if hi-lo < 1e-4 {
			break
		}
	}
	c := &Choice{Method: method, Keep: bestKeep, Graph: bestG}
	for _, gr := range groups {
		c.Ratios = append(c.Ratios, float64(len(bestKeep[gr[0]]))/float64(g.Node(gr[0]).Out))
	}
	return c, nil
}

func setGroup(keep map[string][]int, group []string, idx []int) {
	for _, name := range group {
		keep[name] = idx
	}
}

// globalL1 ranks every channel of every group by its L1 norm relative to
// its group's mean, so that layers of different scales compete fairly, and
// returns the keep sets for a fraction x of that ranking (every group keeps
// its best channel at least). With a channel multiple, each group's count is
// rounded to it and its channels are again its largest by L1 norm, which the
// ranking within a group already is.
func globalL1(g *dnn.Graph, groups [][]string, b Budget) func(x float64) map[string][]int {
	type ch struct {
		group, c int
		score    float64
	}
	var all []ch
	for gi, gr := range groups {
		norms := channelNorms(g, gr)
		var mean float64
		for _, v := range norms {
			mean += v
		}
		mean /= float64(len(norms))
		for c, v := range norms {
			all = append(all, ch{gi, c, v / max(mean, 1e-12)})
		}
	}
	sort.SliceStable(all, func(a, b int) bool { return all[a].score > all[b].score })
	return func(x float64) map[string][]int {
		n := int(math.Round(x * float64(len(all))))
		sets := make([][]int, len(groups))
		for _, c := range all[:n] {
			sets[c.group] = append(sets[c.group], c.c)
		}
		keep := map[string][]int{}
		for gi, gr := range groups {
			n := g.Node(gr[0]).Out
			if k := b.channels(float64(len(sets[gi]))/float64(n), n); k != len(sets[gi]) {
				sets[gi] = dnn.L1Channels(g, gr, k)
			}
			slices.Sort(sets[gi])
			setGroup(keep, gr, sets[gi])
		}
		return keep
	}
}

// channelNorms sums the L1 norms of each output channel's filters over a
// tied group.
func channelNorms(g *dnn.Graph, group []string) []float64 {
	norms := make([]float64, g.Node(group[0]).Out)
	for _, name := range group {
		w := g.Node(name).W
		per := len(w.Data) / w.Shape[0]
		for c := range w.Shape[0] {
			for _, x := range w.Data[c*per : (c+1)*per] {
				norms[c] += math.Abs(float64(x))
			}
		}
	}
	return norms
}
