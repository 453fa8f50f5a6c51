// Package simcmd is `tandem sim`: a scenario's prediction from the
// discrete-event simulator.
package simcmd

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tandem-edge/tandem/cmd/tandem/internal/cli"
	"github.com/tandem-edge/tandem/deploy"
	"github.com/tandem-edge/tandem/report"
	"github.com/tandem-edge/tandem/scenarios"
	"github.com/tandem-edge/tandem/sim"
)

// Options are the inputs of `tandem sim`.
type Options struct {
	Scenario string // path or builtin:NAME
	Out      string // folder for summary.json and requests.csv; empty: none
	Requests int    // > 0 replaces the scenario's requests/duration
	Seed     uint64
	SeedSet  bool // Seed replaces the scenario's seed
	JSON     bool
	Protocol string // when set, replaces the scenario's cloud.protocol
	// Baselines runs the scenario again with the trivial policies
	// (cloud-only, edge-only) on the same requests and sets the run beside
	// them.
	Baselines bool

	Stdout io.Writer
}

// NewCmd builds `tandem sim`.
func NewCmd() *cobra.Command { return newCmd(Run) }

func newCmd(runF func(*Options) error) *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:   "sim [SCENARIO]",
		Short: "Predict a deployment with the discrete-event simulator",
		Long: `Simulate a scenario: a fleet of edge devices running the bundle's edge model,
each with its own link to a pool of cloud servers running the heavy model, and a
policy choosing per request where it is answered.

SCENARIO is a YAML file or builtin:NAME (see 'tandem scenario list'); none means
builtin:default. Stage times come from the device profiles, measured layer by
layer; accuracy comes from replaying real held-out samples with both models' real
predictions. The run is a function of the scenario and its seed: the same inputs
give byte-identical outputs.

Prints a summary table (or, with --json, summary.json's object). Then, unless
--baselines=false, the same scenario is simulated with the trivial policies,
cloud-only and edge-only (never offloading), on the very same requests, and the
run is set beside them: accuracy over completed and over all requests, offload
rate, failures and latency, and, against each, the change in mean latency and
the difference in accuracy with its 95% interval (by distinct sample, since a
sample is replayed by several requests) and McNemar's p.

With --out DIR, writes DIR/summary.json, DIR/requests.csv (one row per request)
and DIR/baselines.json (the baselines' summaries and paired comparisons); they
appear together once the run has succeeded, never half-written.`,
		Example: `  tandem sim
  tandem sim builtin:congested-uplink --json
  tandem sim mine.yaml --requests 100000 --seed 7 --out out/mine`,
		Args: cli.RangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Scenario = "builtin:default"
			if len(args) == 1 {
				opts.Scenario = args[0]
			}
			opts.SeedSet = cmd.Flags().Changed("seed")
			opts.Stdout = cmd.OutOrStdout()
			if opts.Requests < 0 {
				return cli.BadInputf("--requests %d: want a positive count", opts.Requests)
			}
			return runF(opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Out, "out", "", "write summary.json, requests.csv and baselines.json into `DIR`")
	f.IntVar(&opts.Requests, "requests", 0, "simulate `N` arrivals over the fleet, replacing the scenario's requests or duration")
	f.Uint64Var(&opts.Seed, "seed", 0, "seed `S` of every random stream, replacing the scenario's")
	f.BoolVar(&opts.JSON, "json", false, "print summary.json's object instead of a table")
	f.StringVar(&opts.Protocol, "protocol", "", "charge the cloud's serving path over `P`: binary or json, replacing the scenario's cloud.protocol")
	f.BoolVar(&opts.Baselines, "baselines", true, "also simulate cloud-only and edge-only on the same requests and compare (--baselines=false: the run alone)")
	return cmd
}

// Run loads the scenario and everything it names, simulates it and reports.
func Run(opts *Options) error {
	sc, err := scenarios.LoadWith(opts.Scenario, scenarios.Overrides{Requests: opts.Requests, Seed: opts.Seed, SeedSet: opts.SeedSet, Protocol: opts.Protocol})
	if err != nil {
		return cli.BadInput(err)
	}
	in, s, err := newSim(sc)
	if err != nil {
		return cli.BadInput(err)
	}

	var out *cli.Output
	var rec deploy.Recorder
	if opts.Out != "" {
		if out, err = cli.NewOutput(opts.Out); err != nil {
			return err
		}
		defer out.Abort()
		f, err := out.Create("requests.csv")
		if err != nil {
			return err
		}
		rec = deploy.NewCSVRecorder(f)
	}
	var outs outcomes
	if opts.Baselines {
		if rec == nil {
			rec = &outs
		} else {
			rec = tee{rec, &outs}
		}
	}

	start := time.Now()
	sum, err := s.Run(rec)
	if err != nil {
		return err
	}
	sum.WallSeconds = time.Since(start).Seconds()
	var base *report.Baselines
	if opts.Baselines {
		if base, err = runBaselines(sc, outs); err != nil {
			return err
		}
	}

	if out != nil {
		f, err := out.Create("summary.json")
		if err != nil {
			return err
		}
		if err := writeJSON(f, sum); err != nil {
			return err
		}
		if base != nil {
			f, err := out.Create(report.BaselinesFile)
			if err != nil {
				return err
			}
			if err := writeJSON(f, base); err != nil {
				return err
			}
		}
		if err := out.Commit(); err != nil {
			return err
		}
	}
	if opts.JSON {
		return writeJSON(opts.Stdout, sum)
	}
	report.PrintSummary(opts.Stdout, in, sum)
	if base != nil {
		report.PrintBaselines(opts.Stdout, sum, base)
	}
	if opts.Out != "" {
		files := []string{filepath.Join(opts.Out, "summary.json"), filepath.Join(opts.Out, "requests.csv")}
		if base != nil {
			files = append(files, filepath.Join(opts.Out, report.BaselinesFile))
		}
		last := len(files) - 1
		fmt.Fprintf(opts.Stdout, "wrote %s and %s\n", strings.Join(files[:last], ", "), files[last])
	}
	return nil
}

// newSim resolves sc and builds its simulator.
func newSim(sc *scenarios.Scenario) (*scenarios.Inputs, *sim.Sim, error) {
	in, err := scenarios.Resolve(sc)
	if err != nil {
		return nil, nil, err
	}
	cfg, err := sim.ConfigFor(in)
	if err != nil {
		return nil, nil, err
	}
	s, err := sim.New(cfg)
	if err != nil {
		return nil, nil, err
	}
	return in, s, nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
