// Package plancmd is `tandem plan`: the largest load or smallest resource at
// which a scenario meets its service-level objectives.
package plancmd

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
	"github.com/spf13/cobra"

	"github.com/tandem-edge/tandem/bundles"
	"github.com/tandem-edge/tandem/bundles/build"
	"github.com/tandem-edge/tandem/cmd/tandem/internal/cli"
	"github.com/tandem-edge/tandem/plan"
	"github.com/tandem-edge/tandem/scenarios"
)

// NewCmd builds `tandem plan`.
func NewCmd() *cobra.Command {
	var (
		slos   []string
		key    string
		rng    string
		seed   uint64
		reqs   int
		on     string
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "plan SCENARIO --slo METRIC=LIMIT... --vary KEY",
		Short: "Find the largest load or smallest resource that meets an SLO",
		Long: `Plan capacity: move one numeric key of a scenario over a range and find, by
bisection with the simulator, where the service-level objectives stop holding.
For a load (workload.rate, edge.count) that is the largest value that meets
them; for a resource (cloud.servers, link.uplink_mbps) the smallest. Which of
the two the key is, is read from the ends of the range.

Objectives: mean, p50, p95, p99, max (latency at most, e.g. p95=100ms),
accuracy (at least, e.g. accuracy=0.92), offload_rate (at most). Give --slo
once for each; all must hold, and no request may fail.

The range is --range LO:HI, by default 1/16 to 16 times the scenario's value.
An integer key is searched in integers, any other to 1%.

--on says whose outcomes the search replays: test, the bundle's test outcomes
as 'tandem sim' does, or val, the validation split's (the two models run on it
first, which needs the bundle's dataset). By default a policy key (the
threshold, lambda or p of policy) is searched on val, so that an operating
point is not chosen on the images it is reported on, and the answer is then
simulated once more on the test outcomes (the JSON's "test"); any other key on
test.`,
		Example: `  tandem plan builtin:default --vary workload.rate --slo p95=30ms
  tandem plan builtin:congested-uplink --vary link.uplink_mbps --slo p99=100ms --json
  tandem plan mine.yaml --vary cloud.servers --range 1:32 --slo mean=20ms --slo accuracy=0.9
  tandem plan builtin:default --vary policy.threshold --range 0.01:1 --slo accuracy=0.93`,
		Args: cli.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if key == "" || len(slos) == 0 {
				return cli.BadInputf("plan: --vary and at least one --slo are required (see 'tandem plan --help')")
			}
			cfg := plan.Config{Key: key}
			for _, s := range slos {
				o, err := plan.ParseSLO(s)
				if err != nil {
					return cli.BadInput(err)
				}
				cfg.SLOs = append(cfg.SLOs, o)
			}
			if rng != "" {
				a, b, ok := strings.Cut(rng, ":")
				lo, err1 := strconv.ParseFloat(a, 64)
				hi, err2 := strconv.ParseFloat(b, 64)
				if !ok || err1 != nil || err2 != nil || !(lo > 0 && hi > lo) {
					return cli.BadInputf("plan: --range %q: want LO:HI with 0 < LO < HI", rng)
				}
				cfg.Lo, cfg.Hi = lo, hi
			}
			sc, err := scenarios.Load(args[0])
			if err != nil {
				return cli.BadInput(err)
			}
			var as []scenarios.Assignment
			if reqs > 0 {
				as = append(as, scenarios.Assignment{Key: "requests", Value: strconv.Itoa(reqs)}, scenarios.Assignment{Key: "duration", Value: "null"})
			}
			if cmd.Flags().Changed("seed") {
				as = append(as, scenarios.Assignment{Key: "seed", Value: strconv.FormatUint(seed, 10)})
			}
			if len(as) > 0 {
				if sc, err = scenarios.With(sc, as...); err != nil {
					return cli.BadInput(err)
				}
			}
			cfg.Scenario = sc
			if err := cfg.Check(); err != nil {
				return cli.BadInput(err)
			}
			if on == "" {
				on = "test"
				if strings.HasPrefix(key, "policy.") {
					on = "val"
				}
			}
			switch on {
			case "val":
				b, err := bundles.Load(sc.BundleRef())
				if err != nil {
					return cli.BadInput(err)
				}
				if cfg.Outcomes, err = build.ValidationOutcomes(b, ""); err != nil {
					return cli.BadInput(fmt.Errorf("plan: --on val: %w (or --on test, which searches on the test outcomes)", err))
				}
			case "test":
			default:
				return cli.BadInputf("plan: --on %q: want val or test", on)
			}
			res, err := plan.Search(cfg)
			if err != nil {
				return cli.BadInput(err)
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(res)
			}
			printResult(cmd.OutOrStdout(), sc.Name, on, res)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&slos, "slo", nil, "objective `METRIC=LIMIT` (repeat: all must hold)")
	f.StringVar(&key, "vary", "", "the scenario `KEY` to move (a number)")
	f.StringVar(&rng, "range", "", "search `LO:HI` (default 1/16 to 16 times the scenario's value)")
	f.IntVar(&reqs, "requests", 0, "simulate `N` requests a step, replacing the scenario's")
	f.Uint64Var(&seed, "seed", 0, "seed `S`, replacing the scenario's")
	f.StringVar(&on, "on", "", "replay the `SPLIT`'s outcomes: val or test (default val for a policy key, else test)")
	f.BoolVar(&asJSON, "json", false, "print one JSON object instead of a table")
	return cmd
}

func printResult(w io.Writer, name, on string, res *plan.Result) {
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', 3, 64) }
	rows := make([][]string, 0, len(res.Steps))
	for _, s := range res.Steps {
		met := "no"
		if s.Met {
			met = "yes"
		}
		l := s.Summary.LatencyMS
		rows = append(rows, []string{s.Value, f(l.Mean), f(l.P95), f(l.P99), strconv.FormatFloat(100*s.Summary.Accuracy, 'f', 2, 64) + "%", met})
	}
	// Keys keep their dots: no header auto-formatting.
	t := tablewriter.NewTable(w, tablewriter.WithHeaderAutoFormat(tw.Off))
	t.Header(res.Key, "mean ms", "p95 ms", "p99 ms", "accuracy", "meets")
	t.Bulk(rows)
	t.Render()
	var objs []string
	for _, o := range res.SLOs {
		objs = append(objs, o.String())
	}
	goal := strings.Join(objs, " and ")
	switch res.Direction {
	case "largest", "smallest":
		fmt.Fprintf(w, "%s: the %s %s that meets %s is %s\n", name, res.Direction, res.Key, goal, res.Value)
	case "everywhere":
		fmt.Fprintf(w, "%s: %s holds over all of %s from %g to %g; widen --range to find its edge\n", name, goal, res.Key, res.Lo, res.Hi)
	default:
		fmt.Fprintf(w, "%s: %s holds nowhere for %s from %g to %g\n", name, goal, res.Key, res.Lo, res.Hi)
	}
	if on == "val" {
		fmt.Fprintf(w, "searched on the validation split's outcomes")
		if t := res.Test; t != nil {
			fmt.Fprintf(w, "; at %s=%s on the test outcomes: mean %s ms, p95 %s ms, p99 %s ms, accuracy %.2f%% over all requests",
				res.Key, res.Value, f(t.LatencyMS.Mean), f(t.LatencyMS.P95), f(t.LatencyMS.P99), 100*t.AccuracyOverRequests)
		}
		fmt.Fprintln(w)
	}
}
