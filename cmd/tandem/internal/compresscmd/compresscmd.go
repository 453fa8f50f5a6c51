// Package compresscmd is `tandem compress`: the edge model derived from a
// bundle's heavy model by structured pruning to the edge device's budget.
package compresscmd

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/tandem-edge/tandem/agents/compress"
	"github.com/tandem-edge/tandem/bundles"
	"github.com/tandem-edge/tandem/bundles/build"
	"github.com/tandem-edge/tandem/cmd/tandem/internal/cli"
	"github.com/tandem-edge/tandem/cmd/tandem/internal/trainprogress"
	"github.com/tandem-edge/tandem/dnn"
	"github.com/tandem-edge/tandem/dnn/data"
	"github.com/tandem-edge/tandem/dnn/onnx"
	"github.com/tandem-edge/tandem/hil"
	"github.com/tandem-edge/tandem/profiles"
	"github.com/tandem-edge/tandem/scenarios"
)

// Options are the inputs of `tandem compress`.
type Options struct {
	Bundle string
	// Heavy, when set, is the heavy model's ONNX file, compressed instead
	// of a bundle's, on Dataset split as bundle build splits it.
	Heavy   string
	Dataset string
	Out     string
	FLOPs   float64
	Params  float64
	Latency time.Duration
	Device  string
	Methods string
	// Target, when not empty, searches for the smallest model reaching an
	// accuracy instead of pruning to one budget: "heavy-D" (the heavy
	// model's validation accuracy less D points), a fraction or a
	// percentage.
	Target      string
	Search      string // the resource the target search budgets
	SearchSteps int
	SearchMin   float64
	Epochs      int
	LR          float64
	Distill     float64 // weight of the heavy model's soft targets; 0: no distillation
	Temperature float64
	// CachedTeacher computes the heavy model's soft targets once per
	// training image instead of on every augmented view.
	CachedTeacher bool
	Episodes      int
	Reward        string
	Critic        string
	RewardSlice   int
	Shortlist     int
	ShortlistBy   string
	// ShortlistEpochs fine-tunes each model of a recipe shortlist that
	// many epochs instead of Epochs; 0: Epochs.
	ShortlistEpochs int
	DropBlocks      bool // rl may remove identity residual blocks whole
	// Keep is the given method's proportions, comma-separated, one a
	// layer group (report.json's keep).
	Keep string
	// Multiple rounds every pruned layer's channels to a multiple of it
	// (compress.Budget.Multiple); 0 or 1: any count.
	Multiple  int
	Objective string // accuracy | deployment
	Scenario  string // the deployment objective's scenario
	SLO       string // the deployment's latency minimised: mean, p50, p95, p99
	// Confidence is the deployment objective's offload.ParityRate confidence.
	Confidence float64
	// Tolerance is its tolerance, a fraction of accuracy.
	Tolerance float64
	Seed      uint64
	Measure   bool
	JSON      bool
	Command   string // recorded in report.json
	Stdout    io.Writer
	Stderr    io.Writer
}

