package offloadcmd

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tandem-edge/tandem/bundles"
	"github.com/tandem-edge/tandem/bundles/build"
	"github.com/tandem-edge/tandem/cmd/tandem/internal/cli"
	"github.com/tandem-edge/tandem/deploy"
	"github.com/tandem-edge/tandem/plan"
	"github.com/tandem-edge/tandem/scenarios"
	"github.com/tandem-edge/tandem/sim"
)

// TuneOptions are the inputs of `tandem offload tune`.
type TuneOptions struct {
	Scenario string
	SLOs     []string
	Out      string // the tuned scenario's file
	Requests int    // > 0: simulate this many requests a step
	On       string // the split the search replays: val (default) or test
	// Headroom tightens every latency objective of the search by this
	// fraction; the result on the test outcomes is judged by the objectives
	// as given.
	Headroom float64
	JSON     bool

	Stdout io.Writer
}

// tuneReport is what --json prints.
type tuneReport struct {
	Scenario string `json:"scenario"`
	Key      string `json:"key"`
	Value    string `json:"value,omitempty"` // empty: no value meets the objectives
	Out      string `json:"out,omitempty"`
	// On is the split the search replayed: val, the validation split's
	// outcomes, or test, the bundle's; Before and After are always on the
	// bundle's test outcomes, as tandem sim reports them.
	On string `json:"on"`
	// Headroom is the fraction the search's latency limits were
	// tightened by; AfterMeets whether After meets the objectives as given.
	Headroom   float64         `json:"headroom"`
	AfterMeets *bool           `json:"after_meets,omitempty"`
	Before     *deploy.Summary `json:"before"` // the scenario as given
	After      *deploy.Summary `json:"after,omitempty"`
	Search     *plan.Result    `json:"search"`
}

func newTune() *cobra.Command {
	opts := &TuneOptions{}
	cmd := &cobra.Command{
		Use:   "tune SCENARIO --slo METRIC=LIMIT... --out FILE.yaml",
		Short: "Set a scenario's offloading policy to its most accurate point that meets an SLO",
		Long: `Tune the operating point of a scenario's offloading policy in the simulator:
the threshold of a threshold policy (on max_prob, margin or entropy), the score
threshold of the learned offloader (replacing the one it was trained with), or
the price lambda of the cost-aware policy. Offloading more makes a deployment
more accurate and, under load, slower; tune finds by bisection the point that
offloads the most while every objective still holds, simulating the scenario at
each step, and writes the scenario with that value set as FILE.yaml, ready for
'tandem sim' and 'tandem hil run'.

The search replays the bundle's models' outcomes on the validation split of its
dataset (--on val, the default; the two models run on it first, which needs the
dataset installed), so that the point is not chosen on the test samples that
'tandem sim' then reports it on; the scenario before and after is simulated on
the bundle's test outcomes, as 'tandem sim' does. --on test searches on those
(the choice then sees its own report).

A point chosen on one split's outcomes sits on the objective's bound there, and on
the test outcomes it may land a little over it (on builtin:busy-uplink, 3% over a
p99 SLO). --headroom F searches against every latency limit tightened by F (0.05:
5%) and judges the test outcomes by the limits as given, saying whether they meet
them.

Objectives are those of 'tandem plan': mean, p50, p95, p99, max (latency at
most), accuracy (at least), offload_rate (at most); all must hold and no
request may fail. It prints each step, then the scenario before and after.
When no value meets the objectives it says so, writes nothing and exits 3.`,
		Example: `  tandem offload tune builtin:busy-uplink --slo p99=200ms --out busy-tuned.yaml
  tandem offload tune builtin:default --slo mean=5ms --out default-5ms.yaml
  tandem offload tune builtin:threshold --slo p95=25ms --slo accuracy=0.93 --out t.yaml --json`,
		Args: cli.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Scenario, opts.Stdout = args[0], cmd.OutOrStdout()
			return Tune(opts)
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&opts.SLOs, "slo", nil, "objective `METRIC=LIMIT` (repeat: all must hold)")
	f.StringVar(&opts.Out, "out", "", "write the tuned scenario to `FILE.yaml` (required)")
	f.IntVar(&opts.Requests, "requests", 0, "simulate `N` requests a step, replacing the scenario's")
	f.Float64Var(&opts.Headroom, "headroom", 0, "search against every latency limit tightened by the fraction `F` (0.05: 5%), for a point that still meets the objective on other samples")
	f.StringVar(&opts.On, "on", "val", "search on the `SPLIT`'s outcomes: val (the dataset's validation split) or test (the bundle's)")
	f.BoolVar(&opts.JSON, "json", false, "print one JSON object instead of tables")
	return cmd
}

