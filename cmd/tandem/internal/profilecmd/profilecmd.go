// Package profilecmd is `tandem profile`: measure models with ONNX Runtime
// and write a device profile (per-layer and whole-model latency, the batch
// curve, and optionally the fitted latency predictor).
package profilecmd

import (
	"io"
	"os"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/tandem-edge/tandem/cmd/tandem/internal/cli"
	"github.com/tandem-edge/tandem/profiler"
)

// Options are the inputs of `tandem profile`.
type Options struct {
	Models  []string // FILE.onnx or NAME=FILE.onnx, one per model
	Name    string   // the profile's name; empty means the --out file's base name
	Out     string   // the profile file to write
	Threads int      // ONNX Runtime intra-op threads
	Batches []int    // batch curve sizes; nil means the default for Threads
	Runs    int      // timed batch-1 runs, without and with the profiler
	Warmup  int      // untimed runs first

	ColdGaps    []time.Duration // idle gaps of the cold latency curve; empty or a single 0: none
	ColdRuns    int             // timed runs of the cold latency at each gap
	Serving     bool            // measure the serving path over both protocols
	ServingRuns int             // timed requests of each serving path
	Slowdown    float64         // > 1: profile an emulated device this many times slower than the host
	Power       time.Duration   // measure the processor's power idle and busy, each this long; 0: not
	AddTo       string          // an existing profile of this host to add the models to, keeping its own

	SweepWidths bool   // measure probes and pruned variants and fit the predictor
	Points      int    // probes per convolution configuration
	Variants    int    // pruned variants of each model for the calibration
	HeldOut     int    // held-out pruned variants to check the predictor on; 0: none
	Seed        uint64 // draws the sweep's and the check's widths

	// Command is the command line as typed, for the profile's source;
	// empty means one rebuilt from the options.
	Command string

	Stdout   io.Writer // the summary table; nil: none
	Progress io.Writer // progress lines (stderr); nil: none
}

// NewCmd builds `tandem profile`.
func NewCmd() *cobra.Command { return newCmd(run) }

