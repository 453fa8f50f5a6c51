package compress

import (
	"cmp"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/tandem-edge/tandem/dnn"
	"github.com/tandem-edge/tandem/dnn/data"
)

// RL is the reinforcement-learning method: a DDPG agent (Lillicrap et al.
// 2016) that walks the network layer group by layer group and picks each
// one's keep ratio, as AMC does (He et al., "AMC: AutoML for Model
// Compression", ECCV 2018). Like AMC's resource-constrained search but
// for how an action meets the budget:
//
//   - the state of a step describes the layer (index, channels, kernel,
//     stride, its share of the FLOPs, or of the parameters under a
//     parameter budget), how much the actions so far leave out and how much
//     is left, and the previous action;
//   - each action is the layer's width relative to the others', and the
//     episode's model is the largest with those proportions that fits the
//     budget, so every episode's model fits it. (AMC instead clips each
//     action to what the budget leaves for the remaining layers at their
//     least; with it tandem's agent, once past its warm-up, mostly asked
//     much of the first layers and left the last ones the least.)
//   - the reward is the pruned model's accuracy on a validation subset
//     without full fine-tuning, after the repair RLConfig.Reward names (by
//     default each cut convolution refit by least squares from the kept
//     channels, as AMC does, and its BatchNormalization statistics
//     re-estimated on a few training batches);
//   - the critic values the whole episode: it regresses the reward on all
//     the episode's actions at once, and the actor's action at each step
//     follows the gradient of that value in the step's action. How much a
//     layer should keep depends on what the others keep, and a critic of
//     one step at a time (AMC's, RLConfig.Critic "step": every step given
//     the episode's reward less a moving average) cannot see that: with it
//     the agent settled near even proportions;
//   - exploration is truncated normal noise on the actor's action, whose
//     spread decays each episode after random warm-up episodes (random
//     proportions; RandomSearch is all warm-up, the agent's ablation).
//
// Channels within a layer are chosen by L1 norm, as for the other methods.
const RL = "rl"

// RLConfig sets the search. Zero fields take AMC-like defaults scaled to
// small networks.
type RLConfig struct {
	Episodes int     // after warm-up; default 150
	Warmup   int     // episodes of random actions first; default 25
	MinKeep  float64 // smallest keep ratio an action may take; default 0.1
	// DropBlocks lets the agent remove identity residual blocks whole
	// (dnn.DropBlocks): for a group that is one such block's first
	// convolution the action ranges over [0, 1], and a ratio below
	// MinKeep drops the block. The other methods never drop one.
	DropBlocks bool
	Samples    int // validation images a reward is measured on; default 1000
	// Calibrate is how many training batches of 64 re-estimate a pruned
	// model's BatchNormalization statistics before its reward is measured
	// (dnn.RecalibrateBN); default 20, negative none.
	Calibrate int
	// Reward is what an episode's model is scored by, one of Rewards;
	// "" means RewardLS, which ranked pruned models most like fine-tuning
	// did in tandem's own study (docs/results.md).
	Reward string
	// Slice is the number of training images RewardFinetune trains on;
	// default 2048.
	Slice int
	// Recipe is how RewardFinetune trains: its augmentation and teacher,
	// for one epoch of Slice at a constant rate; and how RewardRecipe
	// fine-tunes a shortlist, as it stands. Run sets the fine-tuning's
	// when Recipe.Epochs is 0; a shorter one ranks a shortlist for less,
	// and the model kept is fine-tuned by the fine-tuning's all the same.
	Recipe dnn.TrainConfig
	// Critic is CriticEpisode (the default) or CriticStep.
	Critic string
	// Shortlist, when positive, re-scores the episodes of the Shortlist
	// best distinct models by ShortlistReward and keeps the best by that:
	// a reward cheap enough for every episode need only discard bad
	// allocations, not order the good ones, which differ by a few images
	// in a thousand. The shortlist is scored on training images held out
	// of its repair (as many as validation holds, at most a quarter of
	// them), never on validation: the best of K by validation accuracy
	// would flatter the very figure the target search compares methods
	// by.
	Shortlist int
	// ShortlistReward is one of ShortlistRewards; "" means RewardRecipe,
	// which needs a Recipe of 1 or more epochs.
	ShortlistReward string
	Log             io.Writer

	deploy *deployer // rewards the deployment's latency instead of accuracy
	// randomOnly makes every episode a warm-up one: RandomSearch.
	randomOnly bool
}

