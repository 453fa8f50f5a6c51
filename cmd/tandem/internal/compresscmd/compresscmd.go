// Package compresscmd is `tandem compress`: the edge model derived from a
// bundle's heavy model by structured pruning to the edge device's budget.
package compresscmd

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
	"github.com/spf13/cobra"

	"github.com/tandem-edge/tandem/agents/compress"
	"github.com/tandem-edge/tandem/bundles"
	"github.com/tandem-edge/tandem/bundles/build"
	"github.com/tandem-edge/tandem/cmd/tandem/internal/cli"
	"github.com/tandem-edge/tandem/cmd/tandem/internal/trainprogress"
	"github.com/tandem-edge/tandem/dnn"
	"github.com/tandem-edge/tandem/dnn/onnx"
	"github.com/tandem-edge/tandem/hil"
	"github.com/tandem-edge/tandem/profiles"
)

// Options are the inputs of `tandem compress`.
type Options struct {
	Bundle   string
	Dataset  string
	Out      string
	FLOPs    float64
	Latency  time.Duration
	Device   string
	Methods  string
	Epochs   int
	Episodes int
	Seed     uint64
	Measure  bool
	JSON     bool
	Stdout   io.Writer
	Stderr   io.Writer
}

// NewCmd builds `tandem compress`.
func NewCmd() *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:   "compress --bundle BUNDLE (--flops F | --latency D) --out DIR",
		Short: "Derive an edge model from the heavy one by pruning channels to a budget",
		Long: `Prune the bundle's heavy model to the edge device's budget and fine-tune it:
structured channel pruning, so the result is a smaller dense network that any
runtime runs faster. The budget is a fraction of the heavy model's FLOPs
(--flops 0.1), a latency predicted by a device profile's predictor (--latency
2ms --device edge-cpu-1t), or both.

Each method chooses how many channels each layer keeps and which:

  rl        a DDPG agent picks each layer's keep ratio in turn, AMC-style: every
            episode's model fits the budget, its reward is the accuracy on
            validation images before fine-tuning; the best episode wins
            (--episodes after 25 random warm-up episodes)
  uniform   the same fraction of every layer, the channels of largest L1 norm
  l1        channels ranked by L1 norm, relative to their layer's, network-wide
  random    random per-layer fractions scaled to the budget, random channels

The three baselines take the largest model within the budget by bisection on
their one parameter; rl keeps channels by L1 norm within each layer, as uniform
does.

Each pruned model is fine-tuned for --finetune-epochs on the bundle's training
split and evaluated on its test split. Writes DIR/edge.onnx (the most accurate
method's model) and DIR/report.json: the budget, the heavy model, and per
method its parameters, FLOPs, accuracy before and after fine-tuning, latency
predicted on --device and measured with ONNX Runtime (one thread), and the
kept fraction of each layer.`,
		Example: `  tandem compress --bundle builtin:fashion --flops 0.067 --out out/compress
  tandem compress --bundle bundles/fashion --latency 0.05ms --device edge-cpu-1t --methods uniform,l1 --out out/c`,
		Args: cli.ExactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.Stdout, opts.Stderr = cmd.OutOrStdout(), cmd.ErrOrStderr()
			return Run(opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Bundle, "bundle", "builtin:fashion", "the `BUNDLE` whose heavy model is pruned")
	f.StringVar(&opts.Dataset, "dataset", "", "dataset `NAME` or PATH the bundle was built from (default: the bundle's)")
	f.StringVar(&opts.Out, "out", "", "write edge.onnx and report.json into `DIR` (required)")
	f.Float64Var(&opts.FLOPs, "flops", 0, "keep at most a fraction `F` of the heavy model's FLOPs")
	f.DurationVar(&opts.Latency, "latency", 0, "keep the predicted batch-1 latency on --device at most `D`")
	f.StringVar(&opts.Device, "device", "edge-cpu-1t", "device `PROFILE` (built-in name or file) whose predictor times the models")
	f.StringVar(&opts.Methods, "methods", strings.Join(compress.Methods, ","), "the `METHODS` to run, comma-separated")
	f.IntVar(&opts.Epochs, "finetune-epochs", 3, "fine-tune each pruned model `E` epochs (0: none)")
	f.IntVar(&opts.Episodes, "episodes", 150, "rl: search `N` episodes after the warm-up")
	f.Uint64Var(&opts.Seed, "seed", 1, "seed `S` of the random method and of fine-tuning")
	f.BoolVar(&opts.Measure, "measure", true, "measure each model's latency with ONNX Runtime")
	f.BoolVar(&opts.JSON, "json", false, "print report.json's object instead of a table")
	return cmd
}

// Run compresses and writes the outputs.
func Run(opts *Options) error {
	if opts.Out == "" {
		return cli.BadInputf("compress: --out is required (see 'tandem compress --help')")
	}
	methods := strings.Split(opts.Methods, ",")
	for _, m := range methods {
		if !slices.Contains(compress.Methods, m) {
			return cli.BadInputf("compress: --methods: unknown method %q; want some of %s", m, strings.Join(compress.Methods, ", "))
		}
	}
	if opts.Epochs < 0 || opts.Episodes < 0 {
		return cli.BadInputf("compress: --finetune-epochs %d, --episodes %d: want neither negative", opts.Epochs, opts.Episodes)
	}
	dev, err := profiles.LoadDevice(opts.Device)
	if err != nil {
		return cli.BadInput(err)
	}
	budget := compress.Budget{FLOPs: opts.FLOPs, Latency: opts.Latency}
	if opts.Latency > 0 {
		budget.Device = dev
	}
	if err := budget.Check(); err != nil {
		return cli.BadInput(err)
	}
	b, err := bundles.Load(opts.Bundle)
	if err != nil {
		return cli.BadInput(err)
	}
	raw, err := b.ReadModel(bundles.ModelHeavy)
	if err != nil {
		return cli.BadInput(err)
	}
	heavy, err := onnx.Decode(raw)
	if err != nil {
		return cli.BadInput(fmt.Errorf("bundle %s: heavy model: %w", b.Name, err))
	}
	splits, err := build.Splits(b, opts.Dataset)
	if err != nil {
		return cli.BadInput(err)
	}
	cfg := compress.Config{Heavy: heavy, Splits: splits, Budget: budget, Methods: methods, Seed: opts.Seed, Device: dev,
		Finetune: dnn.TrainConfig{Epochs: opts.Epochs, LR: 0.01}, RL: compress.RLConfig{Episodes: opts.Episodes}, Log: opts.Stderr}
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
	best.Name = b.Name + "-edge"
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
	rows := [][]string{{"heavy", strconv.FormatInt(rep.Heavy.Params, 10), f(float64(rep.Heavy.FLOPs)/1e6, 2), "", f(100*rep.Heavy.Accuracy, 2) + "%", "", ""}}
	for _, r := range rep.Methods {
		rows = append(rows, []string{r.Method, strconv.FormatInt(r.Params, 10), f(float64(r.FLOPs)/1e6, 2),
			f(100*r.AccuracyBeforeFinetune, 2) + "%", f(100*r.Accuracy, 2) + "%", f(r.LatencyMSPredicted, 4), f(r.LatencyMSMeasured, 4)})
	}
	t := tablewriter.NewTable(w, tablewriter.WithHeaderAutoFormat(tw.Off))
	t.Header("model", "params", "MFLOPs", "accuracy pruned", "accuracy fine-tuned", "predicted ms", "measured ms")
	t.Bulk(rows)
	t.Render()
}