// Tune tunes the scenario's policy and writes the tuned scenario.
func Tune(opts *TuneOptions) error {
	if opts.Out == "" || len(opts.SLOs) == 0 {
		return cli.BadInputf("offload tune: --out and at least one --slo are required (see 'tandem offload tune --help')")
	}
	if opts.Requests < 0 {
		return cli.BadInputf("offload tune: --requests %d: want a positive count", opts.Requests)
	}
	if !(opts.Headroom >= 0 && opts.Headroom < 1) {
		return cli.BadInputf("offload tune: --headroom %g: want a fraction from 0 up to 1", opts.Headroom)
	}
	var slos, search []plan.SLO
	for _, s := range opts.SLOs {
		o, err := plan.ParseSLO(s)
		if err != nil {
			return cli.BadInput(err)
		}
		slos = append(slos, o)
		if o.Metric != "accuracy" && o.Metric != "offload_rate" {
			o.Limit *= 1 - opts.Headroom
		}
		search = append(search, o)
	}
	sc, err := scenarios.LoadWith(opts.Scenario, scenarios.Overrides{Requests: opts.Requests})
	if err != nil {
		return cli.BadInput(err)
	}
	if _, err := plan.KnobOf(sc.Policy.Kind); err != nil {
		return cli.BadInputf("offload tune: %s: %v", sc.File, err)
	}
	before, err := sim.Simulate(sc)
	if err != nil {
		return cli.BadInput(err)
	}
	on := opts.On
	if on == "" {
		on = "val"
	}
	var outcomes []bundles.Outcome
	switch on {
	case "val":
		b, err := bundles.Load(sc.BundleRef())
		if err != nil {
			return cli.BadInput(err)
		}
		if outcomes, err = build.ValidationOutcomes(b, ""); err != nil {
			return cli.BadInput(fmt.Errorf("offload tune: --on val: %w (or --on test, which chooses on the test outcomes)", err))
		}
	case "test":
	default:
		return cli.BadInputf("offload tune: --on %q: want val or test", opts.On)
	}
	t, err := plan.TuneOn(sc, search, 0, outcomes)
	if err != nil {
		return cli.BadInput(err)
	}
	rep := tuneReport{Scenario: sc.Name, Key: t.Knob.Key, Value: t.Value, On: on, Headroom: opts.Headroom, Before: before, Search: t.Result}
	if t.Scenario != nil {
		if rep.After, err = sim.Simulate(t.Scenario); err != nil {
			return cli.BadInput(err)
		}
		meets := true
		for _, o := range slos {
			meets = meets && o.Met(rep.After)
		}
		rep.AfterMeets = &meets
	}
	if t.Scenario != nil {
		b, err := scenarios.Marshal(t.Scenario)
		if err != nil {
			return err
		}
		if err := cli.WriteFileAtomic(opts.Out, b); err != nil {
			return err
		}
		rep.Out = opts.Out
	}
	if opts.JSON {
		enc := json.NewEncoder(opts.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		printTune(opts.Stdout, &rep, slos)
	}
	if t.Scenario == nil {
		return &cli.BoundError{Err: fmt.Errorf("offload tune: %s: no %s from %g to %g meets %s", sc.Name, t.Knob.Key, t.Lo, t.Hi, sloString(slos))}
	}
	return nil
}

func sloString(slos []plan.SLO) string {
	var s []string
	for _, o := range slos {
		s = append(s, o.String())
	}
	return strings.Join(s, " and ")
}

func printTune(w io.Writer, r *tuneReport, slos []plan.SLO) {
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', 3, 64) }
	pct := func(v float64) string { return strconv.FormatFloat(100*v, 'f', 2, 64) + "%" }
	fmt.Fprintf(w, "searched on the %s outcomes:\n", map[string]string{"val": "validation split's", "test": "bundle's test"}[r.On])
	fmt.Fprintf(w, "%-10s %-12s %-9s %-9s %-9s %-9s %s\n", "meets", r.Key, "mean ms", "p95 ms", "p99 ms", "accuracy", "offloaded")
	for _, s := range r.Search.Steps {
		met := "no"
		if s.Met {
			met = "yes"
		}
		l := s.Summary.LatencyMS
		fmt.Fprintf(w, "%-10s %-12s %-9s %-9s %-9s %-9s %s\n", met, s.Value, f(l.Mean), f(l.P95), f(l.P99), pct(s.Summary.AccuracyOverRequests), pct(s.Summary.OffloadRate))
	}
	row := func(what string, s *deploy.Summary) {
		l := s.LatencyMS
		fmt.Fprintf(w, "%s: accuracy %s (over all requests), offloaded %s, mean %s ms, p95 %s ms, p99 %s ms\n",
			what, pct(s.AccuracyOverRequests), pct(s.OffloadRate), f(l.Mean), f(l.P95), f(l.P99))
	}
	fmt.Fprintln(w, "on the bundle's test outcomes, as tandem sim reports:")
	row("as given", r.Before)
	if r.After == nil {
		fmt.Fprintf(w, "%s: no %s meets %s; nothing written\n", r.Scenario, r.Key, sloString(slos))
		return
	}
	row(r.Key+" = "+r.Value, r.After)
	if r.AfterMeets != nil {
		verdict := "meets"
		if !*r.AfterMeets {
			verdict = "does not meet"
		}
		fmt.Fprintf(w, "on the test outcomes it %s %s", verdict, sloString(slos))
		if r.Headroom > 0 {
			fmt.Fprintf(w, " (searched with %g%% headroom)", 100*r.Headroom)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "wrote %s\n", r.Out)
}
