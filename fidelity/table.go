package fidelity

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/tandem-edge/tandem/deploy"
)

// RelErrorDefinition is what a row's relative error is, as reports say it.
const RelErrorDefinition = "(sim - hil) / hil: how far the prediction is from what happened; " +
	"positive when the simulator predicted more than the real runs measured, hil being the median of the runs"

// Run is one run of a scenario as a comparison reads it: its summary and
// its stages' means.
type Run struct {
	Summary *deploy.Summary
	Stages  StageMeans
}

// RunInfo is what a table says of each run it compares.
type RunInfo struct {
	// Name is "sim" for the simulation and "hil-K" for the Kth real run
	// (K from 1): the folder its outputs are written into.
	Name        string           `json:"run"`
	Mode        string           `json:"mode"` // sim | hil
	Requests    int64            `json:"requests"`
	Completed   int64            `json:"completed"`
	Failed      int64            `json:"failed"`
	Offloaded   int64            `json:"offloaded"` // completed requests the cloud answered
	Failures    map[string]int64 `json:"failures"`
	WallSeconds float64          `json:"wall_seconds"`
}

// RunName is the name of a scenario's kth real run, k from 1.
func RunName(k int) string { return fmt.Sprintf("hil-%d", k) }

// Row is one figure of a scenario: the simulator's value against the real
// runs'.
type Row struct {
	Metric  string    `json:"metric"`   // a deploy.Figures name, or a stage's (edge_ms, ...)
	Sim     float64   `json:"sim"`      // the simulation's value
	HIL     float64   `json:"hil"`      // the median of HILRuns
	HILRuns []float64 `json:"hil_runs"` // each real run's value, in run order
	// Rel is (Sim − HIL) / HIL; nil when HIL is 0.
	Rel *float64 `json:"rel_error"`
	// Identical is set for the figures the simulator replays rather than
	// models (accuracy and offload rate): whether Sim equals every real
	// run's value.
	Identical *bool `json:"identical,omitempty"`
	// Within is set on the rows a bound checks once one is given (see
	// Table.Check): whether this one kept to it.
	Within *bool `json:"within,omitempty"`
}

// Headline is a table's line in the summary across scenarios.
type Headline struct {
	LatencyMeanRel *float64 `json:"latency_mean_rel_error"`
	LatencyP95Rel  *float64 `json:"latency_p95_rel_error"`
	LatencyP99Rel  *float64 `json:"latency_p99_rel_error"`
	// Worst is the metric (not stage) row whose relative error is largest in
	// magnitude, and WorstRel its error; "" and nil when no row has one.
	Worst    string   `json:"worst_metric"`
	WorstRel *float64 `json:"worst_rel_error"`
	// Within says whether every row the bound checks kept to it; nil when
	// no bound was checked.
	Within *bool `json:"within"`
}

// Table compares one scenario's simulation with its real runs.
type Table struct {
	Scenario string `json:"scenario"` // the scenario's name
	// Ref is how the caller named the scenario (a path or builtin:NAME),
	// left for the caller to set.
	Ref      string    `json:"ref,omitempty"`
	Seed     uint64    `json:"seed"`
	Requests int64     `json:"requests"`
	Runs     []RunInfo `json:"runs"`    // the simulation first, then the real runs in order
	Metrics  []Row     `json:"metrics"` // see Metrics
	Stages   []Row     `json:"stages"`  // mean stage times, milliseconds
	// Parts break a fleet of several edge groups, or a cloud of several
	// pools, down: "group NAME: latency_mean_ms" and the like, and
	// "cloud NAME: utilization"; absent for one group and one pool. The
	// headline and the bound are the whole run's.
	Parts    []Row    `json:"parts,omitempty"`
	Headline Headline `json:"summary"`
	// OtherHosts are the profiles the simulation read that were measured
	// on another machine than the real runs' (profiler.OtherHosts), left
	// for the caller to set: the simulation predicts that machine.
	OtherHosts []string `json:"profiles_from_other_hosts,omitempty"`
}

// Metrics are the deploy.Figures a table compares, in its order.
var Metrics = []string{
	"accuracy", "offload_rate",
	"latency_mean_ms", "latency_p50_ms", "latency_p95_ms", "latency_p99_ms",
	"throughput_rps", "utilization_cloud",
}

// replayed are the metrics the simulator takes from real outcomes rather
// than models: a run on the same seed must give them exactly.
var replayed = []string{"accuracy", "offload_rate"}