// NewCmd builds `tandem compress`.
func NewCmd() *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:   "compress --bundle BUNDLE (--flops F | --params F | --latency D | --target-accuracy A) --out DIR",
		Short: "Derive an edge model from the heavy one by pruning channels to a budget",
		Long: `Prune the bundle's heavy model to the edge device's budget and fine-tune it:
structured channel pruning, so the result is a smaller dense network that any
runtime runs faster. The budget is a fraction of the heavy model's FLOPs
(--flops 0.1) or parameters (--params 0.2), a latency predicted by a device
profile's predictor (--latency 2ms --device edge-cpu-1t), or several.

With --target-accuracy there is no fixed budget: for each method, bisection on
the budget of --search (params, flops or latency) finds the smallest model
whose fine-tuned validation accuracy reaches the target, the comparison
compression papers make (size at equal accuracy). The target is "heavy" (the
heavy model's validation accuracy less one point), "heavy-D" (less D points),
a fraction (0.92) or a percentage (92%). Each of the --search-steps probes is
a full pruning and fine-tuning, so a search costs that many fixed-budget runs.

Each method chooses how many channels each layer keeps and which:

  rl        a DDPG agent picks each layer's width in turn, AMC-style, and each
            episode's model is the largest with those proportions that fits
            the budget; its reward is the accuracy on validation images
            before fine-tuning, after the repair --reward names (default ls:
            each cut convolution refit by least squares, then
            BatchNormalization statistics re-estimated); its critic values
            an episode's widths together (--critic episode), or each
            layer's alone as AMC's does (--critic step); the best episode
            wins (--episodes after 25 random warm-up episodes), or, with
            --shortlist K, the best of the K best episodes re-scored by
            --shortlist-reward (by default recipe: each of the K
            fine-tuned by the recipe below, K times the fine-tuning's
            cost, or less with --shortlist-epochs; the cheap reward
            orders good models no better than chance); the shortlist is
            scored on training images held out of its fine-tuning, never
            on validation, so that picking one of K does not flatter the
            validation accuracy methods are compared by
  uniform   the same fraction of every layer, the channels of largest L1 norm
  l1        channels ranked by L1 norm, relative to their layer's, network-wide
  random    random per-layer fractions scaled to the budget, random channels

Run only when named, the agent's ablation:

  random-search  rl's episodes, every one drawn at random as the warm-up's
            are, the best by the same reward wins: what the agent must beat
  given     the proportions --keep lists (one a layer group, as report.json's
            keep records them) scaled to the budget, the channels of largest
            L1 norm: a found model fine-tuned again by another recipe
            (--params at its own fraction keeps its widths), or its
            allocation carried to another budget

The three baselines take the largest model within the budget by bisection on
their one parameter; rl keeps channels by L1 norm within each layer, as uniform
does. Every method keeps a multiple of --channel-multiple channels in each
layer (8 by default, as AMC rounds): ONNX Runtime's blocked convolutions run
odd channel counts slower than the next multiple (docs/results.md: the same
keep ratios unrounded ran 0.36 ms, the heavy model's time, and 0.25 ms
rounded to multiples of 8), so an odd count buys nothing. With --drop-blocks the agent may also remove a residual block whole where
its shortcut is the identity (ResNets: every block but the first of a stage
that changes width): its first convolution's ratio then ranges down to 0, and
below the least keep ratio (0.1) the block is gone; report.json records its
ratio as 0. The baselines only narrow. (On the zoo's ResNet-20 the agent
found larger models with it than without: docs/results.md.)

With --objective deployment the agent is rewarded not with accuracy but with
how much lower the mean (or --slo) latency of --scenario is than with every
input sent to the cloud: each episode's model runs on the validation images,
its outcomes and its latency predicted on the scenario's edge device go into
the simulator, with a max_prob offloading threshold set so that the cascade is
as accurate as the heavy model alone (--confidence, --tolerance: as 'tandem
offload train' sets its threshold). The agent so trades edge accuracy (fewer
offloads) against edge time. Every method's final model, and the bundle's own
edge model, are then simulated in that deployment on the test images.

Each pruned model is fine-tuned for --finetune-epochs on the bundle's training
split, the same recipe for every method: SGD from --finetune-lr on a cosine
schedule, distilling the heavy model (its soft targets at --temperature,
weighted --distill against the labels; --distill 0 for the labels alone).
The default 3 epochs do not finish training a very small model: at 4% of a
ResNet-20's parameters 10 epochs added 1.5 points and 20 epochs 2.0
(docs/results.md), so a size found at a target holds for the recipe it was
found with.
Every choice (the method whose model is written, the budgets of a target
search, the agent's best episode) is made on the validation split; the test
split measures each method's final model once.

Writes DIR/edge.onnx (the chosen method's model: the most accurate on
validation; with a target the smallest that reached it; with --objective
deployment the one whose deployment is fastest on validation) and
DIR/report.json:
the budget or target, the heavy model, and per method its parameters, FLOPs,
accuracy on validation and on test before and after fine-tuning, latency
predicted on --device and measured with ONNX Runtime (one thread), the kept
fraction of each layer and, with a target, every budget probed.`,
		Example: `  tandem compress --bundle builtin:fashion --flops 0.067 --out out/compress
  tandem compress --bundle bundles/fashion --latency 0.05ms --device edge-cpu-1t --methods uniform,l1 --out out/c
  tandem compress --bundle builtin:fashion --target-accuracy heavy --search params --out out/size-at-accuracy
  tandem compress --bundle builtin:fashion --flops 0.3 --objective deployment --scenario builtin:default --out out/deploy`,
		Args: cli.ExactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.Stdout, opts.Stderr = cmd.OutOrStdout(), cmd.ErrOrStderr()
			if opts.Heavy != "" && cmd.Flags().Changed("bundle") && !cmd.Flags().Changed("objective") {
				return cli.BadInputf("compress: give --bundle or --heavy, not both (--bundle only names the reference edge model of --objective deployment)")
			}
			opts.Command = "tandem " + strings.Join(os.Args[1:], " ")
			return Run(opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Bundle, "bundle", "builtin:fashion", "the `BUNDLE` whose heavy model is pruned")
	f.StringVar(&opts.Dataset, "dataset", "", "dataset `NAME` or PATH the bundle was built from (default: the bundle's)")
	f.StringVar(&opts.Heavy, "heavy", "", "compress the heavy model `FILE.onnx` (trained on --dataset, split as 'bundle build' splits it) instead of a bundle's")
	f.StringVar(&opts.Out, "out", "", "write edge.onnx and report.json into `DIR` (required)")
	f.Float64Var(&opts.FLOPs, "flops", 0, "keep at most a fraction `F` of the heavy model's FLOPs")
	f.Float64Var(&opts.Params, "params", 0, "keep at most a fraction `F` of the heavy model's parameters")
	f.DurationVar(&opts.Latency, "latency", 0, "keep the predicted batch-1 latency on --device at most `D`")
	f.StringVar(&opts.Device, "device", "edge-cpu-1t", "device `PROFILE` (built-in name or file) whose predictor times the models")
	f.StringVar(&opts.Methods, "methods", strings.Join(compress.Methods, ","), "the `METHODS` to run, comma-separated")
	f.StringVar(&opts.Target, "target-accuracy", "", "search each method's smallest model reaching validation accuracy `A`: heavy (the heavy model's less one point), heavy-D, a fraction or a percentage")
	f.StringVar(&opts.Search, "search", compress.ResourceParams, "with a target: the budget `RESOURCE` searched ("+strings.Join(compress.Resources, ", ")+")")
	f.IntVar(&opts.SearchSteps, "search-steps", 6, "with a target: `N` probes per method")
	f.Float64Var(&opts.SearchMin, "search-min", 0.01, "with a target: the smallest budget `F` searched, a fraction of the heavy model's")
	f.IntVar(&opts.Epochs, "finetune-epochs", 3, "fine-tune each pruned model `E` epochs (0: none)")
	addRecipeFlags(f, &opts.LR, &opts.Distill, &opts.Temperature, &opts.CachedTeacher)
	f.IntVar(&opts.Episodes, "episodes", 150, "rl: search `N` episodes after the warm-up")
	f.IntVar(&opts.Multiple, "channel-multiple", 8, "keep a multiple of `M` channels in every pruned layer, or all of them (1: any count)")
	f.StringVar(&opts.Keep, "keep", "", "given: the `FRACTIONS` kept per layer group, comma-separated (report.json's keep)")
	f.BoolVar(&opts.DropBlocks, "drop-blocks", false, "rl: let the agent remove identity residual blocks whole, not only narrow them")
	f.StringVar(&opts.Objective, "objective", "accuracy", "rl: reward `KIND`: accuracy, or deployment (the latency of --scenario simulated with each model)")
	f.StringVar(&opts.Scenario, "scenario", "builtin:default", "with --objective deployment: the `SCENARIO` simulated")
	f.Float64Var(&opts.Confidence, "confidence", 0.5, "with --objective deployment: how sure `P` each candidate's threshold must be to match the cloud's accuracy, as 'tandem offload train --confidence' (0.5: parity on the validation images)")
	f.Var(cli.Points(&opts.Tolerance), "tolerance", "with --objective deployment: how many accuracy `POINTS` below the cloud's each candidate's cascade may be, as 'tandem offload train --tolerance' (0: none)")
	f.StringVar(&opts.SLO, "slo", "mean", "with --objective deployment: the latency `STAT` minimised ("+strings.Join(compress.Metrics, ", ")+")")
	f.StringVar(&opts.Reward, "reward", compress.RewardLS, "rl: score each episode's model by `KIND` ("+strings.Join(compress.Rewards, ", ")+"; see 'compress rewards')")
	f.StringVar(&opts.Critic, "critic", compress.CriticEpisode, "rl: the critic values each episode's actions together (episode) or each step's alone, as AMC's (step)")
	f.IntVar(&opts.RewardSlice, "reward-slice", 2048, "rl: the finetune rewards train on the first `N` training images")
	f.IntVar(&opts.Shortlist, "shortlist", 0, "rl: re-score the `K` best distinct models of the search by --shortlist-reward and keep the best by that (0: keep the best by --reward)")
	f.StringVar(&opts.ShortlistBy, "shortlist-reward", compress.RewardRecipe, "rl: with --shortlist, re-score by `KIND` ("+strings.Join(compress.ShortlistRewards, ", ")+"; recipe: fine-tune each by the recipe, for --shortlist-epochs)")
	f.IntVar(&opts.ShortlistEpochs, "shortlist-epochs", 0, "rl: with --shortlist-reward recipe, rank the shortlist after `E` epochs of fine-tuning, the kept model fine-tuned --finetune-epochs all the same (0: --finetune-epochs)")
	f.Uint64Var(&opts.Seed, "seed", 1, "seed `S` of the agent's search, the random method and fine-tuning")
	f.BoolVar(&opts.Measure, "measure", true, "measure each model's latency with ONNX Runtime")
	f.BoolVar(&opts.JSON, "json", false, "print report.json's object instead of a table")
	cmd.AddCommand(newRewardsCmd())
	return cmd
}