// The agent's critics.
const (
	// CriticEpisode values an episode's actions together.
	CriticEpisode = "episode"
	// CriticStep values each step's action alone, given the step's state,
	// as AMC's does.
	CriticStep = "step"
)

func (c RLConfig) withDefaults() RLConfig {
	if c.Episodes == 0 {
		c.Episodes = 150
	}
	if c.Warmup == 0 {
		c.Warmup = 25
	}
	if c.MinKeep == 0 {
		c.MinKeep = 0.1
	}
	if c.Samples == 0 {
		c.Samples = 1000
	}
	if c.Calibrate == 0 {
		c.Calibrate = 20
	}
	if c.Reward == "" {
		c.Reward = RewardLS
	}
	if c.Slice == 0 {
		c.Slice = 2048
	}
	if c.Critic == "" {
		c.Critic = CriticEpisode
	}
	if c.ShortlistReward == "" {
		c.ShortlistReward = RewardRecipe
	}
	return c
}

// env is the pruning environment of one network and budget.
type env struct {
	g      *dnn.Graph
	groups [][]string
	b      Budget
	base   size      // the heavy model's
	share  []float64 // each group's convolutions' share of the whole model's budgeted resource
	val    *data.Set
	*rewarder
	min   float64
	state []float64 // static features per group, stateDim each
	// blocks maps the groups whose block a low ratio drops to the Add
	// closing the block; empty unless RLConfig.DropBlocks.
	blocks map[int]string
}

const stateDim = 9

func newEnv(g *dnn.Graph, b Budget, val *data.Set, minKeep float64) (*env, error) {
	e := &env{g: g, groups: g.ConvGroups(), b: b, val: val, min: minKeep}
	var err error
	if e.base, err = sizeOf(g); err != nil {
		return nil, err
	}
	costs, err := g.Cost()
	if err != nil {
		return nil, err
	}
	// The state describes each layer by its share of what the budget
	// limits: parameters when only they are limited, FLOPs otherwise (a
	// latency follows FLOPs more closely than it follows parameters).
	byParams := b.Params > 0 && b.FLOPs == 0 && b.Latency == 0
	total := float64(e.base.flops)
	if byParams {
		total = float64(e.base.params)
	}
	byName := map[string]int64{}
	for i, n := range g.Nodes {
		byName[n.Name] = costs[i].FLOPs
		if byParams && n.W != nil {
			byName[n.Name] = int64(len(n.W.Data))
		}
	}
	maxC := 1
	for _, gr := range e.groups {
		maxC = max(maxC, g.Node(gr[0]).Out)
	}
	for t, gr := range e.groups {
		var f int64
		for _, name := range gr {
			f += byName[name]
		}
		e.share = append(e.share, float64(f)/total)
		n := g.Node(gr[0])
		in := n.W.Shape[1]
		// Layer index, channels out and in, kernel, stride, resource share;
		// observe fills in the last three: cut so far, left, last action.
		e.state = append(e.state, float64(t)/float64(len(e.groups)), float64(n.Out)/float64(maxC), float64(in)/float64(maxC),
			float64(n.Kernel[0])/7, float64(max(n.Stride[0], 1))/4, e.share[t], 0, 0, 0)
	}
	return e, nil
}

// observe returns step t's state given the ratios chosen so far.
func (e *env) observe(t int, ratios []float64) []float64 {
	s := slices.Clone(e.state[t*stateDim : (t+1)*stateDim])
	var cut, rest float64
	for i, r := range ratios {
		cut += e.share[i] * (1 - r)
	}
	for i := t + 1; i < len(e.groups); i++ {
		rest += e.share[i]
	}
	s[6], s[7] = cut, rest
	if t > 0 {
		s[8] = ratios[t-1]
	}
	return s
}

