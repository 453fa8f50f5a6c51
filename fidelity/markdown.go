package fidelity

import (
	"bytes"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Markdown renders the report: how it was made, the summary across
// scenarios (SummaryMarkdown), then each scenario's runs, metrics and
// stages.
func (r *Report) Markdown() []byte {
	var b bytes.Buffer
	b.WriteString("# Simulator fidelity\n\n")
	fmt.Fprintf(&b, "Each scenario simulated once and run for real %d time%s, on the same seed and requests; "+
		"hil is the median of the real runs.\n", r.Runs, plural(r.Runs))
	b.WriteString("error = (sim − hil) / hil: how far the prediction is from what happened, " +
		"positive when the simulator predicted more than the real runs measured.\n")
	if r.MaxError > 0 {
		fmt.Fprintf(&b, "Bound: latency mean, p95 and p99 within ±%s, accuracy and offload rate identical.\n", pct(r.MaxError))
	} else {
		b.WriteString("No bound checked (--max-error 0).\n")
	}
	if r.Command != "" {
		fmt.Fprintf(&b, "\nRerun: `%s`\n", r.Command)
	}
	if r.Tandem != "" {
		fmt.Fprintf(&b, "Build: %s\n", r.Tandem)
	}
	if r.Host != "" {
		fmt.Fprintf(&b, "Host: %s\n", r.Host)
	}
	b.WriteString("\n## Summary\n\n")
	b.Write(r.SummaryMarkdown())
	var other []string
	for _, t := range r.Scenarios {
		if len(t.OtherHosts) > 0 {
			other = append(other, cell(t.Scenario))
		}
	}
	if len(other) > 0 {
		fmt.Fprintf(&b, "\nProfiles measured on another machine than this one: %s. Their simulations predict that machine; "+
			"the errors above mix the two (profile this machine to compare like with like).\n", strings.Join(other, ", "))
	}
	for _, t := range r.Scenarios {
		fmt.Fprintf(&b, "\n## %s\n\n", cell(t.Scenario))
		if t.Ref != "" {
			fmt.Fprintf(&b, "`%s`: ", t.Ref)
		}
		fmt.Fprintf(&b, "seed %d, %d requests.\n\n", t.Seed, t.Requests)
		if len(t.OtherHosts) > 0 {
			fmt.Fprintf(&b, "Profiles measured on another machine: %s.\n\n", strings.Join(t.OtherHosts, "; "))
		}
		rows := make([][]string, len(t.Runs))
		for i, ri := range t.Runs {
			rows[i] = []string{ri.Name, strconv.FormatInt(ri.Completed, 10), failed(ri), strconv.FormatInt(ri.Offloaded, 10),
				strconv.FormatFloat(ri.WallSeconds, 'f', 2, 64)}
		}
		table(&b, []string{"run", "completed", "failed", "offloaded", "wall s"}, rows)
		b.WriteString("\n")
		table(&b, []string{"metric", "sim", "hil", "hil runs", "error"}, rowCells(t.Metrics))
		b.WriteString("\nMean stage times in ms: the edge's over every completed request, the others over the offloaded ones.\n\n")
		table(&b, []string{"stage", "sim", "hil", "hil runs", "error"}, rowCells(t.Stages))
		if len(t.Parts) > 0 {
			b.WriteString("\nEach edge group's figures over its own requests, and each cloud pool's utilization.\n\n")
			table(&b, []string{"part", "sim", "hil", "hil runs", "error"}, rowCells(t.Parts))
		}
	}
	return b.Bytes()
}

// SummaryMarkdown renders the table across scenarios: each one's relative
// error on the latency mean, p95 and p99, its worst metric, and whether it
// kept to the bound ("—" when none was checked).
func (r *Report) SummaryMarkdown() []byte {
	var b bytes.Buffer
	rows := make([][]string, len(r.Scenarios))
	for i, t := range r.Scenarios {
		h := t.Headline
		worst := "—"
		if h.WorstRel != nil {
			worst = rel(h.WorstRel) + " (" + h.Worst + ")"
		}
		within := "—"
		if h.Within != nil {
			within = map[bool]string{true: "yes", false: "no"}[*h.Within]
		}
		rows[i] = []string{cell(t.Scenario), rel(h.LatencyMeanRel), rel(h.LatencyP95Rel), rel(h.LatencyP99Rel), worst, within}
	}
	bound := "within bound"
	if r.MaxError > 0 {
		bound = "within ±" + pct(r.MaxError)
	}
	table(&b, []string{"scenario", "mean error", "p95 error", "p99 error", "worst \\|error\\|", bound}, rows)
	return b.Bytes()
}

func rowCells(rows []Row) [][]string {
	out := make([][]string, len(rows))
	for i, r := range rows {
		e := rel(r.Rel)
		if r.Identical != nil {
			if *r.Identical {
				e = "identical"
			} else {
				e = "differs, " + e
			}
		}
		if r.Within != nil && !*r.Within {
			e += " (missed)"
		}
		out[i] = []string{r.Metric, num(r.Sim), num(r.HIL), joinNums(r.HILRuns), e}
	}
	return out
}

func table(b *bytes.Buffer, header []string, rows [][]string) {
	fmt.Fprintf(b, "| %s |\n|%s\n", strings.Join(header, " | "), strings.Repeat(" --- |", len(header)))
	for _, row := range rows {
		fmt.Fprintf(b, "| %s |\n", strings.Join(row, " | "))
	}
}

// failed is a run's failed count with its reasons by name: "3 (http_503 2, timeout 1)".
func failed(ri RunInfo) string {
	s := strconv.FormatInt(ri.Failed, 10)
	if len(ri.Failures) == 0 {
		return s
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(ri.Failures)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, ri.Failures[k]))
	}
	return s + " (" + cell(strings.Join(parts, ", ")) + ")"
}

// cell escapes what would end a Markdown table cell.
func cell(s string) string { return strings.ReplaceAll(s, "|", "\\|") }

// num prints v with four significant digits before the point or after
// the first non-zero one, without an exponent.
func num(v float64) string {
	if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	d := 3 - int(math.Floor(math.Log10(math.Abs(v))))
	return strconv.FormatFloat(v, 'f', min(max(d, 0), 6), 64)
}

// rel prints a relative error as a signed percentage, "—" for none.
func rel(r *float64) string {
	if r == nil {
		return "—"
	}
	return fmt.Sprintf("%+.1f%%", 100**r)
}

// pct prints a share as a percentage to six significant digits, without
// trailing zeros: 0.05 is "5%", 0.07 "7%".
func pct(v float64) string { return strconv.FormatFloat(100*v, 'g', 6, 64) + "%" }

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
