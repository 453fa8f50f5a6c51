package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"

	"github.com/tandem-edge/tandem/deploy"
	"github.com/tandem-edge/tandem/paired"
)

// baselines is what the report reads of baselines.json, which `tandem sim`
// writes beside a run's summary: the same scenario run with the trivial
// policies on the same requests, each paired with the run.
type baselines struct {
	Policy    string `json:"policy"`
	Baselines []struct {
		Policy  string          `json:"policy"`
		Summary *deploy.Summary `json:"summary"`
		Paired  *paired.Result  `json:"paired"`
	} `json:"baselines"`
	Notes []string `json:"notes"`
}

// baselinesTable sets run beside the baselines in dir's baselines.json;
// nil when there is none.
func baselinesTable(dir string, run *deploy.Summary) (*Table, error) {
	path := filepath.Join(dir, "baselines.json")
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
	var b baselines
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
	for i, bl := range b.Baselines {
		if bl.Summary == nil {
			return nil, fmt.Errorf("%s: baseline %d (%s) has no summary", path, i, bl.Policy)
		}
		r := row(bl.Policy, bl.Summary)
		diff, lat := "—", "—"
		if p := bl.Paired; p != nil {
			diff = fmt.Sprintf("%s; McNemar p = %.2g", p.DifferenceText(), p.P)
		}
		if m := bl.Summary.LatencyMS.Mean; m > 0 {
			lat = fmt.Sprintf("%+.1f%%", 100*(run.LatencyMS.Mean-m)/m)
		}
		t.Rows = append(t.Rows, append(r, diff, lat))
	}
	for _, n := range b.Notes {
		t.Rows = append(t.Rows, []string{"note: " + n, "", "", "", "", "", ""})
	}
	return t, nil
}

// pct3 is a percentage to three decimals: a cascade and the cloud differ by
// a few requests in ten thousand.
func pct3(v float64) string { return strconv.FormatFloat(100*v, 'f', 3, 64) + "%" }
