package simcmd

import (
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/tandem-edge/tandem/deploy"
	"github.com/tandem-edge/tandem/paired"
	"github.com/tandem-edge/tandem/scenarios"
)

// baselinesFile is where --out writes the baselines beside the summary.
const baselinesFile = "baselines.json"

// Baselines is baselines.json: the scenario's run beside the same scenario
// run with the trivial policies, sending everything to the cloud and
// nothing, on the same requests (the arrivals and the samples they replay
// are drawn from streams the policy does not touch).
type Baselines struct {
	Scenario  string     `json:"scenario"`
	Seed      uint64     `json:"seed"`
	Policy    string     `json:"policy"` // the scenario's own
	Baselines []Baseline `json:"baselines"`
	// Notes say why a baseline is missing.
	Notes []string `json:"notes,omitempty"`
}

// Baseline is one trivial policy's run.
type Baseline struct {
	Policy  string          `json:"policy"` // cloud-only | edge-only
	Summary *deploy.Summary `json:"summary"`
	// Paired compares the baseline (A) with the scenario's own run (B)
	// request by request: its difference is the run's accuracy less the
	// baseline's.
	// Absent, with a note, when the runs' requests do not pair up.
	Paired *paired.Result `json:"paired,omitempty"`
}

// baselinePolicies are the trivial policies every run is set beside.
var baselinePolicies = []string{scenarios.PolicyCloudOnly, scenarios.PolicyEdgeOnly}

// runBaselines runs sc with each trivial policy it does not have itself and
// pairs each with run, the outcomes of sc's own run. A baseline the
// scenario cannot run (an edge group with no profile for its model, say) is
// left out with a note.
func runBaselines(sc *scenarios.Scenario, run []paired.Outcome) (*Baselines, error) {
	b := &Baselines{Scenario: sc.Name, Seed: sc.Seed, Policy: sc.Policy.Kind, Baselines: []Baseline{}}
	for _, kind := range baselinePolicies {
		if kind == sc.Policy.Kind {
			continue
		}
		alt := *sc
		alt.Policy = scenarios.Policy{Kind: kind}
		sum, outs, err := simulate(&alt)
		if err != nil {
			b.Notes = append(b.Notes, fmt.Sprintf("no %s baseline: %v", kind, err))
			continue
		}
		r, err := paired.Compare(outs, run)
		var mismatch *paired.MismatchError
		if errors.As(err, &mismatch) {
			b.Notes = append(b.Notes, fmt.Sprintf("%s baseline not paired: %s", kind, mismatch.Reason))
		} else if err != nil {
			return nil, fmt.Errorf("%s baseline: %w", kind, err)
		}
		b.Baselines = append(b.Baselines, Baseline{Policy: kind, Summary: sum, Paired: r})
	}
	return b, nil
}

// simulate runs sc and returns its summary and every request's outcome.
func simulate(sc *scenarios.Scenario) (*deploy.Summary, []paired.Outcome, error) {
	_, s, err := newSim(sc)
	if err != nil {
		return nil, nil, err
	}
	var outs outcomes
	sum, err := s.Run(&outs)
	if err != nil {
		return nil, nil, err
	}
	return sum, outs, nil
}

// outcomes records each request's outcome for pairing; a failed request
// was not answered right, as paired.ReadOutcomes reads requests.csv.
type outcomes []paired.Outcome

func (o *outcomes) Record(r *deploy.Record) error {
	*o = append(*o, paired.Outcome{ID: r.ID, Sample: r.Sample, Correct: r.Correct && r.Status == deploy.StatusOK})
	return nil
}

// tee gives each record to every recorder in turn, and flushes those that
// buffer when the run ends, as the engine does with a recorder of its own.
type tee []deploy.Recorder

func (t tee) Flush() error {
	for _, rec := range t {
		if f, ok := rec.(interface{ Flush() error }); ok {
			if err := f.Flush(); err != nil {
				return err
			}
		}
	}
	return nil
}

func (t tee) Record(r *deploy.Record) error {
	for _, rec := range t {
		if err := rec.Record(r); err != nil {
			return err
		}
	}
	return nil
}

// printBaselines prints the run beside its baselines and, against
// cloud-only, how much faster and how much more or less accurate it is.
func printBaselines(w io.Writer, run *deploy.Summary, b *Baselines) {
	f := func(v float64, prec int) string { return strconv.FormatFloat(v, 'f', prec, 64) }
	// Three decimals: a cascade and the cloud differ by a few requests in
	// ten thousand.
	pct := func(v float64) string { return f(100*v, 3) + "%" }
	row := func(policy string, s *deploy.Summary) []string {
		return []string{policy, pct(s.AccuracyOverCompleted) + " / " + pct(s.AccuracyOverRequests), f(100*s.OffloadRate, 1) + "%",
			strconv.FormatInt(s.Failed, 10), f(s.LatencyMS.Mean, 3), f(s.LatencyMS.P95, 3), f(s.LatencyMS.P99, 3)}
	}
	rows := [][]string{row(b.Policy+" (this run)", run)}
	for _, bl := range b.Baselines {
		rows = append(rows, row(bl.Policy, bl.Summary))
	}
	fmt.Fprintf(w, "beside the trivial policies, on the same %d requests:\n", run.Requests)
	t := tablewriter.NewTable(w, tablewriter.WithHeaderAutoFormat(tw.Off))
	t.Header("policy", "accuracy (completed / all)", "offloaded", "failed", "mean ms", "p95 ms", "p99 ms")
	t.Bulk(rows)
	t.Render()
	for _, bl := range b.Baselines {
		p := bl.Paired
		if p == nil {
			continue
		}
		lat := "—"
		if m := bl.Summary.LatencyMS.Mean; m > 0 {
			lat = fmt.Sprintf("%+.1f%%", 100*(run.LatencyMS.Mean-m)/m)
		}
		fmt.Fprintf(w, "against %s: mean latency %s; accuracy difference %s; McNemar p = %.2g\n", bl.Policy, lat, p.DifferenceText(), p.P)
	}
	for _, n := range b.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
}