func newCmd(runF func(*Options) error) *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:   "profile --model [NAME=]FILE.onnx... --out FILE.yaml",
		Short: "Measure models' layer and whole-model latency and write a device profile",
		Long: `Measure models with ONNX Runtime on this machine and write a device profile: the
YAML file a scenario's device: names, which the simulator reads.

For each --model it records the median batch-1 latency without the profiler and
its spread (coefficient of variation over runs), the latency of whole batches
at each --batch size, and each layer's share of the latency. The shares come
from ONNX Runtime's own profiler, whose per-node times are charged to the
model's layers (the optimiser fuses BatchNormalization and activations into
convolutions and inserts layout nodes) and rescaled to the unprofiled latency:
the profiler slows each run down, and the profile records by how much.

--sweep-widths also fits the latency predictor the compressor uses: it measures
single-layer models at a grid of channel widths for every convolution of the
models, and randomly pruned variants of them whole, and fits a per-kernel model
of latency in FLOPs and bytes. --held-out N also measures N more pruned
variants, alongside but never used in the fit, and records how well the
predictor did on them.

--cold-gaps also times each model's cold latency curve. A model run after its
core idled for a while (on a device whose requests come far apart, or on a
server between requests) finds its caches holding other data and takes longer
than back-to-back runs do: a pruned ResNet-20 at one thread took 0.63 ms back
to back, 0.70 ms after 1 ms idle, 0.77 after 3 ms, 0.87 after 10 ms, 1.28
after 30 ms and 2.4 after 100 ms. For each gap, tandem profile times
--cold-runs batch-1 runs, each after that long idle (about --cold-runs times
the sum of the gaps per model, 6 s by default). The simulator charges every
edge and cloud run the extra latency for how long its device or server had
been idle before it, interpolating in the logarithm of the gap (see
profiles.Model.LatencyAt). On by default; --cold-gaps 0 turns it off.

--serving also times each model's serving path: tandem's own inference server
(tandem hil serve) started in this process on loopback as tandem hil run starts
a cloud (on --threads threads, no batching), sent batch-1 requests one after
another, each timed as the client's round trip less the time the server says
it queued; once over the binary protocol and once over JSON. The simulator adds
what the serving path costs over the bare model to every request a cloud with
this profile serves, over the scenario's cloud.protocol. It is meant for cloud
profiles.

--slowdown K profiles an emulated device K times slower than this host: every
latency measured is multiplied by K and host.slowdown says so. 'tandem hil run'
stretches every edge run of a device with such a profile to K times its measured
time (holding the device's slot, not the host's core), so a board slower than
this machine is emulated end to end with the same scenario. A CPU quota would
not do: it caps average use, and an inference is shorter than the scheduler's
accounting period.

The profile says where it came from (source:, host:), and is written whole or
not at all. Timing is sensitive to other load on the machine: keep it quiet.`,
		Example: `  # an edge-class profile: one thread
  tandem profile --model fashion/heavy=heavy.onnx --model fashion/edge=edge.onnx \
    --threads 1 --out profiles/edge-cpu-1t.yaml

  # a server-class profile with a batch curve, the latency predictor and the
  # serving path
  tandem profile --model heavy.onnx --threads 16 --batch 1,2,4,8,16,32 \
    --sweep-widths --held-out 30 --serving --out server.yaml`,
		Args: cli.ExactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Stdout, opts.Progress = cmd.OutOrStdout(), cmd.ErrOrStderr()
			opts.Command = commandLine(os.Args)
			return runF(opts)
		},
	}
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return cli.BadInputf("%s: %v (see '%s --help')", c.CommandPath(), err, c.CommandPath())
	})
	f := cmd.Flags()
	f.StringArrayVar(&opts.Models, "model", nil, "ONNX model `[NAME=]FILE` to profile (repeat for several; NAME defaults to the file's base name)")
	f.StringVar(&opts.Out, "out", "", "write the device profile to `FILE.yaml` (required)")
	f.StringVar(&opts.Name, "name", "", "the profile's `NAME` (default: the --out file's base name)")
	f.IntVar(&opts.Threads, "threads", 1, "ONNX Runtime runs each operator on `T` threads (1: an edge core)")
	f.IntSliceVar(&opts.Batches, "batch", nil, "batch sizes `B,...` of the batch curve (default 1 at one thread, else 1,2,4,8,16,32)")
	f.IntVar(&opts.Runs, "runs", 200, "time `R` batch-1 runs without and with the profiler")
	f.IntVar(&opts.Warmup, "warmup", 20, "untimed runs `W` before timing")
	f.DurationSliceVar(&opts.ColdGaps, "cold-gaps", slices.Clone(profiler.DefaultColdGaps), "also time the cold latency after each idle gap `D,...` (0: off)")
	f.IntVar(&opts.ColdRuns, "cold-runs", 40, "time `N` runs of the cold latency at each gap")
	f.BoolVar(&opts.Serving, "serving", false, "also time the serving path of tandem's server on loopback, over the binary and the JSON protocol (cloud profiles)")
	f.IntVar(&opts.ServingRuns, "serving-runs", 200, "time `N` requests of each serving path")
	f.Float64Var(&opts.Slowdown, "slowdown", 1, "profile an emulated device `K` times slower than this host: every latency K times as long; hil run stretches the runs of a device with this profile as much")
	f.StringVar(&opts.AddTo, "add-to", "", "add the models to the existing profile `FILE.yaml` of this host (same CPU, cores and threads), keeping its models, predictor and power; --out may be FILE.yaml itself")
	f.DurationVar(&opts.Power, "power", 2*time.Second, "measure the processor's power from its RAPL counters, `D` idle and D running the first model (0: not; hosts without the counters are told so and get no figures)")
	f.BoolVar(&opts.SweepWidths, "sweep-widths", false, "measure layers at a grid of channel widths and fit the latency predictor")
	f.IntVar(&opts.Points, "sweep-points", 24, "single-layer models `N` per convolution of the models")
	f.IntVar(&opts.Variants, "sweep-variants", 8, "randomly pruned variants `N` of each model, measured whole to calibrate the predictor")
	f.IntVar(&opts.HeldOut, "held-out", 0, "check the predictor on `N` more pruned variants it is not fitted to")
	f.Uint64Var(&opts.Seed, "seed", 1, "seed `S` of the pruned widths")
	return cmd
}
