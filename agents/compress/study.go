package compress

import (
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/tandem-edge/tandem/dnn"
	"github.com/tandem-edge/tandem/dnn/data"
)

// StudyConfig is a reward study: how well each reward, measured on a pruned
// model before fine-tuning, predicts the accuracy the model reaches after
// it. The agent only ever sees the reward, so a reward that ranks models
// differently from fine-tuning steers it to the wrong ones.
type StudyConfig struct {
	Heavy  *dnn.Graph
	Splits *data.Splits
	Budget Budget
	// Models is how many pruned models are sampled, each with random
	// relative widths scaled to the largest model within the budget, so
	// that they differ in how they spend it rather than in how much they
	// spend; default 24.
	Models   int
	Rewards  []string        // default Rewards
	Finetune dnn.TrainConfig // the full fine-tuning each model then gets
	RL       RLConfig        // the rewards' settings (Samples, Calibrate, Slice, MinKeep)
	Seed     uint64
	Log      io.Writer
}

// Study is the outcome, written as rewards.json.
type Study struct {
	Budget   BudgetReport `json:"budget"`
	Models   int          `json:"models"`
	Samples  string       `json:"samples"`
	Finetune struct {
		Epochs  int     `json:"epochs"`
		LR      float64 `json:"lr"`
		Distill bool    `json:"distill"`
	} `json:"finetune"`
	Rewards []RewardFit    `json:"rewards"`
	Sampled []StudiedModel `json:"sampled"`
	// BestValAccuracy is the most accurate sampled model after fine-tuning:
	// what a perfect reward would pick.
	BestValAccuracy float64 `json:"best_val_accuracy"`
	Seed            uint64  `json:"seed"`
}

// RewardFit says how well one reward predicted fine-tuning.
type RewardFit struct {
	Reward string `json:"reward"`
	// Spearman is the rank correlation between the reward and the
	// validation accuracy after fine-tuning, over the sampled models; nil
	// when either is the same for every model.
	Spearman *float64 `json:"spearman"`
	// PickedValAccuracy is the fine-tuned accuracy of the model the reward
	// ranks first, the one an agent rewarded by it would keep.
	PickedValAccuracy float64 `json:"picked_val_accuracy"`
	SecondsPerModel   float64 `json:"seconds_per_model"`
}

// StudiedModel is one sampled model.
type StudiedModel struct {
	Keep        []float64          `json:"keep"`
	Params      int64              `json:"params"`
	FLOPs       int64              `json:"flops"`
	Rewards     map[string]float64 `json:"rewards"`
	ValAccuracy float64            `json:"val_accuracy"` // after the full fine-tuning
}