// Run compresses and writes the outputs.
func Run(opts *Options) error {
	if opts.Out == "" {
		return cli.BadInputf("compress: --out is required (see 'tandem compress --help')")
	}
	methods := strings.Split(opts.Methods, ",")
	for _, m := range methods {
		if !compress.Known(m) {
			return cli.BadInputf("compress: --methods: unknown method %q; want some of %s, %s, %s", m, strings.Join(compress.Methods, ", "), compress.RandomSearch, compress.Given)
		}
	}
	given, err := parseKeep(opts.Keep)
	if err != nil {
		return err
	}
	if slices.Contains(methods, compress.Given) != (given != nil) {
		return cli.BadInputf("compress: --keep gives the proportions of --methods %s: want both or neither", compress.Given)
	}
	if opts.Epochs < 0 || opts.Episodes < 0 {
		return cli.BadInputf("compress: --finetune-epochs %d, --episodes %d: want neither negative", opts.Epochs, opts.Episodes)
	}
	if opts.Reward == "" {
		opts.Reward = compress.RewardLS
	}
	if opts.Critic == "" {
		opts.Critic = compress.CriticEpisode
	}
	if opts.Critic != compress.CriticEpisode && opts.Critic != compress.CriticStep {
		return cli.BadInputf("compress: --critic %q: want %s or %s", opts.Critic, compress.CriticEpisode, compress.CriticStep)
	}
	if opts.Shortlist < 0 {
		return cli.BadInputf("compress: --shortlist %d: want 0 or more models", opts.Shortlist)
	}
	if opts.RewardSlice < 0 {
		return cli.BadInputf("compress: --reward-slice %d: want 1 or more training images", opts.RewardSlice)
	}
	if !slices.Contains(compress.Rewards, opts.Reward) {
		return cli.BadInputf("compress: --reward %q: want one of %s", opts.Reward, strings.Join(compress.Rewards, ", "))
	}
	if opts.ShortlistBy == "" {
		opts.ShortlistBy = compress.RewardRecipe
	}
	if !slices.Contains(compress.ShortlistRewards, opts.ShortlistBy) {
		return cli.BadInputf("compress: --shortlist-reward %q: want one of %s", opts.ShortlistBy, strings.Join(compress.ShortlistRewards, ", "))
	}
	if opts.ShortlistEpochs < 0 {
		return cli.BadInputf("compress: --shortlist-epochs %d: want 0 or more epochs", opts.ShortlistEpochs)
	}
	if opts.ShortlistEpochs > 0 && (opts.Shortlist == 0 || opts.ShortlistBy != compress.RewardRecipe) {
		return cli.BadInputf("compress: --shortlist-epochs %d sets how long a recipe shortlist fine-tunes: want --shortlist K with --shortlist-reward %s", opts.ShortlistEpochs, compress.RewardRecipe)
	}
	if opts.ShortlistBy == compress.RewardRecipe && opts.Shortlist > 0 && opts.Epochs == 0 {
		return cli.BadInputf("compress: --shortlist-reward %s fine-tunes by the recipe: want --finetune-epochs 1 or more, or another --shortlist-reward", compress.RewardRecipe)
	}
	var deployment *compress.Deployment
	switch opts.Objective {
	case "", "accuracy":
	case "deployment":
		if c := opts.Confidence; c != 0 && !(c >= 0.5 && c < 1) {
			return cli.BadInputf("compress: --confidence %g: want a probability from 0.5 (parity on the validation samples) to below 1", opts.Confidence)
		}
		if !slices.Contains(compress.Metrics, opts.SLO) {
			return cli.BadInputf("compress: --slo %q: want one of %s", opts.SLO, strings.Join(compress.Metrics, ", "))
		}
		sc, err := scenarios.Load(opts.Scenario)
		if err != nil {
			return cli.BadInput(err)
		}
		deployment = &compress.Deployment{Scenario: sc, Metric: opts.SLO, Confidence: opts.Confidence, Tolerance: opts.Tolerance}
	default:
		return cli.BadInputf("compress: --objective %q: want accuracy or deployment", opts.Objective)
	}
	if err := checkRecipe("compress", opts.Distill, opts.Temperature, opts.LR); err != nil {
		return err
	}
	dev, err := profiles.LoadDevice(opts.Device)
	if err != nil {
		return cli.BadInput(err)
	}
	if opts.Multiple < 0 {
		return cli.BadInputf("compress: --channel-multiple %d: want 1 or more", opts.Multiple)
	}
	budget := compress.Budget{FLOPs: opts.FLOPs, Params: opts.Params, Latency: opts.Latency, Multiple: opts.Multiple}
	if opts.Latency > 0 {
		budget.Device = dev
	}
	var target *compress.Target
	if opts.Target != "" {
		if opts.FLOPs != 0 || opts.Params != 0 || opts.Latency != 0 {
			return cli.BadInputf("compress: --target-accuracy searches the budget: give it without --flops, --params or --latency")
		}
		if target, err = parseTarget(opts.Target); err != nil {
			return cli.BadInput(err)
		}
		target.Resource, target.Steps, target.Min, target.Device = opts.Search, opts.SearchSteps, opts.SearchMin, dev
		if opts.SearchSteps < 1 {
			return cli.BadInputf("compress: --search-steps %d: want at least 1", opts.SearchSteps)
		}
		if !(opts.SearchMin > 0 && opts.SearchMin < 1) {
			return cli.BadInputf("compress: --search-min %g: want a fraction in (0, 1)", opts.SearchMin)
		}
		if !slices.Contains(compress.Resources, opts.Search) {
			return cli.BadInputf("compress: --search %q: want one of %s", opts.Search, strings.Join(compress.Resources, ", "))
		}
	} else if err := budget.Check(); err != nil {
		return cli.BadInput(err)
	}
	var b *bundles.Bundle
	var heavy *dnn.Graph
	var splits *data.Splits
	if opts.Heavy != "" {
		heavy, splits, err = loadFile(opts.Heavy, opts.Dataset)
	} else {
		b, heavy, splits, err = load(opts.Bundle, opts.Dataset)
	}
	if err != nil {
		return err
	}
	if n := len(heavy.ConvGroups()); given != nil && len(given) != n {
		return cli.BadInputf("compress: --keep: %d fractions for the heavy model's %d layer groups", len(given), n)
	}
	ft, err := recipe(heavy, splits, opts.Epochs, opts.LR, opts.Distill, opts.Temperature, opts.CachedTeacher, opts.Stderr)
	if err != nil {
		return err
	}
	if deployment != nil && b != nil {
		raw, err := b.ReadModel(bundles.ModelEdge)
		if err != nil {
			return cli.BadInput(err)
		}
		if deployment.Reference, err = onnx.Decode(raw); err != nil {
			return cli.BadInput(fmt.Errorf("bundle %s: edge model: %w", b.Name, err))
		}
	}
	rl := compress.RLConfig{Episodes: opts.Episodes, Reward: opts.Reward, Critic: opts.Critic, Slice: opts.RewardSlice, Shortlist: opts.Shortlist, ShortlistReward: opts.ShortlistBy, DropBlocks: opts.DropBlocks}
	if opts.ShortlistEpochs > 0 {
		rl.Recipe = ft
		rl.Recipe.Epochs = opts.ShortlistEpochs
	}
	cfg := compress.Config{Heavy: heavy, Splits: splits, Budget: budget, Target: target, Deployment: deployment, Methods: methods, Given: given, Seed: opts.Seed, Device: dev,
		Finetune: ft, RL: rl, Log: opts.Stderr}
	bars := map[string]func(dnn.Progress){}
	cfg.Progress = func(m string, p dnn.Progress) {
		if bars[m] == nil {
			bars[m] = trainprogress.New(opts.Stderr, "fine-tune "+m)
		}
		bars[m](p)
	}
	if opts.Measure {
		cfg.Measure = measure
	}
	rep, best, err := compress.Run(cfg)
	if err != nil {
		return cli.BadInput(err)
	}
	rep.Command = opts.Command
	best.Name = strings.TrimSuffix(heavy.Name, "-heavy") + "-edge"
	model, err := onnx.Encode(best)
	if err != nil {
		return err
	}
	rb, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	if err := cli.WriteFiles(opts.Out, map[string][]byte{"edge.onnx": model, "report.json": append(rb, '\n')}); err != nil {
		return err
	}
	if opts.JSON {
		_, err := opts.Stdout.Write(append(rb, '\n'))
		return err
	}
	printReport(opts.Stdout, rep)
	fmt.Fprintf(opts.Stdout, "wrote %s (%s) and %s\n", filepath.Join(opts.Out, "edge.onnx"), rep.Best, filepath.Join(opts.Out, "report.json"))
	return nil
}

