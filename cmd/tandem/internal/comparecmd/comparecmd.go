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
	Notes   []string `json:"notes,omitempty"` // why the two may not be comparable
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
seed, the last column is how far the simulator was off.`,
		Example: `  tandem sim builtin:default --requests 2000 --out out/sim
  tandem hil run builtin:default --requests 2000 --out out/hil
  tandem compare out/sim/summary.json out/hil/summary.json`,
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
		x, y := f.Of(sa), f.Of(sb)
		mt := Metric{Name: f.Name, A: x, B: y, Diff: y - x}
		if x != 0 {
			r := (y - x) / x
			mt.Rel = &r
		}
		c.Metrics = append(c.Metrics, mt)
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
	return c, nil
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
	for _, n := range c.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
}
