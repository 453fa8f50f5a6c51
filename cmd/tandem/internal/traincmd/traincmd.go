// Package traincmd is `tandem train`: one model of the zoo trained on a
// dataset with tandem's own engine and written as ONNX.
package traincmd

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tandem-edge/tandem/bundles/build"
	"github.com/tandem-edge/tandem/cmd/tandem/internal/cli"
	"github.com/tandem-edge/tandem/cmd/tandem/internal/trainprogress"
	"github.com/tandem-edge/tandem/dnn"
	"github.com/tandem-edge/tandem/dnn/data"
	"github.com/tandem-edge/tandem/dnn/onnx"
)

// Options are the inputs of `tandem train`.
type Options struct {
	Arch    string
	Dataset string
	Out     string
	Model   build.ModelSpec
	Split   data.SplitConfig
	Samples int // train on the first N training samples only (quick runs)
	// Command is the command line that trains the model, recorded in its
	// metadata so that a bundle made of it says how to make it again.
	Command string

	Stdout, Stderr io.Writer
}

// NewCmd builds `tandem train`.
func NewCmd() *cobra.Command { return newCmd(Run) }

func newCmd(runF func(*Options) error) *cobra.Command {
	opts := &Options{Split: data.DefaultSplit}
	tc := &opts.Model.Train
	cmd := &cobra.Command{
		Use:   "train --arch NAME --dataset NAME|PATH --out FILE.onnx",
		Short: "Train a model of the zoo and write it as ONNX",
		Long: `Train a zoo architecture on a dataset with tandem's DNN engine (im2col + GEMM
through OpenBLAS when it is installed, pure Go otherwise) and write the trained
model as ONNX (opset 13), its input normalisation and provenance in the file's
metadata.

--dataset is fashion-mnist, mnist, or a path: IDX files, a CSV file, or a folder of
PNG/JPEG images with one sub-folder per class (or train/, test/ and optionally val/
folders of them; 'tandem eval --help' says more), greyscale or RGB, of any size the
architecture accepts. The input's per-channel mean and standard deviation over the
training images are recorded in the model's metadata and applied wherever it runs.

Architectures: ` + strings.Join(dnn.ZooArchs(), ", ") + `. --width scales every hidden
channel count (0.25 gives a model about 1/16 the FLOPs). Training holds out a
validation part of the training set (--val, by --split-seed) and reports its
accuracy after each epoch; the test set is never touched (use 'tandem eval').

The defaults are the recipe that trains vgg to >= 92.5% on Fashion-MNIST:
SGD with momentum 0.9, learning rate 0.05 annealed by a cosine, weight decay 5e-4,
batch 128, random crops (pad 2) and horizontal flips.`,
		Example: `  tandem train --arch vgg --dataset fashion-mnist --epochs 15 --out heavy.onnx
  tandem train --arch vgg --width 0.25 --dataset fashion-mnist --out edge.onnx
  tandem train --arch resnet --dataset mnist --epochs 5 --out digits.onnx
  tandem train --arch resnet --dataset ~/photos/by-class --out mine.onnx`,
		Args: cli.ExactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.Arch == "" || opts.Dataset == "" || opts.Out == "" {
				return cli.BadInputf("train: --arch, --dataset and --out are required (see 'tandem train --help')")
			}
			opts.Model.Arch = opts.Arch
			opts.Command = "tandem " + strings.Join(os.Args[1:], " ")
			opts.Stdout, opts.Stderr = cmd.OutOrStdout(), cmd.ErrOrStderr()
			return runF(opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Arch, "arch", "", "zoo architecture `NAME` ("+strings.Join(dnn.ZooArchs(), ", ")+")")
	f.StringVar(&opts.Dataset, "dataset", "", "dataset `NAME` (fashion-mnist, mnist) or PATH")
	f.StringVar(&opts.Out, "out", "", "write the trained model to `FILE.onnx`")
	f.Float64Var(&opts.Model.Width, "width", 1, "channel width multiplier `W`")
	f.Uint64Var(&opts.Model.Seed, "seed", 1, "seed `S` of initialisation, shuffling and augmentation")
	f.IntVar(&opts.Samples, "samples", 0, "train on the first `N` training samples only (0: all)")
	f.Float64Var(&opts.Split.Val, "val", data.DefaultSplit.Val, "`FRACTION` of the training set held out for validation")
	f.Uint64Var(&opts.Split.Seed, "split-seed", data.DefaultSplit.Seed, "seed `S` of the validation/test split")
	f.IntVar(&tc.Epochs, "epochs", 15, "passes `E` over the training set")
	f.IntVar(&tc.BatchSize, "batch", 128, "samples `B` per step")
	f.StringVar(&tc.Optimizer, "optimizer", "sgd", "`OPT`: sgd, nesterov or adam")
	f.Float64Var(&tc.LR, "lr", 0, "peak learning `RATE` (0: 0.05 for SGD, 0.002 for Adam)")
	f.StringVar(&tc.Schedule, "schedule", "cosine", "learning-rate `SCHEDULE`: cosine, step or constant")
	f.Float64Var(&tc.WeightDecay, "weight-decay", 0, "L2 `FACTOR` on weights (0: the optimizer's default, <0: none)")
	f.Float64Var(&tc.LabelSmoothing, "label-smoothing", 0, "label smoothing `EPS`")
	f.BoolVar(&tc.NoFlip, "no-flip", false, "no random horizontal flips (for digits and text; mnist, and image folders whose dataset.yaml says flip: false, are never flipped)")
	return cmd
}

// Run trains and writes the model.
func Run(opts *Options) error {
	opts.Model.Train.Seed = opts.Model.Seed
	ds, err := data.Load(opts.Dataset, data.Options{})
	if err != nil {
		return cli.BadInput(err)
	}
	splits, err := ds.Split(opts.Split)
	if err != nil {
		return cli.BadInput(err)
	}
	if opts.Samples > 0 {
		splits.Train = splits.Train.First(min(opts.Samples, splits.Train.Len()))
	}
	fmt.Fprintf(opts.Stderr, "training %s (width %g) on %s: %d samples, %d validation; GEMM %s\n",
		opts.Arch, opts.Model.Width, opts.Dataset, splits.Train.Len(), splits.Val.Len(), dnn.GEMMName())
	g, res, err := build.TrainModel(opts.Model, splits, splits.Train.Classes, trainprogress.New(opts.Stderr, opts.Arch))
	if err != nil {
		return cli.BadInput(err)
	}
	g.Meta["dataset"] = opts.Dataset
	if opts.Command != "" {
		g.Meta["command"] = opts.Command
	}
	if err := onnx.WriteFile(opts.Out, g); err != nil {
		return err
	}
	flops, _ := g.FLOPs()
	fmt.Fprintf(opts.Stdout, "wrote %s: %s width %g, %d params, %.2f MFLOPs, validation accuracy %.4f, %.0f s\n",
		opts.Out, opts.Arch, opts.Model.Width, g.Params(), float64(flops)/1e6, res.ValAccuracy, res.Seconds)
	return nil
}