// addRecipeFlags registers the fine-tuning flags both commands share.
func addRecipeFlags(f *pflag.FlagSet, lr, distill, temperature *float64, cached *bool) {
	f.Float64Var(lr, "finetune-lr", 0.01, "fine-tuning's peak learning `RATE`")
	f.Float64Var(distill, "distill", 0.9, "weight `W` of the heavy model's soft targets in fine-tuning (0: labels alone)")
	f.Float64Var(temperature, "temperature", 4, "distillation temperature `T`")
	f.BoolVar(cached, "cached-teacher", true, "distil from the heavy model's logits on each training image computed once (false: the heavy model runs on every augmented view, at every step)")
}

// checkRecipe checks the fine-tuning flags both commands share.
func checkRecipe(command string, distill, temperature, lr float64) error {
	if !(distill >= 0 && distill <= 1) {
		return cli.BadInputf("%s: --distill %g: want a weight in [0, 1]", command, distill)
	}
	if !(temperature > 0) || !(lr > 0) {
		return cli.BadInputf("%s: --temperature %g, --finetune-lr %g: want both > 0", command, temperature, lr)
	}
	return nil
}

// recipe is the fine-tuning every pruned model gets: distilling the heavy
// model unless distill is 0, from soft targets computed once when cached.
func recipe(heavy *dnn.Graph, splits *data.Splits, epochs int, lr, distill, temperature float64, cached bool, log io.Writer) (dnn.TrainConfig, error) {
	ft := dnn.TrainConfig{Epochs: epochs, LR: lr}
	if distill == 0 {
		return ft, nil
	}
	ft.DistillWeight, ft.Temperature = distill, temperature
	if !cached {
		ft.Teacher = heavy
		return ft, nil
	}
	fmt.Fprintf(log, "computing the heavy model's soft targets on %d training images\n", splits.Train.Len())
	var err error
	ft.TeacherLogits, err = dnn.TeacherLogitsOf(heavy, splits.Train)
	return ft, err
}