// StudyRewards samples models within the budget, scores each by every
// reward, fine-tunes each fully and reports the rank correlations.
func StudyRewards(cfg StudyConfig) (*Study, error) {
	if err := cfg.Budget.Check(); err != nil {
		return nil, err
	}
	if cfg.Splits == nil || cfg.Splits.Val.Len() == 0 || cfg.Splits.Train.Len() == 0 {
		return nil, errors.New("compress: a reward study needs training and validation samples")
	}
	if cfg.Models == 0 {
		cfg.Models = 24
	}
	if cfg.Models < 3 {
		return nil, fmt.Errorf("compress: %d models: a rank correlation needs at least 3", cfg.Models)
	}
	rewards := cfg.Rewards
	if len(rewards) == 0 {
		rewards = Rewards
	}
	rc := cfg.RL
	rc.Reward = RewardRaw // checked per reward below
	rc = rc.withDefaults()
	if rc.Recipe.Epochs == 0 {
		rc.Recipe = cfg.Finetune
	}
	val := cfg.Splits.Val.First(rc.Samples)
	e, err := newEnv(cfg.Heavy, cfg.Budget, val, rc.MinKeep)
	if err != nil {
		return nil, err
	}
	if len(e.groups) == 0 {
		return nil, fmt.Errorf("compress: %s has no prunable convolution", cfg.Heavy.Name)
	}
	scorers := map[string]*rewarder{}
	for _, kind := range rewards {
		k := rc
		k.Reward = kind
		if scorers[kind], err = newRewarder(cfg.Heavy, k, cfg.Splits.Train, cfg.Seed); err != nil {
			return nil, err
		}
	}
	st := &Study{Budget: describe(cfg.Budget, e.base), Models: cfg.Models, Seed: cfg.Seed,
		Samples: fmt.Sprintf("rewards on %d validation samples; fine-tuned accuracy on all %d", val.Len(), cfg.Splits.Val.Len())}
	st.Finetune.Epochs, st.Finetune.LR, st.Finetune.Distill = cfg.Finetune.Epochs, cfg.Finetune.LR, distils(cfg.Finetune)
	seconds := map[string]float64{}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x7374)) // "st"
	for i := range cfg.Models {
		ratios, err := e.sample(rng, rc.MinKeep)
		if err != nil {
			return nil, err
		}
		p, keep, err := e.buildKeep(ratios)
		if err != nil {
			return nil, err
		}
		m := StudiedModel{Params: p.Params(), Rewards: map[string]float64{}}
		if m.FLOPs, err = p.FLOPs(); err != nil {
			return nil, err
		}
		for _, gr := range e.groups {
			m.Keep = append(m.Keep, math.Round(100*float64(p.Node(gr[0]).Out)/float64(cfg.Heavy.Node(gr[0]).Out))/100)
		}
		for _, kind := range rewards {
			e.rewarder = scorers[kind]
			t0 := time.Now()
			if m.Rewards[kind], err = e.reward(p.Clone(), keep); err != nil {
				return nil, err
			}
			seconds[kind] += time.Since(t0).Seconds()
		}
		tuned := p.Clone()
		tc := cfg.Finetune
		tc.Seed = cfg.Seed
		if _, err := dnn.Train(tuned, cfg.Splits.Train, nil, tc, nil); err != nil {
			return nil, fmt.Errorf("compress: fine-tuning sampled model %d: %w", i+1, err)
		}
		if m.ValAccuracy, _, _, err = dnn.Evaluate(tuned, cfg.Splits.Val, 0); err != nil {
			return nil, err
		}
		logf(cfg.Log, "model %d/%d: %d params, keep %v, rewards %v, fine-tuned %.4f", i+1, cfg.Models, m.Params, m.Keep, m.Rewards, m.ValAccuracy)
		st.Sampled = append(st.Sampled, m)
		st.BestValAccuracy = max(st.BestValAccuracy, m.ValAccuracy)
	}
	final := make([]float64, len(st.Sampled))
	for i, m := range st.Sampled {
		final[i] = m.ValAccuracy
	}
	for _, kind := range rewards {
		xs := make([]float64, len(st.Sampled))
		pick := 0
		for i, m := range st.Sampled {
			xs[i] = m.Rewards[kind]
			if xs[i] > xs[pick] {
				pick = i
			}
		}
		fit := RewardFit{Reward: kind, PickedValAccuracy: final[pick], SecondsPerModel: seconds[kind] / float64(len(st.Sampled))}
		if rho := Spearman(xs, final); !math.IsNaN(rho) {
			fit.Spearman = &rho
		}
		st.Rewards = append(st.Rewards, fit)
	}
	return st, nil
}

// Spearman is the rank correlation of x and y: Pearson's correlation of
// their ranks, tied values sharing their mean rank. It is NaN when either
// is constant.
func Spearman(x, y []float64) float64 {
	rx, ry := ranks(x), ranks(y)
	n := float64(len(x))
	var mx, my float64
	for i := range rx {
		mx += rx[i]
		my += ry[i]
	}
	mx, my = mx/n, my/n
	var sxy, sxx, syy float64
	for i := range rx {
		dx, dy := rx[i]-mx, ry[i]-my
		sxy += dx * dy
		sxx += dx * dx
		syy += dy * dy
	}
	return sxy / math.Sqrt(sxx*syy)
}

func ranks(x []float64) []float64 {
	idx := make([]int, len(x))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return x[idx[a]] < x[idx[b]] })
	r := make([]float64, len(x))
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && x[idx[j+1]] == x[idx[i]] {
			j++
		}
		mean := float64(i+j)/2 + 1
		for _, k := range idx[i : j+1] {
			r[k] = mean
		}
		i = j + 1
	}
	return r
}
