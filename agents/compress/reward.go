package compress

import (
	"fmt"
	"slices"

	"github.com/tandem-edge/tandem/dnn"
	"github.com/tandem-edge/tandem/dnn/data"
)

// What an episode's pruned model can be scored by, cheapest first. Each is
// its accuracy on the validation subset after some repair short of
// fine-tuning; what matters is how well it ranks models as fine-tuning
// will (StudyRewards measures that).
const (
	// RewardRaw is the accuracy as pruned.
	RewardRaw = "raw"
	// RewardBN re-estimates the BatchNormalization statistics on a few
	// training batches first (adaptive BN, as EagleEye does).
	RewardBN = "bn"
	// RewardLS refits each cut convolution's weights by least squares from
	// the kept channels (dnn.Reconstruct), then re-estimates the statistics.
	RewardLS = "ls"
	// RewardFinetune trains the model briefly on a slice of the training
	// data, distilling the heavy model, before measuring it.
	RewardFinetune = "finetune"
	// RewardLSFinetune refits as RewardLS does, then trains as
	// RewardFinetune does from the refit weights, then re-estimates the
	// statistics: the short fine-tune starts where the refit left off
	// rather than from the cut model.
	RewardLSFinetune = "ls-finetune"
	// RewardRecipe fine-tunes the model by the fine-tuning recipe itself,
	// on every training image: the accuracy the model will be judged by,
	// at the cost of a whole fine-tuning. It can only re-score a shortlist.
	RewardRecipe = "recipe"
)

// Rewards lists the rewards an episode can be scored by, cheapest first.
var Rewards = []string{RewardRaw, RewardBN, RewardLS, RewardFinetune, RewardLSFinetune}

// ShortlistRewards lists what a shortlist can be re-scored by: Rewards and
// RewardRecipe.
var ShortlistRewards = append(slices.Clip(Rewards), RewardRecipe)

// Images and positions per image the least-squares refit samples.
const (
	lsImages    = 128
	lsPositions = 16
)

// rewarder scores pruned models; setReward configures the environment's.
type rewarder struct {
	kind   string
	heavy  *dnn.Graph
	train  *data.Set // recalibration and refitting; nil: neither
	calib  int
	slice  *data.Set // RewardFinetune's training images
	recipe dnn.TrainConfig
	seed   uint64
	ls     *dnn.Reconstructor // RewardLS's refits, on the first training images
	// deploy, when set, scores the repaired model by its deployment's
	// latency reduction, with the heavy model's predictions on the
	// validation subset in heavyVal.
	deploy   *deployer
	heavyVal []int32
}

func (e *env) setReward(cfg RLConfig, train *data.Set, seed uint64) error {
	r, err := newRewarder(e.g, cfg, train, seed)
	if err != nil {
		return err
	}
	e.rewarder = r
	return nil
}

func newRewarder(heavy *dnn.Graph, cfg RLConfig, train *data.Set, seed uint64) (*rewarder, error) {
	if !slices.Contains(ShortlistRewards, cfg.Reward) {
		return nil, fmt.Errorf("compress: rl: unknown reward %q; want one of %v", cfg.Reward, ShortlistRewards)
	}
	if cfg.Reward == RewardRecipe && cfg.Recipe.Epochs == 0 {
		return nil, fmt.Errorf("compress: rl: reward %s needs a fine-tuning recipe of 1 or more epochs", cfg.Reward)
	}
	r := &rewarder{kind: cfg.Reward, heavy: heavy, train: train, calib: cfg.Calibrate, seed: seed, recipe: cfg.Recipe, deploy: cfg.deploy}
	if train == nil || train.Len() == 0 {
		if r.kind != RewardRaw && r.kind != RewardBN {
			return nil, fmt.Errorf("compress: rl: reward %s needs training data", r.kind)
		}
		r.train = nil
		return r, nil
	}
	if r.kind == RewardLS || r.kind == RewardLSFinetune {
		n := min(lsImages, train.Len())
		var err error
		if r.ls, err = dnn.NewReconstructor(heavy, train.X[:n*train.SampleSize()], n, lsPositions); err != nil {
			return nil, err
		}
	}
	r.slice = train // the recipe's own images
	if r.kind != RewardRecipe {
		r.slice = train.First(cfg.Slice)
	}
	if t := r.recipe.TeacherLogits; t != nil {
		r.recipe.TeacherLogits = t[:r.slice.Len()*heavy.Classes] // the slice's
	}
	return r, nil
}

// reward scores the pruned model g (keep is how it was pruned) in place:
// the model is changed by the repair it is scored after.
func (e *env) reward(g *dnn.Graph, keep map[string][]int) (float64, error) {
	r := e.rewarder
	if r.kind == RewardLS || r.kind == RewardLSFinetune {
		if err := r.ls.Refit(g, keep, r.seed); err != nil {
			return 0, err
		}
	}
	if r.kind == RewardRecipe {
		tc := r.recipe
		tc.Seed = r.seed
		if _, err := dnn.Train(g, r.slice, nil, tc, nil); err != nil {
			return 0, err
		}
	}
	if r.kind == RewardFinetune || r.kind == RewardLSFinetune {
		tc := r.recipe
		tc.Epochs, tc.BatchSize, tc.Schedule, tc.WarmupEpochs, tc.Seed = 1, 64, "constant", 0, r.seed
		if tc.LR == 0 {
			tc.LR = 0.01
		}
		if _, err := dnn.Train(g, r.slice, nil, tc, nil); err != nil {
			return 0, err
		}
	}
	// RewardFinetune and RewardRecipe measure the model as training left
	// it; the other repairs re-estimate the statistics first.
	recalibrates := r.kind == RewardBN || r.kind == RewardLS || r.kind == RewardLSFinetune
	if recalibrates && r.train != nil && r.calib > 0 {
		if err := dnn.RecalibrateBN(g, r.train, r.calib, 64); err != nil {
			return 0, err
		}
	}
	if r.deploy != nil {
		if r.heavyVal == nil {
			r.heavyVal = r.deploy.heavyVal[:e.val.Len()]
		}
		return r.deploy.reward(g, e.val, r.heavyVal)
	}
	acc, _, _, err := dnn.Evaluate(g, e.val, 0)
	return acc, err
}