// least is the smallest ratio group t may take: 0 (the block dropped)
// for a group that closes a block, else the least keep ratio.
func (e *env) least(t int) float64 {
	if _, ok := e.blocks[t]; ok {
		return 0
	}
	return e.min
}

// dropped reports whether ratio r drops group t's block.
func (e *env) dropped(t int, r float64) bool {
	_, ok := e.blocks[t]
	return ok && r < e.min
}

// build prunes to ratios (channels by L1 norm).
func (e *env) build(ratios []float64) (*dnn.Graph, error) {
	g, _, err := e.buildKeep(ratios)
	return g, err
}

// buildKeep is build, also returning the channels kept.
func (e *env) buildKeep(ratios []float64) (*dnn.Graph, map[string][]int, error) {
	keep := map[string][]int{}
	var drop []string
	for t, gr := range e.groups {
		if e.dropped(t, ratios[t]) {
			drop = append(drop, e.blocks[t])
			continue
		}
		k := e.b.channels(ratios[t], e.g.Node(gr[0]).Out)
		setGroup(keep, gr, dnn.L1Channels(e.g, gr, k))
	}
	g, err := dnn.Prune(e.g, keep)
	if err != nil || len(drop) == 0 {
		return g, keep, err
	}
	if g, err = dnn.DropBlocks(g, drop); err != nil {
		return nil, nil, err
	}
	// What a dropped block held is gone, narrowed or not.
	for name := range keep {
		if g.Node(name) == nil {
			delete(keep, name)
		}
	}
	return g, keep, nil
}

// sample draws a relative width per layer group and returns the ratios of
// the largest model with those proportions that fits the budget. (The
// agent's own random warm-up, clipped step by step, gives the first layers
// all they ask and the rest the least, so at a tight budget it draws the
// same few models again and again.)
func (e *env) sample(rng *rand.Rand, minKeep float64) ([]float64, error) {
	shares := make([]float64, len(e.groups))
	for i := range shares {
		lo := e.least(i)
		shares[i] = lo + (1-lo)*rng.Float64()
	}
	return e.fit(shares, minKeep)
}

// fit returns the ratios of the largest model whose layer groups keep
// widths in the proportions of shares (each at most 1 and at least
// minKeep, unless it drops a block) and that fits the budget.
func (e *env) fit(shares []float64, minKeep float64) ([]float64, error) {
	at := func(s float64) []float64 {
		r := make([]float64, len(shares))
		for i, v := range shares {
			r[i] = min(1, s*v)
			if !e.dropped(i, r[i]) {
				r[i] = max(minKeep, r[i])
			}
		}
		return r
	}
	fits := func(s float64) (bool, error) {
		p, err := e.build(at(s))
		if err != nil {
			return false, err
		}
		return e.b.meets(p, e.base)
	}
	if ok, err := fits(0); err != nil || !ok {
		if err == nil {
			err = infeasible(fmt.Sprintf("compress: even %g of every layer exceeds the budget", minKeep))
		}
		return nil, err
	}
	lo, hi := 0.0, 1/minKeep
	for hi-lo > 1e-3 {
		mid := (lo + hi) / 2
		ok, err := fits(mid)
		if err != nil {
			return nil, err
		}
		if ok {
			lo = mid
		} else {
			hi = mid
		}
	}
	return at(lo), nil
}

type transition struct {
	s      []float64
	a, ret float64
}

// episode is what the whole-episode critic learns from: each step's state
// and action (in the actor's units) and the episode's reward.
type episode struct {
	states [][]float64
	acts   []float64
	r      float64
}

