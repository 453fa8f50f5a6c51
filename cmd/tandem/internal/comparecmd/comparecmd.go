// Package comparecmd is `tandem compare`: two runs' summaries side by side,
// such as a simulation and the hardware-in-the-loop run of the same scenario,
// with how far apart each figure is.
package comparecmd

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"

	"github.com/olekukonko/tablewriter"
	"github.com/spf13/cobra"

	"github.com/tandem-edge/tandem/cmd/tandem/internal/cli"
	"github.com/tandem-edge/tandem/deploy"
	"github.com/tandem-edge/tandem/paired"
)

// Metric is one figure of both summaries.
type Metric struct {
	Name string  `json:"metric"`
	A    float64 `json:"a"`
	B    float64 `json:"b"`
	Diff float64 `json:"diff"` // B − A
	// Rel is (B − A) / A; null when A is 0.
	Rel *float64 `json:"rel"`
}

// Comparison is what --json prints.
type Comparison struct {
	A       string   `json:"a"` // the files
	B       string   `json:"b"`
	Metrics []Metric `json:"metrics"`
	// Paired compares the two runs' accuracy request by request, when both
	// have their requests.csv beside the summary and it lists the same
	// requests: absent otherwise.
	Paired *paired.Result `json:"paired,omitempty"`
	Notes  []string       `json:"notes,omitempty"` // why the two may not be comparable
}

// NewCmd builds `tandem compare`.
func NewCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "compare A/summary.json B/summary.json",
		Short: "Compare two runs' summaries: how far B is from A",
		Long: `Print two summary.json files side by side: accuracy, offload rate, latency
percentiles, throughput and utilization, with B − A and (B − A) / A for each.
With A a simulation and B the hardware-in-the-loop run of the same scenario and
seed, the last column is how far the simulator was off.

When both runs have their requests.csv beside the summary and it lists the same
requests (one scenario and seed: the same ids replaying the same samples), the
accuracy is also compared request by request: how many requests B got right
and A wrong, and the other way, with the exact McNemar p-value of that split,
the chance of one at least as uneven were the two equally accurate. A run
draws its held-out samples with replacement, so one sample can be several
requests that a policy answers alike; the split is therefore also counted over
distinct samples (a sample counts for the run that got more of its requests
right), whose p-value is the one to trust: the same inputs counted twice make
any difference look surer than it is. A failed request counts as a wrong answer.
A p-value says whether the two differ, not by how much: B's accuracy less A's
is printed with its 95% interval, whose spread is taken over distinct samples
too ("within 0.2 points of the cloud" is a claim it can back).`,
		Example: `  tandem sim builtin:default --requests 2000 --out out/sim
  tandem hil run builtin:default --requests 2000 --out out/hil
  tandem compare out/sim/summary.json out/hil/summary.json

  # is the learned offloader as accurate as sending everything to the cloud?
  tandem sim builtin:default --out out/learned
  tandem sim builtin:cloud-only --out out/cloud
  tandem compare out/cloud/summary.json out/learned/summary.json`,
		Args: cli.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := Compare(args[0], args[1])
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(c)
			}
			printComparison(cmd.OutOrStdout(), c)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object instead of a table")
	return cmd
}

// Compare reads two summaries and lines their figures up.
func Compare(a, b string) (*Comparison, error) {
	sa, err := read(a)
	if err != nil {
		return nil, err
	}
	sb, err := read(b)
	if err != nil {
		return nil, err
	}
	c := &Comparison{A: a, B: b}
	for _, f := range deploy.Figures {
		c.Metrics = append(c.Metrics, metric(f.Name, f.Of(sa), f.Of(sb)))
	}
	c.Metrics = append(c.Metrics, groupMetrics(sa, sb)...)
	c.Metrics = append(c.Metrics, poolMetrics(sa, sb)...)
	if len(sa.Groups) != len(sb.Groups) {
		c.Notes = append(c.Notes, fmt.Sprintf("different edge groups (%d and %d): compared by name where both have one", len(sa.Groups), len(sb.Groups)))
	}
	if sa.Scenario != sb.Scenario {
		c.Notes = append(c.Notes, fmt.Sprintf("different scenarios: %q and %q", sa.Scenario, sb.Scenario))
	}
	if sa.Seed != sb.Seed {
		c.Notes = append(c.Notes, fmt.Sprintf("different seeds (%d and %d): different requests", sa.Seed, sb.Seed))
	}
	if sa.Requests != sb.Requests {
		c.Notes = append(c.Notes, fmt.Sprintf("different request counts (%d and %d)", sa.Requests, sb.Requests))
	}
	if err := pairRequests(c); err != nil {
		return nil, err
	}
	return c, nil
}