// load reads the bundle's heavy model and its dataset's splits.
func load(bundle, dataset string) (*bundles.Bundle, *dnn.Graph, *data.Splits, error) {
	b, err := bundles.Load(bundle)
	if err != nil {
		return nil, nil, nil, cli.BadInput(err)
	}
	raw, err := b.ReadModel(bundles.ModelHeavy)
	if err != nil {
		return nil, nil, nil, cli.BadInput(err)
	}
	heavy, err := onnx.Decode(raw)
	if err != nil {
		return nil, nil, nil, cli.BadInput(fmt.Errorf("bundle %s: heavy model: %w", b.Name, err))
	}
	splits, err := build.Splits(b, dataset)
	if err != nil {
		return nil, nil, nil, cli.BadInput(err)
	}
	return b, heavy, splits, nil
}

// loadFile reads a heavy model's file and the splits of its dataset, split
// as bundle build splits it.
func loadFile(path, dataset string) (*dnn.Graph, *data.Splits, error) {
	if dataset == "" {
		return nil, nil, cli.BadInputf("compress: --heavy %s: give --dataset, the data the model was trained on", path)
	}
	g, err := onnx.ReadFile(path)
	if err != nil {
		return nil, nil, cli.BadInput(err)
	}
	ds, err := data.Load(dataset, data.Options{})
	if err != nil {
		return nil, nil, cli.BadInput(err)
	}
	splits, err := ds.Split(data.DefaultSplit)
	if err != nil {
		return nil, nil, cli.BadInput(err)
	}
	return g, splits, nil
}