// chooseRL runs the DDPG search and returns the best episode's pruning.
// train, when not nil, recalibrates each episode's model before its reward.
func chooseRL(g *dnn.Graph, b Budget, val, train *data.Set, cfg RLConfig, seed uint64) (*Choice, error) {
	cfg = cfg.withDefaults()
	if err := b.Check(); err != nil {
		return nil, err
	}
	if val == nil || val.Len() == 0 {
		return nil, fmt.Errorf("compress: rl: no validation samples to reward with")
	}
	all := val
	val = val.First(cfg.Samples)
	e, err := newEnv(g, b, val, cfg.MinKeep)
	if err != nil {
		return nil, err
	}
	if cfg.DropBlocks {
		e.blocks = g.BlockGroups()
	}
	if err := e.setReward(cfg, train, seed); err != nil {
		return nil, err
	}
	if len(e.groups) == 0 {
		return nil, fmt.Errorf("compress: %s has no prunable convolution", g.Name)
	}
	if !slices.Contains(Rewards, cfg.Reward) {
		return nil, fmt.Errorf("compress: rl: reward %q cannot score every episode; want one of %v", cfg.Reward, Rewards)
	}
	if cfg.Critic != CriticEpisode && cfg.Critic != CriticStep {
		return nil, fmt.Errorf("compress: rl: unknown critic %q; want %s or %s", cfg.Critic, CriticEpisode, CriticStep)
	}
	rng := rand.New(rand.NewPCG(seed, 0x616d63)) // "amc"
	method := RL
	if cfg.randomOnly {
		method = RandomSearch
	}
	actor := newMLP(rng, true, stateDim, 64, 64, 1)
	var critic *mlp
	if cfg.Critic == CriticStep {
		critic = newMLP(rng, false, stateDim+1, 64, 64, 1)
	} else {
		critic = newMLP(rng, false, len(e.groups), 64, 64, 1)
	}
	var (
		replay   []transition
		episodes []episode
	)
	const (
		capacity = 2000
		batch    = 64
		updates  = 20   // gradient steps per episode
		actorLR  = 1e-3 // the step critic's pair
		criticLR = 1e-3
		// The episode critic's: a slower actor and a faster critic, which
		// on a test bandit (TestEpisodeCriticLearns) converge where the
		// step critic's pair oscillates.
		episodeActorLR  = 3e-4
		episodeCriticLR = 3e-3
		sigmaInit       = 0.5
		decay           = 0.98 // per episode after the warm-up
	)
	sigma, baseline, recent := sigmaInit, 0.0, 0.0
	bestR := -1.0
	var bestRatios []float64
	var scored []scoredRatios
	warmup, searched := cfg.Warmup, cfg.Episodes
	if cfg.randomOnly {
		warmup, searched = warmup+searched, 0
	}
	for ep := range warmup + searched {
		// Every episode, warm-up or not, is a relative width per layer
		// group; its model is the largest with those proportions that fits
		// the budget (fit). Clipping each action in turn to what the budget
		// leaves, as AMC does, let an actor that asked much of the first
		// layers starve the last ones, and after the warm-up the search
		// narrowed the last layers to the least in most episodes; here
		// asking the same of every layer gives uniform pruning.
		acts := make([]float64, 0, len(e.groups))
		states := make([][]float64, 0, len(e.groups))
		for t := range e.groups {
			s := e.observe(t, acts)
			lo := e.least(t)
			var a float64
			if ep < warmup {
				a = lo + (1-lo)*rng.Float64()
			} else {
				a = truncNormal(rng, lo+(1-lo)*actor.forward(s)[0], sigma, lo, 1)
			}
			acts = append(acts, a)
			states = append(states, s)
		}
		ratios, err := e.fit(acts, cfg.MinKeep)
		if err != nil {
			return nil, err
		}
		p, keep, err := e.buildKeep(ratios)
		if err != nil {
			return nil, err
		}
		r, err := e.reward(p, keep)
		if err != nil {
			return nil, err
		}
		scored = append(scored, scoredRatios{ratios: slices.Clone(ratios), r: r})
		if r > bestR {
			bestR, bestRatios = r, slices.Clone(ratios)
		}
		if ep == 0 {
			baseline = r
		}
		adv := r - baseline
		baseline = 0.95*baseline + 0.05*r
		// The actions in the actor's units, [0, 1].
		units := make([]float64, len(acts))
		for t, a := range acts {
			lo := e.least(t)
			units[t] = (a - lo) / (1 - lo)
		}
		if cfg.Critic == CriticStep {
			for t, s := range states {
				replay = append(replay, transition{s: s, a: units[t], ret: adv})
			}
			if len(replay) > capacity {
				replay = replay[len(replay)-capacity:]
			}
		} else {
			episodes = append(episodes, episode{states: states, acts: units, r: r})
		}
		if ep >= warmup {
			sigma *= decay
			for range updates {
				if cfg.Critic == CriticStep {
					update(actor, critic, replay, batch, rng, actorLR, criticLR)
				} else {
					updateEpisodes(actor, critic, episodes, batch, rng, episodeActorLR, episodeCriticLR)
				}
			}
		}
		recent += r
		if cfg.Log != nil && (ep+1)%25 == 0 {
			// The mean of the last 25 episodes is the learning curve: a
			// policy that learned scores above the random warm-up's mean.
			fmt.Fprintf(cfg.Log, "%s: episode %d/%d: reward %.4f, mean of the last 25 %.4f, best %.4f, keep %v\n",
				method, ep+1, warmup+searched, r, recent/25, bestR, round2(ratios))
			recent = 0
		}
	}
	var listed []Shortlisted
	if cfg.Shortlist > 0 {
		if bestRatios, listed, err = e.shortlist(scored, cfg, train, all.Len(), seed, method); err != nil {
			return nil, err
		}
	}
	best, err := e.build(bestRatios)
	if err != nil {
		return nil, err
	}
	c := &Choice{Method: method, Graph: best, Keep: map[string][]int{}, Shortlist: listed}
	for t, gr := range e.groups {
		if e.dropped(t, bestRatios[t]) {
			c.Ratios = append(c.Ratios, 0) // the block is gone
			continue
		}
		k := best.Node(gr[0]).Out
		setGroup(c.Keep, gr, dnn.L1Channels(g, gr, k))
		c.Ratios = append(c.Ratios, float64(k)/float64(g.Node(gr[0]).Out))
	}
	return c, nil
}