// metric is one figure of both summaries, a's and b's, and how far b is
// from a; relative to a where a is not 0.
func metric(name string, a, b float64) Metric {
	m := Metric{Name: name, A: a, B: b, Diff: b - a}
	if a != 0 {
		r := (b - a) / a
		m.Rel = &r
	}
	return m
}

// poolMetrics lines up the utilization of the cloud pools both summaries
// have, by name: "cloud NAME: utilization".
func poolMetrics(sa, sb *deploy.Summary) []Metric {
	var out []Metric
	for _, pa := range sa.Clouds {
		for _, pb := range sb.Clouds {
			if pa.Name != pb.Name {
				continue
			}
			out = append(out, metric("cloud "+pa.Name+": utilization", pa.Utilization, pb.Utilization))
		}
	}
	return out
}

// groupMetrics lines up the figures of the edge groups both summaries
// have, by name: "group NAME: latency_mean_ms" and the like.
func groupMetrics(sa, sb *deploy.Summary) []Metric {
	var out []Metric
	for _, ga := range sa.Groups {
		for _, gb := range sb.Groups {
			if ga.Name != gb.Name {
				continue
			}
			figures := []struct {
				name string
				a, b float64
			}{
				{"requests", float64(ga.Requests), float64(gb.Requests)},
				{"accuracy_over_requests", ga.AccuracyOverRequests, gb.AccuracyOverRequests},
				{"offload_rate", ga.OffloadRate, gb.OffloadRate},
				{"latency_mean_ms", ga.LatencyMS.Mean, gb.LatencyMS.Mean},
				{"latency_p95_ms", ga.LatencyMS.P95, gb.LatencyMS.P95},
				{"latency_p99_ms", ga.LatencyMS.P99, gb.LatencyMS.P99},
			}
			if ga.Energy != nil && gb.Energy != nil {
				figures = append(figures, struct {
					name string
					a, b float64
				}{"energy_per_request_mj", ga.Energy.PerRequestMJ, gb.Energy.PerRequestMJ})
			}
			for _, f := range figures {
				m := metric("group "+ga.Name+": "+f.name, f.a, f.b)
				out = append(out, m)
			}
		}
	}
	return out
}

// read decodes a summary.json, checking that it is one.
func read(path string) (*deploy.Summary, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, cli.BadInput(err)
	}
	var s deploy.Summary
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&s); err != nil {
		return nil, cli.BadInputf("%s: not a summary.json: %v", path, err)
	}
	if s.Mode != deploy.ModeSim && s.Mode != deploy.ModeHIL {
		return nil, cli.BadInputf("%s: mode: want %q or %q, got %q: not a summary.json", path, deploy.ModeSim, deploy.ModeHIL, s.Mode)
	}
	return &s, nil
}

func printComparison(w io.Writer, c *Comparison) {
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }
	rows := make([][]string, 0, len(c.Metrics))
	for _, m := range c.Metrics {
		rel := "—"
		if m.Rel != nil && !math.IsInf(*m.Rel, 0) {
			rel = fmt.Sprintf("%+.1f%%", 100**m.Rel)
		}
		rows = append(rows, []string{m.Name, f(m.A), f(m.B), f(m.Diff), rel})
	}
	t := tablewriter.NewWriter(w)
	t.Header("metric", "A", "B", "difference", "relative")
	t.Bulk(rows)
	t.Render()
	fmt.Fprintf(w, "A: %s\nB: %s\n", c.A, c.B)
	if p := c.Paired; p != nil {
		fmt.Fprintf(w, "paired accuracy over %d requests: B right where A wrong on %d, A right where B wrong on %d (exact McNemar p = %.3g)\n",
			p.Requests, p.BOnly, p.AOnly, p.P)
		fmt.Fprintf(w, "  over their %d distinct samples: B better on %d, A on %d (sign test p = %.3g)\n",
			p.Samples, p.SamplesB, p.SamplesA, p.SamplesP)
		fmt.Fprintf(w, "  B's accuracy less A's: %s\n", p.DifferenceText())
	}
	for _, n := range c.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
}