// parseTarget reads --target-accuracy: heavy (one point below the heavy
// model), heavy-D (D points below), a fraction in (0, 1], or a percentage.
func parseTarget(s string) (*compress.Target, error) {
	bad := fmt.Errorf("compress: --target-accuracy %q: want heavy (one point below the heavy model), heavy-D (D points below), a fraction such as 0.92, or a percentage such as 92%%", s)
	if s == "heavy" {
		return &compress.Target{Drop: 0.01}, nil
	}
	if d, ok := strings.CutPrefix(s, "heavy-"); ok {
		v, err := strconv.ParseFloat(d, 64)
		if err != nil || !(v > 0 && v < 100) {
			return nil, bad
		}
		return &compress.Target{Drop: v / 100}, nil
	}
	scale := 1.0
	if p, ok := strings.CutSuffix(s, "%"); ok {
		s, scale = p, 100
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || !(v/scale > 0 && v/scale <= 1) {
		return nil, bad
	}
	return &compress.Target{Accuracy: v / scale}, nil
}

// measure times a model with ONNX Runtime on one thread: the median of 200
// batch-1 runs after 20 to warm up.
func measure(g *dnn.Graph) (time.Duration, error) {
	b, err := onnx.Encode(g)
	if err != nil {
		return 0, err
	}
	s, err := hil.OpenBytes(g.Name, b, hil.Options{IntraOpThreads: 1})
	if err != nil {
		return 0, err
	}
	defer s.Close()
	l, err := hil.MeasureLatency(s, 20, 200)
	return l.P50, err
}

func printReport(w io.Writer, rep *compress.Report) {
	f := func(v float64, p int) string { return strconv.FormatFloat(v, 'f', p, 64) }
	pct := func(v float64) string { return f(100*v, 2) + "%" }
	if t := rep.Target; t != nil {
		fmt.Fprintf(w, "smallest model by %s reaching %s on validation (the heavy model: %s), %d probes each\n",
			t.Resource, pct(t.Accuracy), pct(t.HeavyValAccuracy), t.Steps)
	}
	rows := [][]string{{"heavy", strconv.FormatInt(rep.Heavy.Params, 10), f(float64(rep.Heavy.FLOPs)/1e6, 2), "", "", pct(rep.Heavy.ValAccuracy), pct(rep.Heavy.Accuracy), "", "", ""}}
	for _, r := range rep.Methods {
		budget := ""
		if r.Reached != nil {
			budget = f(r.Budget, 4)
			if !*r.Reached {
				budget += " (not reached)"
			}
			if r.BudgetFit > 0 {
				budget += ", line " + f(r.BudgetFit, 4)
			}
		}
		rows = append(rows, []string{r.Method, strconv.FormatInt(r.Params, 10), f(float64(r.FLOPs)/1e6, 2), budget,
			pct(r.AccuracyBeforeFinetune), pct(r.ValAccuracy), pct(r.Accuracy), f(r.LatencyMSPredicted, 4), f(r.LatencyMSMeasured, 4),
			f(r.Seconds.Choose+r.Seconds.Finetune+r.Seconds.Measure, 0)})
	}
	t := tablewriter.NewTable(w, tablewriter.WithHeaderAutoFormat(tw.Off))
	t.Header("model", "params", "MFLOPs", "budget", "test pruned", "val fine-tuned", "test fine-tuned", "predicted ms", "measured ms", "seconds")
	t.Bulk(rows)
	t.Render()
	if d := rep.Deployment; d != nil {
		printDeployment(w, rep)
	}
}

// printDeployment tabulates every model in the deployment objective's
// scenario, cloud-only and the bundle's own edge model first.
func printDeployment(w io.Writer, rep *compress.Report) {
	d := rep.Deployment
	f := func(v float64, p int) string { return strconv.FormatFloat(v, 'f', p, 64) }
	row := func(name string, r *compress.DeploymentResult) []string {
		return []string{name, f(100*r.OffloadRate, 1) + "%", f(100*r.Accuracy, 2) + "%", f(r.LatencyMS.Mean, 3), f(r.LatencyMS.P95, 3), f(r.LatencyMS.P99, 3),
			f(100*r.Reduction, 1) + "%"}
	}
	rows := [][]string{row("cloud-only", d.CloudOnly)}
	if d.Reference != nil {
		rows = append(rows, row("the bundle's edge model", d.Reference))
	}
	for _, m := range rep.Methods {
		if m.Deployment != nil {
			rows = append(rows, row(m.Method, m.Deployment))
		}
	}
	fmt.Fprintf(w, "deployed in %s (%d requests, test outcomes; threshold: %s):\n", d.Scenario, d.Requests, d.ThresholdRule)
	t := tablewriter.NewTable(w, tablewriter.WithHeaderAutoFormat(tw.Off))
	t.Header("edge model", "offloaded", "accuracy (all requests)", "mean ms", "p95 ms", "p99 ms", d.Metric+" below cloud-only")
	t.Bulk(rows)
	t.Render()
}

// parseKeep reads --keep: fractions in (0, 1], comma-separated; nil when
// empty.
func parseKeep(s string) ([]float64, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []float64
	for i, f := range strings.Split(strings.Trim(s, "[] "), ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil || !(v > 0 && v <= 1) {
			return nil, cli.BadInputf("compress: --keep: fraction %d is %q: want a number in (0, 1]", i+1, strings.TrimSpace(f))
		}
		out = append(out, v)
	}
	return out, nil
}
