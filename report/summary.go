package report

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/olekukonko/tablewriter"

	"github.com/tandem-edge/tandem/bundles"
	"github.com/tandem-edge/tandem/deploy"
	"github.com/tandem-edge/tandem/scenarios"
)

// PrintSummary writes the summary of a run, simulated or measured, as a
// two-column table for a terminal, the scenario's defining numbers first so
// that the table reads on its own.
func PrintSummary(w io.Writer, in *scenarios.Inputs, s *deploy.Summary) {
	sc := in.Scenario
	f := func(v float64, prec int) string { return strconv.FormatFloat(v, 'f', prec, 64) }
	pct := func(v float64) string { return f(100*v, 1) + "%" }
	// A stage a few requests in ten thousand keep busy is not idle: show it.
	util := func(v float64) string {
		if v > 0 && v < 0.01 {
			return f(100*v, 2) + "%"
		}
		return pct(v)
	}
	rows := [][]string{
		{"scenario", s.Scenario},
		{"fleet", fleetString(sc)},
		{"policy", policyString(in, s)},
		{"bundle", bundleString(in)},
		{"requests / completed / failed", fmt.Sprintf("%d / %d / %d", s.Requests, s.Completed, s.Failed)},
		{"accuracy over completed / all requests", f(100*s.AccuracyOverCompleted, 2) + "% / " + f(100*s.AccuracyOverRequests, 2) + "%"},
		{"offload rate", pct(s.OffloadRate)},
		{"latency mean (ms)", f(s.LatencyMS.Mean, 3)},
		{"latency p50 / p95 / p99 (ms)", fmt.Sprintf("%s / %s / %s", f(s.LatencyMS.P50, 3), f(s.LatencyMS.P95, 3), f(s.LatencyMS.P99, 3))},
		{"latency max (ms)", f(s.LatencyMS.Max, 3)},
		{"throughput (req/s)", f(s.ThroughputRPS, 1)},
		{"utilization edge / uplink / cloud", fmt.Sprintf("%s / %s / %s", util(s.Utilization.Edge), util(s.Utilization.Uplink), util(s.Utilization.Cloud))},
		{"wall time (s)", f(s.WallSeconds, 3)},
	}
	if e := s.Energy; e != nil {
		at := len(rows) - 1
		energy := [][]string{
			{"energy per request above idle (mJ)", f(e.PerRequestMJ, 3)},
			{"device power mean / max (W)", f(e.MeanPowerW, 3) + " / " + f(e.MaxPowerW, 3)},
		}
		if e.BatteryHours > 0 {
			energy = append(energy, []string{"battery life mean / first flat (h)", f(e.BatteryHours, 1) + " / " + f(e.BatteryHoursMin, 1)})
		}
		rows = slices.Insert(rows, at, energy...)
	}
	for _, g := range s.Groups {
		line := fmt.Sprintf("%d devices, %d requests: %s%%, %s offloaded, mean %s / p99 %s ms",
			g.Devices, g.Requests, f(100*g.AccuracyOverRequests, 2), pct(g.OffloadRate), f(g.LatencyMS.Mean, 3), f(g.LatencyMS.P99, 3))
		if e := g.Energy; e != nil {
			line += fmt.Sprintf(", %s mJ/request", f(e.PerRequestMJ, 3))
			if e.BatteryHours > 0 {
				line += fmt.Sprintf(", battery %s h", f(e.BatteryHours, 1))
			}
		}
		rows = slices.Insert(rows, len(rows)-1, []string{"group " + g.Name, line})
	}
	for _, c := range s.Clouds {
		rows = slices.Insert(rows, len(rows)-1, []string{"cloud pool " + c.Name, fmt.Sprintf("%d server%s, %s busy", c.Servers, map[bool]string{true: "s"}[c.Servers != 1], util(c.Utilization))})
	}
	if s.Failed > 0 {
		rows = slices.Insert(rows, 5, []string{"failed by reason", s.FailuresByReason()})
	}
	if s.Mode != deploy.ModeHIL {
		rows = append(rows[:len(rows)-1], []string{"events", strconv.FormatInt(s.Events, 10)}, rows[len(rows)-1])
	}
	t := tablewriter.NewWriter(w)
	if s.Mode == deploy.ModeHIL {
		t.Header("hil", "measured")
	} else {
		t.Header("sim", "prediction")
	}
	t.Bulk(rows)
	t.Render()
}

// fleetString says what the fleet is: "20 devices × 10.00 req/s
// (poisson)", or each group's in a fleet of several.
func fleetString(sc *scenarios.Scenario) string {
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }
	if len(sc.Edge) == 1 {
		return fmt.Sprintf("%d devices × %s req/s (%s)", sc.Edge[0].Count, f(sc.WorkloadOf(0).Rate), sc.Workload.Arrival)
	}
	parts := make([]string, len(sc.Edge))
	for g := range sc.Edge {
		parts[g] = fmt.Sprintf("%s: %d × %s req/s", sc.Edge.GroupName(g), sc.Edge[g].Count, f(sc.WorkloadOf(g).Rate))
	}
	return strings.Join(parts, "; ") + " (" + sc.Workload.Arrival + ")"
}

func policyString(in *scenarios.Inputs, s *deploy.Summary) string {
	p := in.Scenario.Policy
	learned := in.OffloaderName
	if len(bundleNames(in)) > 1 {
		learned = "each bundle's offloader"
	}
	switch p.Kind {
	case scenarios.PolicyRandom:
		return fmt.Sprintf("random (p = %g)", p.P)
	case scenarios.PolicyThreshold:
		return fmt.Sprintf("threshold (%s vs %g)", p.Feature, p.Threshold)
	case scenarios.PolicyLearned:
		return fmt.Sprintf("learned (%s)", learned)
	case scenarios.PolicyCostAware:
		return fmt.Sprintf("cost-aware (λ = %g per ms, %s)", p.Lambda, learned)
	case scenarios.PolicySplit:
		if c := s.Cut; c != nil {
			return fmt.Sprintf("split after %s (%s, %d bytes of tensor)", c.After, c.Chosen, c.TensorBytes)
		}
	}
	return p.Kind
}

// bundleString names the bundles the fleet runs, the scenario's first.
func bundleString(in *scenarios.Inputs) string { return strings.Join(bundleNames(in), ", ") }

// bundleNames are the bundles the fleet runs, each once, the scenario's
// first. An application is a bundle served by one cloud pool, so a bundle
// served by two pools is two applications.
func bundleNames(in *scenarios.Inputs) []string {
	names := []string{in.Bundle.Name}
	seen := map[*bundles.Bundle]bool{in.Bundle: true}
	for a := range in.Apps {
		if b := in.Apps[a].Bundle; !seen[b] {
			seen[b] = true
			names = append(names, b.Name)
		}
	}
	return names
}