// bounded are the metrics whose relative error a bound checks.
var bounded = []string{"latency_mean_ms", "latency_p95_ms", "latency_p99_ms"}

// NewTable compares a simulation with one or more real runs of the same
// scenario. It panics when hil is empty or a summary is nil. Cost O(R log R)
// a row for R real runs.
func NewTable(sim Run, hil []Run) *Table {
	if len(hil) == 0 {
		panic("fidelity: NewTable with no real run")
	}
	if sim.Summary == nil {
		panic("fidelity: NewTable with a nil simulation summary")
	}
	t := &Table{Scenario: sim.Summary.Scenario, Seed: sim.Summary.Seed, Requests: sim.Summary.Requests}
	t.Runs = append(t.Runs, runInfo("sim", sim))
	for k, h := range hil {
		if h.Summary == nil {
			panic(fmt.Sprintf("fidelity: NewTable with a nil summary for real run %d", k+1))
		}
		t.Runs = append(t.Runs, runInfo(RunName(k+1), h))
	}
	vals := make([]float64, len(hil))
	for _, name := range Metrics {
		f := deploy.Figures[deploy.FigureIndex(name)]
		for k, h := range hil {
			vals[k] = f.Of(h.Summary)
		}
		r := newRow(name, f.Of(sim.Summary), vals)
		if slices.Contains(replayed, name) {
			same := true
			for _, v := range vals {
				same = same && v == r.Sim
			}
			r.Identical = &same
		}
		t.Metrics = append(t.Metrics, r)
	}
	for _, sf := range stageFigures {
		for k := range hil {
			vals[k] = sf.of(&hil[k].Stages)
		}
		t.Stages = append(t.Stages, newRow(sf.name, sf.of(&sim.Stages), vals))
	}
	t.Parts = partRows(sim.Summary, hil)
	t.Headline = Headline{
		LatencyMeanRel: t.row("latency_mean_ms").Rel,
		LatencyP95Rel:  t.row("latency_p95_ms").Rel,
		LatencyP99Rel:  t.row("latency_p99_ms").Rel,
	}
	for _, r := range t.Metrics {
		if r.Rel != nil && (t.Headline.WorstRel == nil || math.Abs(*r.Rel) > math.Abs(*t.Headline.WorstRel)) {
			t.Headline.Worst, t.Headline.WorstRel = r.Metric, r.Rel
		}
	}
	return t
}

// groupFigures are the figures each edge group's row compares; the first
// two are replayed.
var groupFigures = []struct {
	name string
	of   func(*deploy.GroupSummary) float64
}{
	{"accuracy_over_requests", func(g *deploy.GroupSummary) float64 { return g.AccuracyOverRequests }},
	{"offload_rate", func(g *deploy.GroupSummary) float64 { return g.OffloadRate }},
	{"latency_mean_ms", func(g *deploy.GroupSummary) float64 { return g.LatencyMS.Mean }},
	{"latency_p95_ms", func(g *deploy.GroupSummary) float64 { return g.LatencyMS.P95 }},
	{"latency_p99_ms", func(g *deploy.GroupSummary) float64 { return g.LatencyMS.P99 }},
}

// partRows are the rows of each edge group and cloud pool that the
// simulation and every real run have, by name.
func partRows(sim *deploy.Summary, hil []Run) []Row {
	var out []Row
	vals := make([]float64, len(hil))
groups:
	for gi := range sim.Groups {
		g := &sim.Groups[gi]
		each := make([]*deploy.GroupSummary, len(hil))
		for k, h := range hil {
			i := slices.IndexFunc(h.Summary.Groups, func(o deploy.GroupSummary) bool { return o.Name == g.Name })
			if i < 0 {
				continue groups
			}
			each[k] = &h.Summary.Groups[i]
		}
		for fi, f := range groupFigures {
			for k := range hil {
				vals[k] = f.of(each[k])
			}
			r := newRow("group "+g.Name+": "+f.name, f.of(g), vals)
			if fi < 2 {
				same := !slices.ContainsFunc(vals, func(v float64) bool { return v != r.Sim })
				r.Identical = &same
			}
			out = append(out, r)
		}
	}
pools:
	for _, p := range sim.Clouds {
		for k, h := range hil {
			i := slices.IndexFunc(h.Summary.Clouds, func(o deploy.PoolSummary) bool { return o.Name == p.Name })
			if i < 0 {
				continue pools
			}
			vals[k] = h.Summary.Clouds[i].Utilization
		}
		out = append(out, newRow("cloud "+p.Name+": utilization", p.Utilization, vals))
	}
	return out
}

