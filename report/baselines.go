package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/tandem-edge/tandem/deploy"
	"github.com/tandem-edge/tandem/paired"
)

// BaselinesFile is where a run's baselines are written beside its summary.
const BaselinesFile = "baselines.json"

// Baselines is baselines.json: a run's scenario run again with the trivial
// policies, sending everything to the cloud and nothing, on the same
// requests (the arrivals and the samples they replay are drawn from
// streams the policy does not touch). `tandem sim` writes it.
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
	// baseline's. Absent, with a note, when the runs' requests do not pair
	// up.
	Paired *paired.Result `json:"paired,omitempty"`
}

// accuracyAgainst says how much more or less accurate the run is than bl;
// "—" when they were not paired.
func accuracyAgainst(bl *Baseline) string {
	p := bl.Paired
	if p == nil {
		return "—"
	}
	return fmt.Sprintf("%s; McNemar p = %.2g", p.DifferenceText(), p.P)
}

// latencyAgainst is the change in mean latency from bl to run; "—" when bl
// has none.
func latencyAgainst(run *deploy.Summary, bl *Baseline) string {
	m := bl.Summary.LatencyMS.Mean
	if m <= 0 {
		return "—"
	}
	return fmt.Sprintf("%+.1f%%", 100*(run.LatencyMS.Mean-m)/m)
}

// PrintBaselines prints run beside its baselines for a terminal, then,
// against each, how much faster and how much more or less accurate it is.
func PrintBaselines(w io.Writer, run *deploy.Summary, b *Baselines) {
	row := func(policy string, s *deploy.Summary) []string {
		return []string{policy, pct3(s.AccuracyOverCompleted) + " / " + pct3(s.AccuracyOverRequests), f1(100*s.OffloadRate) + "%",
			strconv.FormatInt(s.Failed, 10), f3(s.LatencyMS.Mean), f3(s.LatencyMS.P95), f3(s.LatencyMS.P99)}
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
	for i := range b.Baselines {
		bl := &b.Baselines[i]
		if bl.Paired == nil {
			continue
		}
		fmt.Fprintf(w, "against %s: mean latency %s; accuracy difference %s\n", bl.Policy, latencyAgainst(run, bl), accuracyAgainst(bl))
	}
	for _, n := range b.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
}

// baselinesTable sets run beside the baselines in dir's baselines.json;
// nil when there is none.
func baselinesTable(dir string, run *deploy.Summary) (*Table, error) {
	path := filepath.Join(dir, BaselinesFile)
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return baselinesFrom(path, raw, run)
}

// baselinesFrom is baselinesTable on raw, the contents of the file at path.
func baselinesFrom(path string, raw []byte, run *deploy.Summary) (*Table, error) {
	var b Baselines
	if err := json.Unmarshal(raw, &b); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	t := &Table{Title: "Beside the trivial policies, on the same requests",
		Header: []string{"policy", "accuracy (completed / all)", "offload rate", "failed", "latency mean / p95 / p99 (ms)", "this run's accuracy less this policy's", "this run's mean latency against it"}}
	row := func(policy string, s *deploy.Summary) []string {
		return []string{policy, pct3(s.AccuracyOverCompleted) + " / " + pct3(s.AccuracyOverRequests), pct(s.OffloadRate),
			fmt.Sprint(s.Failed), f3(s.LatencyMS.Mean) + " / " + f3(s.LatencyMS.P95) + " / " + f3(s.LatencyMS.P99)}
	}
	t.Rows = append(t.Rows, append(row(b.Policy+" (this run)", run), "", ""))
	for i := range b.Baselines {
		bl := &b.Baselines[i]
		if bl.Summary == nil {
			return nil, fmt.Errorf("%s: baseline %d (%s) has no summary", path, i, bl.Policy)
		}
		t.Rows = append(t.Rows, append(row(bl.Policy, bl.Summary), accuracyAgainst(bl), latencyAgainst(run, bl)))
	}
	for _, n := range b.Notes {
		t.Rows = append(t.Rows, []string{"note: " + n, "", "", "", "", "", ""})
	}
	return t, nil
}

// pct3 is a percentage to three decimals: a cascade and the cloud differ by
// a few requests in ten thousand.
func pct3(v float64) string { return strconv.FormatFloat(100*v, 'f', 3, 64) + "%" }