// scoredRatios is an episode's model and its reward.
type scoredRatios struct {
	ratios []float64
	r      float64
}

// shortlist re-scores the cfg.Shortlist best distinct models of a search
// by cfg.ShortlistReward and returns the best by that, and every model it
// scored. Each is repaired on train less its last held images and scored
// on those.
func (e *env) shortlist(scored []scoredRatios, cfg RLConfig, train *data.Set, held int, seed uint64, method string) ([]float64, []Shortlisted, error) {
	fit, out, err := holdOut(train, held)
	if err != nil {
		return nil, nil, err
	}
	rc := cfg
	rc.Reward = cfg.ShortlistReward
	rw, err := newRewarder(e.g, rc, fit, seed)
	if err != nil {
		return nil, nil, err
	}
	slices.SortStableFunc(scored, func(a, b scoredRatios) int { return cmp.Compare(b.r, a.r) })
	var best []float64
	var listed []Shortlisted
	chosen, bestR := -1, math.Inf(-1)
	cheap, sample := e.rewarder, e.val
	defer func() { e.rewarder, e.val = cheap, sample }()
	e.rewarder, e.val = rw, out
	var seen [][]int // the shortlisted models' widths: episodes may repeat a model
	for _, s := range scored {
		if len(seen) == cfg.Shortlist {
			break
		}
		p, keep, err := e.buildKeep(s.ratios)
		if err != nil {
			return nil, nil, err
		}
		widths := make([]int, len(e.groups))
		for t, gr := range e.groups {
			if n := p.Node(gr[0]); n != nil {
				widths[t] = n.Out
			}
		}
		if slices.ContainsFunc(seen, func(w []int) bool { return slices.Equal(w, widths) }) {
			continue
		}
		seen = append(seen, widths)
		r, err := e.reward(p, keep)
		if err != nil {
			return nil, nil, err
		}
		kept := make([]float64, len(widths))
		for t, w := range widths {
			kept[t] = float64(w) / float64(e.g.Node(e.groups[t][0]).Out)
		}
		sl := Shortlisted{Reward: s.r, Score: r, Params: p.Params(), Keep: kept}
		if rc.Reward == RewardRecipe {
			sl.Epochs = rc.Recipe.Epochs
		}
		listed = append(listed, sl)
		if cfg.Log != nil {
			fmt.Fprintf(cfg.Log, "%s: shortlist %d/%d: reward %.4f, %s %.4f on %d held-out training images, keep %v\n",
				method, len(seen), cfg.Shortlist, s.r, rc.Reward, r, out.Len(), round2(s.ratios))
		}
		if r > bestR {
			best, bestR, chosen = s.ratios, r, len(listed)-1
		}
	}
	if chosen >= 0 {
		listed[chosen].Chosen = true
	}
	return best, listed, nil
}

