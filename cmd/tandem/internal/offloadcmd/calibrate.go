package offloadcmd

import (
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"strconv"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
	"github.com/spf13/cobra"

	"github.com/tandem-edge/tandem/agents/offload"
	"github.com/tandem-edge/tandem/bundles"
	"github.com/tandem-edge/tandem/bundles/build"
	"github.com/tandem-edge/tandem/cmd/tandem/internal/cli"
	"github.com/tandem-edge/tandem/dnn"
)

// CalibrateOptions are the inputs of `tandem offload calibrate`.
type CalibrateOptions struct {
	Bundle  string
	Dataset string
	Train   offload.TrainConfig
	Splits  int
	Holdout float64
	Workers int
	JSON    bool

	Stdout, Stderr io.Writer
}

// calibrateReport is what --json prints: the calibration and what it was
// measured on.
type calibrateReport struct {
	Bundle  string `json:"bundle"`
	Samples int    `json:"samples"` // validation samples split
	GEMM    string `json:"gemm"`    // the kernels that computed their outputs
	*offload.Calibration
}

func newCalibrate() *cobra.Command {
	opts := &CalibrateOptions{}
	cmd := &cobra.Command{
		Use:   "calibrate --bundle BUNDLE",
		Short: "Check how often the offloader's threshold rule holds on validation samples it was not set on",
		Long: `Check the promise of an offloader's threshold rule on samples it never saw.

'tandem offload train' sets the threshold so that the cascade is as accurate as
cloud-only (or within --tolerance of it) in a share P of bootstrap resamples of
the validation samples: a statement about those samples. This command measures
what it is worth on fresh ones. It splits the bundle's validation samples at
random --splits times, trains an offloader by the same settings on the part
kept (--holdout is the share held out), and checks on the held-out part whether
the cascade reached the target: as many right answers as the cloud, or no more
than the tolerance fewer. It reports each split and the share of splits that
met the target, with its Wilson 95% interval, to set against P.

Only validation samples are used, so the test samples of outcomes.csv stay
untouched. Each split trains a whole offloader (folds and all), on fewer samples
than the bundle's own was: the share met describes the rule at that size, and
is an estimate for the full validation split, not a bound.`,
		Example: `  tandem offload calibrate --bundle builtin:fashion
  tandem offload calibrate --bundle bundles/fashion --splits 40 --confidence 0.99 --json
  tandem offload calibrate --bundle bundles/fashion --tolerance 0.1`,
		Args: cli.ExactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.Stdout, opts.Stderr = cmd.OutOrStdout(), cmd.ErrOrStderr()
			return RunCalibrate(opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Bundle, "bundle", "builtin:fashion", "the `BUNDLE` (builtin:NAME or a folder) whose offloader rule is checked")
	f.StringVar(&opts.Dataset, "dataset", "", "dataset `NAME` or PATH the bundle was built from (default: the bundle's)")
	f.IntVar(&opts.Splits, "splits", 20, "random splits `N` of the validation samples")
	f.Float64Var(&opts.Holdout, "holdout", 0.5, "the share `F` of the validation samples each split holds out")
	f.IntVar(&opts.Workers, "workers", runtime.GOMAXPROCS(0), "splits `W` trained at once (the result does not depend on it)")
	f.BoolVar(&opts.JSON, "json", false, "print the calibration as one JSON object instead of a table")
	f.Float64Var(&opts.Train.Confidence, "confidence", offload.DefaultConfidence, "the rule's confidence `P`, as for offload train")
	f.Var(cli.Points(&opts.Train.Tolerance), "tolerance", "the rule's tolerance in accuracy `POINTS`, as for offload train")
	f.IntVar(&opts.Train.Hidden, "hidden", 16, "hidden units `H` of each split's network")
	f.IntVar(&opts.Train.Epochs, "epochs", 2000, "full-batch training steps `E` of each split's network")
	f.IntVar(&opts.Train.Folds, "folds", 5, "cross-fitting folds `K` within each split's kept part")
	f.Uint64Var(&opts.Train.Seed, "seed", 1, "seed `S` of the splits, the networks' initial weights and their folds")
	return cmd
}

// RunCalibrate runs `tandem offload calibrate`.
func RunCalibrate(opts *CalibrateOptions) error {
	switch {
	case opts.Splits < 1:
		return cli.BadInputf("offload calibrate: --splits %d: want at least 1", opts.Splits)
	case !(opts.Holdout > 0 && opts.Holdout < 1):
		return cli.BadInputf("offload calibrate: --holdout %g: want a share between 0 and 1", opts.Holdout)
	case opts.Workers < 1:
		return cli.BadInputf("offload calibrate: --workers %d: want at least 1", opts.Workers)
	}
	if err := opts.Train.Check(); err != nil {
		return cli.BadInput(err)
	}
	b, err := bundles.Load(opts.Bundle)
	if err != nil {
		return cli.BadInput(err)
	}
	if note := build.OtherKernels(b); note != "" {
		fmt.Fprintf(opts.Stderr, "note: %s\n", note)
	}
	fmt.Fprintf(opts.Stderr, "running bundle %s's models on its validation samples\n", b.Name)
	outs, err := build.ValidationOutcomes(b, opts.Dataset)
	if err != nil {
		return cli.BadInput(fmt.Errorf("offload calibrate: %w", err))
	}
	samples := offload.FromOutcomes(outs)
	c, err := offload.Calibrate(samples, offload.CalibrateConfig{Train: opts.Train, Splits: opts.Splits, Holdout: opts.Holdout,
		Seed: opts.Train.Seed, Workers: opts.Workers,
		Progress: func(done, total int) { fmt.Fprintf(opts.Stderr, "split %d of %d trained and judged\n", done, total) }})
	if err != nil {
		// The settings were checked above; what is left is about the
		// samples: too few, or none the cloud rescues.
		return cli.BadInput(err)
	}
	rep := calibrateReport{Bundle: b.Name, Samples: len(samples), GEMM: dnn.GEMMName(), Calibration: c}
	if opts.JSON {
		enc := json.NewEncoder(opts.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	printCalibration(opts.Stdout, &rep)
	return nil
}

func printCalibration(w io.Writer, rep *calibrateReport) {
	pct := func(v float64) string { return strconv.FormatFloat(100*v, 'f', 1, 64) + "%" }
	c := rep.Calibration
	rows := make([][]string, 0, len(c.Splits))
	for i, s := range c.Splits {
		met := "no"
		if s.Met {
			met = "yes"
		}
		rows = append(rows, []string{strconv.Itoa(i), strconv.Itoa(s.Trained), strconv.Itoa(s.HeldOut), pct(s.Rate), pct(s.HeldRate),
			fmt.Sprintf("%+d", s.Lead), met})
	}
	fmt.Fprintf(w, "bundle %s, %d validation samples, each split holding out %s; rule: %s\n", rep.Bundle, rep.Samples, pct(c.Holdout), c.Rule)
	t := tablewriter.NewTable(w, tablewriter.WithHeaderAutoFormat(tw.Off))
	t.Header("split", "trained on", "held out", "rate chosen", "offloaded (held out)", "cascade − cloud, right answers (held out)", "target met")
	t.Bulk(rows)
	t.Render()
	asks := fmt.Sprintf("the rule asks it of a share %g of resamples", c.Confidence)
	if c.Confidence <= 0.5 {
		asks = "the rule asks it of the samples it is set on"
	}
	share := float64(c.Met) / float64(len(c.Splits))
	fmt.Fprintf(w, "target met on %d of %d held-out parts: %s (95%% interval %s–%s); %s\n",
		c.Met, len(c.Splits), pct(share), pct(c.MetLow), pct(c.MetHigh), asks)
}
