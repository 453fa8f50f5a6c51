package compresscmd

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
	"github.com/spf13/cobra"

	"github.com/tandem-edge/tandem/agents/compress"
	"github.com/tandem-edge/tandem/cmd/tandem/internal/cli"
)

// RewardsOptions are the inputs of `tandem compress rewards`.
type RewardsOptions struct {
	Bundle      string
	Dataset     string
	Out         string
	FLOPs       float64
	Params      float64
	Multiple    int // channels kept per layer come in multiples of this; 0 or 1: any count
	Models      int
	Rewards     string
	Slice       int // training images the finetune rewards train on
	Epochs      int
	LR          float64
	Distill     float64
	Temperature float64
	// CachedTeacher computes the heavy model's soft targets once per
	// training image instead of on every augmented view.
	CachedTeacher bool
	Seed          uint64
	JSON          bool
	Stdout        io.Writer
	Stderr        io.Writer
}

func newRewardsCmd() *cobra.Command {
	opts := &RewardsOptions{}
	cmd := &cobra.Command{
		Use:   "rewards --bundle BUNDLE (--flops F | --params F) --out DIR",
		Short: "Measure how well each RL reward predicts accuracy after fine-tuning",
		Long: `The agent of 'tandem compress' sees only the reward of each episode's pruned
model, measured before fine-tuning; it finds good models only as far as the
reward ranks models the way fine-tuning will. This command samples --models
pruned models within the budget, as the agent's random warm-up episodes draw
them, scores each by every reward:

  raw       validation accuracy as pruned
  bn        after re-estimating BatchNormalization statistics (adaptive BN)
  ls        after refitting each cut convolution by least squares from the
            kept channels, then adaptive BN
  finetune  after one distilled pass over a slice of training images
            (--reward-slice, default 2048)
  ls-finetune  the ls refit, then that pass from the refit weights, then
            adaptive BN

then fine-tunes every model as 'tandem compress' would and reports, per reward,
the Spearman rank correlation with the fine-tuned validation accuracy, the
fine-tuned accuracy of the model it ranks first, and its cost per model.
Writes DIR/rewards.json with every sampled model.`,
		Example: `  tandem compress rewards --bundle builtin:fashion --flops 0.1 --models 24 --finetune-epochs 1 --out out/rewards`,
		Args:    cli.ExactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.Stdout, opts.Stderr = cmd.OutOrStdout(), cmd.ErrOrStderr()
			return RunRewards(opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Bundle, "bundle", "builtin:fashion", "the `BUNDLE` whose heavy model is pruned")
	f.StringVar(&opts.Dataset, "dataset", "", "dataset `NAME` or PATH the bundle was built from (default: the bundle's)")
	f.StringVar(&opts.Out, "out", "", "write rewards.json into `DIR` (required)")
	f.Float64Var(&opts.FLOPs, "flops", 0, "sample models within a fraction `F` of the heavy model's FLOPs")
	f.Float64Var(&opts.Params, "params", 0, "sample models within a fraction `F` of the heavy model's parameters")
	f.IntVar(&opts.Multiple, "channel-multiple", 8, "keep a multiple of `M` channels in every pruned layer, or all of them (1: any count), as compress does")
	f.IntVar(&opts.Models, "models", 24, "sample `N` models")
	f.StringVar(&opts.Rewards, "rewards", strings.Join(compress.Rewards, ","), "the `REWARDS` to measure, comma-separated")
	f.IntVar(&opts.Slice, "reward-slice", 2048, "the finetune rewards train on the first `N` training images")
	f.IntVar(&opts.Epochs, "finetune-epochs", 1, "fine-tune each model `E` epochs")
	addRecipeFlags(f, &opts.LR, &opts.Distill, &opts.Temperature, &opts.CachedTeacher)
	f.Uint64Var(&opts.Seed, "seed", 1, "seed `S` of the sampling and fine-tuning")
	f.BoolVar(&opts.JSON, "json", false, "print rewards.json's object instead of a table")
	return cmd
}

// RunRewards runs the study and writes rewards.json.
func RunRewards(opts *RewardsOptions) error {
	if opts.Out == "" {
		return cli.BadInputf("compress rewards: --out is required (see 'tandem compress rewards --help')")
	}
	rewards := strings.Split(opts.Rewards, ",")
	for _, r := range rewards {
		if !slices.Contains(compress.Rewards, r) {
			return cli.BadInputf("compress rewards: --rewards: unknown reward %q; want some of %s", r, strings.Join(compress.Rewards, ", "))
		}
	}
	if opts.Models < 3 || opts.Epochs < 1 {
		return cli.BadInputf("compress rewards: --models %d, --finetune-epochs %d: want at least 3 models and 1 epoch", opts.Models, opts.Epochs)
	}
	if err := checkRecipe("compress rewards", opts.Distill, opts.Temperature, opts.LR); err != nil {
		return err
	}
	if opts.Slice < 0 {
		return cli.BadInputf("compress rewards: --reward-slice %d: want 1 or more training images", opts.Slice)
	}
	if opts.Multiple < 0 {
		return cli.BadInputf("compress rewards: --channel-multiple %d: want 1 or more", opts.Multiple)
	}
	budget := compress.Budget{FLOPs: opts.FLOPs, Params: opts.Params, Multiple: opts.Multiple}
	if err := budget.Check(); err != nil {
		return cli.BadInput(err)
	}
	_, heavy, splits, err := load(opts.Bundle, opts.Dataset)
	if err != nil {
		return err
	}
	ft, err := recipe(heavy, splits, opts.Epochs, opts.LR, opts.Distill, opts.Temperature, opts.CachedTeacher, opts.Stderr)
	if err != nil {
		return err
	}
	st, err := compress.StudyRewards(compress.StudyConfig{Heavy: heavy, Splits: splits, Budget: budget, Models: opts.Models,
		Rewards: rewards, Finetune: ft, RL: compress.RLConfig{Slice: opts.Slice}, Seed: opts.Seed, Log: opts.Stderr})
	if err != nil {
		return cli.BadInput(err)
	}
	raw, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	raw = append(raw, '\n')
	if err := cli.WriteFiles(opts.Out, map[string][]byte{"rewards.json": raw}); err != nil {
		return err
	}
	if opts.JSON {
		_, err := opts.Stdout.Write(raw)
		return err
	}
	printStudy(opts.Stdout, st)
	fmt.Fprintf(opts.Stdout, "wrote %s\n", filepath.Join(opts.Out, "rewards.json"))
	return nil
}

func printStudy(w io.Writer, st *compress.Study) {
	f := func(v float64, p int) string { return strconv.FormatFloat(v, 'f', p, 64) }
	fmt.Fprintf(w, "%d models; %s; fine-tuned %d epoch(s); the best reached %s%%\n", st.Models, st.Samples, st.Finetune.Epochs, f(100*st.BestValAccuracy, 2))
	var rows [][]string
	for _, r := range st.Rewards {
		rho := "undefined (constant)"
		if r.Spearman != nil {
			rho = f(*r.Spearman, 3)
		}
		rows = append(rows, []string{r.Reward, rho, f(100*r.PickedValAccuracy, 2) + "%", f(r.SecondsPerModel, 3)})
	}
	t := tablewriter.NewTable(w, tablewriter.WithHeaderAutoFormat(tw.Off))
	t.Header("reward", "Spearman with fine-tuned accuracy", "fine-tuned accuracy of its top model", "seconds per model")
	t.Bulk(rows)
	t.Render()
}