// holdOut splits train into the images a shortlist is repaired on and its
// last n (at most a quarter of it) that it is scored on. The training split
// is shuffled, so its tail is a random sample; the rewards that train on a
// slice take theirs from the head.
func holdOut(train *data.Set, n int) (fit, out *data.Set, err error) {
	total := 0
	if train != nil {
		total = train.Len()
	}
	n = min(n, total/4)
	if n == 0 {
		return nil, nil, fmt.Errorf("compress: rl: a shortlist is scored on held-out training images: %d training images are too few", total)
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = total - n + i
	}
	return train.First(total - n), train.Subset(idx), nil
}

// update does one DDPG update from a random minibatch: the critic regresses
// each step's return; the actor climbs the critic's gradient in the action.
func update(actor, critic *mlp, replay []transition, batch int, rng *rand.Rand, actorLR, criticLR float64) {
	n := min(batch, len(replay))
	cg, ag := critic.newGrads(), actor.newGrads()
	in := make([]float64, stateDim+1)
	for range n {
		tr := replay[rng.IntN(len(replay))]
		copy(in, tr.s)
		in[stateDim] = tr.a
		q := critic.forward(in)[0]
		critic.backward(cg, []float64{2 * (q - tr.ret)})
	}
	critic.adam(cg, n, criticLR)
	scratch := critic.newGrads() // the critic's own gradient is not applied here
	for range n {
		tr := replay[rng.IntN(len(replay))]
		a := actor.forward(tr.s)[0]
		copy(in, tr.s)
		in[stateDim] = a
		critic.forward(in)
		dq := critic.backward(scratch, []float64{1})
		actor.forward(tr.s)
		actor.backward(ag, []float64{-dq[stateDim]}) // ascend Q
	}
	actor.adam(ag, n, actorLR)
}

// updateEpisodes does one update of the whole-episode critic and the actor
// from a random minibatch of episodes: the critic regresses each episode's
// reward, centred on the mean of all so far, on its actions; the actor at
// each step climbs the critic's gradient in that step's action, the other
// steps' actions being the actor's own at their states.
func updateEpisodes(actor, critic *mlp, eps []episode, batch int, rng *rand.Rand, actorLR, criticLR float64) {
	// A few critic steps to each of the actor's: the actor climbs
	// whatever slope the critic has, so a critic that lags its data leads
	// the actor where no episode has been.
	const criticSteps = 4
	var mean float64
	for _, ep := range eps {
		mean += ep.r
	}
	mean /= float64(len(eps))
	n := min(batch, len(eps))
	for range criticSteps {
		cg := critic.newGrads()
		for range n {
			ep := eps[rng.IntN(len(eps))]
			q := critic.forward(ep.acts)[0]
			critic.backward(cg, []float64{2 * (q - (ep.r - mean))})
		}
		critic.adam(cg, n, criticLR)
	}
	ag, scratch := actor.newGrads(), critic.newGrads()
	acts := make([]float64, len(eps[0].acts))
	for range n {
		ep := eps[rng.IntN(len(eps))]
		for t, s := range ep.states {
			acts[t] = actor.forward(s)[0]
		}
		critic.forward(acts)
		dq := critic.backward(scratch, []float64{1})
		for t, s := range ep.states {
			actor.forward(s)
			actor.backward(ag, []float64{-dq[t]})
		}
	}
	actor.adam(ag, n, actorLR)
}

// truncNormal draws from a normal of mean mu and spread sigma, redrawn until
// it falls in [lo, hi].
func truncNormal(rng *rand.Rand, mu, sigma, lo, hi float64) float64 {
	for range 100 {
		if x := mu + sigma*rng.NormFloat64(); x >= lo && x <= hi {
			return x
		}
	}
	return min(max(mu, lo), hi)
}

func round2(xs []float64) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = math.Round(x*100) / 100
	}
	return out
}