func runInfo(name string, r Run) RunInfo {
	s := r.Summary
	return RunInfo{Name: name, Mode: s.Mode, Requests: s.Requests, Completed: s.Completed, Failed: s.Failed,
		Offloaded: r.Stages.Offloaded, Failures: s.Failures, WallSeconds: s.WallSeconds}
}

// newRow makes a row of a simulated value against the real runs' values,
// which it copies.
func newRow(name string, sim float64, hil []float64) Row {
	r := Row{Metric: name, Sim: sim, HILRuns: slices.Clone(hil), HIL: Median(hil)}
	r.Rel = RelError(r.Sim, r.HIL)
	return r
}

// row returns the metric row of that name; it panics when there is none.
func (t *Table) row(name string) *Row {
	for i := range t.Metrics {
		if t.Metrics[i].Metric == name {
			return &t.Metrics[i]
		}
	}
	panic("fidelity: no metric " + name)
}

// RelError is how far a prediction is from what happened,
//
//	(sim − hil) / hil
//
// positive when the simulator predicted more; nil when hil is 0 or the
// ratio is not finite.
func RelError(sim, hil float64) *float64 {
	if hil == 0 {
		return nil
	}
	r := (sim - hil) / hil
	if math.IsNaN(r) || math.IsInf(r, 0) {
		return nil
	}
	return &r
}

// Median is the middle of xs (the mean of the middle two when their number
// is even), NaN when xs is empty. xs is not changed. Cost O(n log n).
func Median(xs []float64) float64 {
	n := len(xs)
	if n == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// Check holds the table to a bound on relative error: the latency mean, p95
// and p99 must be within ±bound of the real runs' median, and accuracy and
// offload rate identical to every real run's. It sets the checked rows'
// Within and the headline's, and returns one line for each row that missed,
// naming the scenario and the metric. A bound of 0 or less checks nothing
// and clears what an earlier check set.
func (t *Table) Check(bound float64) []string {
	t.Headline.Within = nil
	for i := range t.Metrics {
		t.Metrics[i].Within = nil
	}
	if bound <= 0 {
		return nil
	}
	var missed []string
	for i := range t.Metrics {
		r := &t.Metrics[i]
		var ok bool
		switch {
		case r.Identical != nil:
			ok = *r.Identical
			if !ok {
				missed = append(missed, fmt.Sprintf("%s: %s: the simulation's %s is not every real run's (%s): the runs did not replay the same requests",
					t.Scenario, r.Metric, num(r.Sim), joinNums(r.HILRuns)))
			}
		case slices.Contains(bounded, r.Metric):
			// With no relative error (hil 0) only an exact match keeps to it.
			ok = r.Rel == nil && r.Sim == r.HIL || r.Rel != nil && math.Abs(*r.Rel) <= bound
			if !ok {
				missed = append(missed, fmt.Sprintf("%s: %s: sim %s against hil %s (the median of %d real run%s) is %s off, beyond the ±%s bound",
					t.Scenario, r.Metric, num(r.Sim), num(r.HIL), len(r.HILRuns), plural(len(r.HILRuns)), rel(r.Rel), pct(bound)))
			}
		default:
			continue
		}
		r.Within = &ok
	}
	within := len(missed) == 0
	t.Headline.Within = &within
	return missed
}

// Report is the comparison of one or more scenarios: what fidelity.json
// holds.
type Report struct {
	// Command is the command line that reruns the comparison.
	Command string `json:"command"`
	// Tandem is the build that ran it.
	Tandem string `json:"tandem,omitempty"`
	// Host is the machine the real runs ran on.
	Host string `json:"host,omitempty"`
	// RelError says how rel_error is defined (RelErrorDefinition).
	RelError string `json:"rel_error"`
	// MaxError is the bound checked (see Table.Check); 0: none.
	MaxError  float64  `json:"max_error"`
	Runs      int      `json:"runs"` // real runs of each scenario
	Scenarios []*Table `json:"scenarios"`
}

// Check holds every table to r.MaxError and returns the lines of the rows
// that missed, scenario by scenario (none when MaxError is 0).
func (r *Report) Check() []string {
	var missed []string
	for _, t := range r.Scenarios {
		missed = append(missed, t.Check(r.MaxError)...)
	}
	return missed
}

func joinNums(xs []float64) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = num(x)
	}
	return strings.Join(parts, ", ")
}
