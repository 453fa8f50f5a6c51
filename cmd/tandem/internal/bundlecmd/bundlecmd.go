// Package bundlecmd is `tandem bundle`: building a bundle from a dataset with
// tandem's own commands, and showing what a bundle holds.
package bundlecmd

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tandem-edge/tandem/bundles"
	"github.com/tandem-edge/tandem/bundles/build"
	"github.com/tandem-edge/tandem/cmd/tandem/internal/cli"
	"github.com/tandem-edge/tandem/cmd/tandem/internal/trainprogress"
	"github.com/tandem-edge/tandem/dnn"
	"github.com/tandem-edge/tandem/dnn/data"
	"github.com/tandem-edge/tandem/dnn/onnx"
)

// NewCmd builds `tandem bundle` and its subcommands.
func NewCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bundle",
		Short: "Build and inspect bundles (models, per-sample outcomes, provenance)",
		Long: `A bundle is a folder with a heavy (cloud) model, its edge model, both models'
predictions on every held-out test sample (outcomes.csv), and bundle.yaml with
where it all came from. The simulator replays the outcomes, so every accuracy it
reports is a real one.`,
		Args: cli.ExactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newBuild(), newShow())
	return cmd
}

func newBuild() *cobra.Command {
	cfg := build.Config{Split: data.DefaultSplit}
	var seed uint64
	var compressReport string
	cmd := &cobra.Command{
		Use:   "build --out DIR",
		Short: "Train a heavy and an edge model and write a bundle",
		Long: `Train the heavy model and the edge model on the dataset's training part,
export both as ONNX, evaluate both on its test part, train the offloader on its
validation part (see 'tandem offload train') and write the bundle folder:
bundle.yaml, heavy.onnx, edge.onnx, outcomes.csv, offloader.json and
offload-report.json. The folder is replaced only once everything has succeeded.

By default the edge model is the heavy architecture uniformly reduced in width
(--edge-width) and trained the same way. --heavy-file and --edge-file take
models made elsewhere instead: trained by another framework and exported to
ONNX, or the edge.onnx of 'tandem compress'. They must take the dataset's
inputs as tandem feeds them (pixels in [0, 1], normalised by the model's own
tandem.input_mean and tandem.input_std metadata when it has them) and give one
logit per class. bundle.yaml records where each model came from. With
--compress-report, the report.json of the 'tandem compress' run that made
--edge-file, the bundle keeps it as compress-report.json and its provenance
records the method, the budget or target, the kept fraction of each layer
group and the command.`,
		Example: `  tandem bundle build --out bundles/fashion          # the built-in bundle
  tandem bundle build --dataset mnist --name digits --heavy-epochs 5 --edge-epochs 5 --out digits
  tandem bundle build --heavy-file bundles/fashion/heavy.onnx --edge-file out/compress/edge.onnx --name pruned --out pruned
  tandem bundle build --heavy-file heavy.onnx --edge-file out/c/edge.onnx --compress-report out/c/report.json --out bundles/fashion`,
		Args: cli.ExactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cfg.Out == "" {
				return cli.BadInputf("bundle build: --out is required")
			}
			cfg.Heavy.Seed, cfg.Heavy.Train.Seed = seed, seed
			cfg.Offloader.Seed = seed
			cfg.Edge.Seed, cfg.Edge.Train.Seed = seed+1, seed+1
			if cfg.Edge.Arch == "" {
				cfg.Edge.Arch = cfg.Heavy.Arch
			}
			cfg.EdgeNote = fmt.Sprintf("uniformly width-reduced %s (width %g), trained like the heavy model; not compressed", cfg.Edge.Arch, cfg.Edge.Width)
			if cfg.Edge.File != "" {
				cfg.EdgeNote = "taken from " + cfg.Edge.File
				if g, err := onnx.ReadFile(cfg.Edge.File); err == nil && g.Meta["compress_method"] != "" {
					cfg.EdgeNote += fmt.Sprintf(", pruned from the heavy model by tandem compress (method %s)", g.Meta["compress_method"])
				}
			}
			if compressReport != "" {
				if cfg.Edge.File == "" {
					return cli.BadInputf("bundle build: --compress-report describes an --edge-file; give both")
				}
				raw, err := os.ReadFile(compressReport)
				if err != nil {
					return cli.BadInputf("bundle build: --compress-report: %v", err)
				}
				cfg.CompressReport = raw
			}
			cfg.Command = "tandem " + strings.Join(os.Args[1:], " ")
			cfg.Log = cmd.ErrOrStderr()
			bars := map[string]func(dnn.Progress){}
			cfg.Progress = func(name string, p dnn.Progress) {
				if bars[name] == nil {
					bars[name] = trainprogress.New(cmd.ErrOrStderr(), name)
				}
				bars[name](p)
			}
			m, err := build.Build(cfg)
			if err != nil {
				return err
			}
			return printManifest(cmd.OutOrStdout(), m)
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Name, "name", "fashion", "bundle `NAME`")
	f.StringVar(&cfg.Dataset, "dataset", data.FashionMNIST, "dataset `NAME` or PATH")
	f.StringVar(&cfg.Out, "out", "", "bundle folder `DIR` to write")
	f.Uint64Var(&seed, "seed", 1, "seed `S` of both models (the edge model uses S+1)")
	f.StringVar(&cfg.Heavy.Arch, "heavy-arch", "vgg", "heavy model's zoo architecture `NAME`")
	f.Float64Var(&cfg.Heavy.Width, "heavy-width", 1, "heavy model's width multiplier `W`")
	f.IntVar(&cfg.Heavy.Train.Epochs, "heavy-epochs", 15, "heavy model's training epochs `E`")
	f.StringVar(&cfg.Edge.Arch, "edge-arch", "", "edge model's architecture `NAME` (default: the heavy one's)")
	f.Float64Var(&cfg.Edge.Width, "edge-width", 0.25, "edge model's width multiplier `W`")
	f.IntVar(&cfg.Edge.Train.Epochs, "edge-epochs", 15, "edge model's training epochs `E`")
	f.StringVar(&cfg.Heavy.File, "heavy-file", "", "take the heavy model from `FILE.onnx` instead of training it")
	f.StringVar(&cfg.Edge.File, "edge-file", "", "take the edge model from `FILE.onnx` (e.g. tandem compress's edge.onnx) instead of training it")
	f.StringVar(&compressReport, "compress-report", "", "the `REPORT.json` of the tandem compress run that made --edge-file, kept in the bundle")
	return cmd
}

func newShow() *cobra.Command {
	return &cobra.Command{
		Use:     "show BUNDLE",
		Short:   "Print a bundle's manifest: models, accuracy, provenance",
		Example: "  tandem bundle show builtin:fashion",
		Args:    cli.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := bundles.Load(args[0])
			if err != nil {
				return cli.BadInput(err)
			}
			if err := printManifest(cmd.OutOrStdout(), &b.Manifest); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "# %d outcomes\n", len(b.Outcomes))
			return nil
		},
	}
}

func printManifest(w io.Writer, m *bundles.Manifest) error {
	b, err := bundles.EncodeManifest(m)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}
