// Package offloadcmd is `tandem offload`: training a bundle's supervised
// offloader and reporting its decisions against the baseline policies.
package offloadcmd

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
	"github.com/spf13/cobra"

	"github.com/tandem-edge/tandem/agents/offload"
	"github.com/tandem-edge/tandem/bundles"
	"github.com/tandem-edge/tandem/bundles/build"
	"github.com/tandem-edge/tandem/cmd/tandem/internal/cli"
)

// Options are the inputs of `tandem offload train`.
type Options struct {
	Bundle  string // builtin:NAME or a bundle folder
	Dataset string // empty: the bundle's
	Out     string // folder for offloader.json and report.json; empty: none
	Install bool   // also write both into the bundle folder
	JSON    bool
	Train   offload.TrainConfig
	Command string // the command line, recorded in the offloader

	Stdout, Stderr io.Writer
}

// NewCmd builds `tandem offload` and its subcommands.
func NewCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "offload",
		Short: "Train the learned offloader that decides, per input, edge or cloud",
		Long: `The learned offloader looks at the edge model's output for an input and decides
whether the edge's answer stands or the input goes to the cloud: the 'learned'
policy of a scenario.`,
		Args: cli.ExactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newTrain(), newTune(), newCalibrate())
	return cmd
}

func newTrain() *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:   "train --bundle BUNDLE (--out DIR | --install)",
		Short: "Train a bundle's offloader and compare it with the baseline policies",
		Long: `Train the offloader of a bundle: a small neural network that reads the edge
model's softmax probabilities and its confidence (max_prob, margin, entropy) and
scores how likely the heavy model is to be right where the edge model is wrong.
A request goes to the cloud when its score reaches the offloader's threshold.

It learns from the validation split of the bundle's dataset (the split its
provenance records), on which both models are run: samples neither model was
trained on, and not the test samples of outcomes.csv. Their outputs come from
tandem's engine, whose sums follow the BLAS kernels: on other kernels than the
bundle was built with (bundle.yaml's gemm_backend; OPENBLAS_CORETYPE picks
OpenBLAS's) the run says so, and the offloader can differ from the bundle's own.

The threshold is chosen on out-of-fold scores: by default the offload rate that
makes the cascade as accurate as sending everything to the cloud in a share P
(--confidence, 0.95) of bootstrap resamples of those samples. At 0.5 it is the lowest rate that
matches the cloud on the samples themselves; near parity the cascade's accuracy
is flat in the rate, so that rate falls short on new inputs about half the time.
Where the edge model's cascade can at best tie the cloud, more than a share 1 − P
of resamples may balance only once nearly everything is sent, and the rate jumps
there: the report's curve shows it. --tolerance D states a trade instead: the
rate at which the cascade is within D accuracy points of the cloud in that share
of resamples (0.1: a tenth of a point), which does not wait for the last few
inputs the edge model gets surely wrong. With --budget F the rate is instead the
most accurate offloading at most a fraction F. 'tandem offload calibrate'
measures how often a rule keeps its promise on validation samples it was not
set on.

Then every policy is evaluated on the bundle's test samples: the learned one,
edge-only, cloud-only, random and a max_prob threshold at the learned offload
rate, and the oracle. --out DIR writes DIR/offloader.json and DIR/report.json;
--install writes them into the bundle folder as offloader.json and
offload-report.json, where a scenario's learned policy finds them.

With --embedding the network also reads the edge model's features before its
classifier (for the zoo's models the pooled activations its last layer decides
from, computed with tandem's engine on the validation and test images), to
measure what they add over its output alone. Such an offloader is a measurement:
'tandem sim' and 'tandem hil run' do not supply those features, so --install
refuses it and a scenario naming it is refused.`,
		Example: `  tandem offload train --bundle builtin:fashion --out out/offloader
  tandem offload train --bundle bundles/fashion --install
  tandem offload train --bundle mybundle --budget 0.1 --out out/offloader --json
  tandem offload train --bundle bundles/fashion --tolerance 0.1 --out out/within-a-tenth`,
		Args: cli.ExactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.Command = "tandem " + strings.Join(os.Args[1:], " ")
			opts.Stdout, opts.Stderr = cmd.OutOrStdout(), cmd.ErrOrStderr()
			return Run(opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Bundle, "bundle", "builtin:fashion", "the `BUNDLE` (builtin:NAME or a folder) whose models the offloader serves")
	f.StringVar(&opts.Dataset, "dataset", "", "dataset `NAME` or PATH the bundle was built from (default: the bundle's)")
	f.StringVar(&opts.Out, "out", "", "write offloader.json and report.json into `DIR`")
	f.BoolVar(&opts.Install, "install", false, "write offloader.json and offload-report.json into the bundle folder")
	f.BoolVar(&opts.JSON, "json", false, "print report.json's object instead of a table")
	f.Float64Var(&opts.Train.Budget, "budget", 0, "offload at most a fraction `F` of requests (0: as few as match the cloud's accuracy)")
	f.Float64Var(&opts.Train.Confidence, "confidence", offload.DefaultConfidence, "without --budget, how sure `P` the validation samples must make it that the cascade is as accurate as the cloud (0.5: parity on them)")
	f.Var(cli.Points(&opts.Train.Tolerance), "tolerance", "without --budget, how many accuracy `POINTS` below the cloud's the cascade may be (0.1: a tenth of a point; 0: none)")
	f.IntVar(&opts.Train.Hidden, "hidden", 16, "hidden units `H` of the network")
	f.IntVar(&opts.Train.Epochs, "epochs", 2000, "full-batch training steps `E`")
	f.IntVar(&opts.Train.Folds, "folds", 5, "cross-fitting folds `K` for choosing the threshold")
	f.Uint64Var(&opts.Train.Seed, "seed", 1, "seed `S` of the initial weights and the folds")
	f.BoolVar(&opts.Train.Embedding, "embedding", false, "also read the edge model's features before its classifier (a measurement: not for --install)")
	return cmd
}

// Run trains the offloader, writes what was asked for and prints the report.
func Run(opts *Options) error {
	if opts.Out == "" && !opts.Install {
		return cli.BadInputf("offload train: give --out DIR, --install, or both (see 'tandem offload train --help')")
	}
	if err := opts.Train.Check(); err != nil {
		return cli.BadInput(err)
	}
	b, err := bundles.Load(opts.Bundle)
	if err != nil {
		return cli.BadInput(err)
	}
	if opts.Install && opts.Train.Embedding {
		return cli.BadInputf("offload train: --embedding trains an offloader that tandem sim and hil run cannot feed; use --out to measure it")
	}
	if opts.Install && b.Dir == "" {
		return cli.BadInputf("offload train: --install writes into a bundle folder, and %s is built into the binary: use --out, or the bundle's folder (bundles/%s in the source tree)", b.Ref, b.Name)
	}
	// Everything that can fail here is about the inputs: the dataset, the
	// bundle's models and split, or samples with nothing to learn.
	o, rep, err := build.TrainOffloader(b, build.OffloaderConfig{Dataset: opts.Dataset, Train: opts.Train, Log: opts.Stderr})
	if err != nil {
		return cli.BadInput(err)
	}
	o.Training["command"] = opts.Command

	if opts.Out != "" {
		if err := writeOut(opts.Out, o, rep); err != nil {
			return err
		}
	}
	if opts.Install {
		if err := build.InstallOffloader(b.Dir, o, rep, opts.Command); err != nil {
			return err
		}
	}
	if opts.JSON {
		enc := json.NewEncoder(opts.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	printReport(opts.Stdout, rep)
	if opts.Out != "" {
		fmt.Fprintf(opts.Stdout, "wrote %s and %s\n", filepath.Join(opts.Out, bundles.OffloaderFile), filepath.Join(opts.Out, "report.json"))
	}
	if opts.Install {
		fmt.Fprintf(opts.Stdout, "installed %s and %s in %s\n", bundles.OffloaderFile, bundles.OffloadReportFile, b.Dir)
	}
	return nil
}

func writeOut(dir string, o *offload.Offloader, rep *offload.Report) error {
	files, err := build.OffloaderFiles(o, rep)
	if err != nil {
		return err
	}
	return cli.WriteFiles(dir, map[string][]byte{bundles.OffloaderFile: files[bundles.OffloaderFile], "report.json": files[bundles.OffloadReportFile]})
}

func printReport(w io.Writer, rep *offload.Report) {
	pct := func(v float64) string { return strconv.FormatFloat(100*v, 'f', 2, 64) + "%" }
	rows := make([][]string, 0, len(rep.Policies))
	for _, p := range rep.Policies {
		vs := "—"
		if p.VsCloud != nil {
			vs = fmt.Sprintf("%+.2f to %+.2f", 100*p.VsCloud.Low, 100*p.VsCloud.High)
		}
		rows = append(rows, []string{p.Policy, p.Setting, pct(p.OffloadRate), pct(p.Accuracy), vs})
	}
	t := tablewriter.NewTable(w, tablewriter.WithHeaderAutoFormat(tw.Off))
	t.Header("policy", "setting", "offloaded", "accuracy", "less cloud-only's, points (95%)")
	t.Bulk(rows)
	t.Render()
	num := func(v *float64) string {
		if v == nil {
			return "—"
		}
		return strconv.FormatFloat(*v, 'f', 4, 64)
	}
	rows = rows[:0]
	for _, r := range rep.Rankings {
		row := []string{r.Score, num(r.AUC), num(r.AP), pct(r.RateForCloudAccuracy), fmt.Sprintf("%+d at %s", r.BestLead, pct(r.BestLeadRate))}
		for _, rate := range offload.RankingRates {
			row = append(row, pct(r.AccuracyAt[offload.RateKey(rate)]))
		}
		rows = append(rows, row)
	}
	fmt.Fprintf(w, "ranking the %d test samples for offloading (those it helps: edge wrong, cloud right):\n", rep.Samples)
	t = tablewriter.NewTable(w, tablewriter.WithHeaderAutoFormat(tw.Off))
	t.Header("score", "ROC AUC", "average precision", "offloaded for cloud-only accuracy", "best lead over cloud-only, samples", "accuracy at 5%", "at 10%", "at 20%")
	t.Bulk(rows)
	t.Render()
	fmt.Fprintf(w, "decisions right %s of the time (never offloading: %s; offload precision %s, recall %s)\n",
		pct(rep.DecisionAccuracy), pct(rep.DecisionAccuracyNeverOffload), pct(rep.OffloadPrecision), pct(rep.OffloadRecall))
}
