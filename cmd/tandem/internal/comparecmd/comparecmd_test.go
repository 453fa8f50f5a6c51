package comparecmd

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tandem-edge/tandem/cmd/tandem/internal/cli"
	"github.com/tandem-edge/tandem/deploy"
)

func write(t *testing.T, s *deploy.Summary) string {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "summary.json")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestCompare(t *testing.T) {
	a := write(t, &deploy.Summary{Scenario: "default", Mode: deploy.ModeSim, Seed: 1, Requests: 100, Completed: 100, Accuracy: 0.9,
		LatencyMS: deploy.LatencyMS{Mean: 4, P95: 20}})
	b := write(t, &deploy.Summary{Scenario: "default", Mode: deploy.ModeHIL, Seed: 1, Requests: 100, Completed: 99, Failed: 1, Accuracy: 0.9,
		LatencyMS: deploy.LatencyMS{Mean: 5, P95: 22}})
	c, err := Compare(a, b)
	if err != nil {
		t.Fatal(err)
	}
	got := byName(c)
	rel := func(name string) float64 {
		if got[name].Rel == nil {
			t.Fatalf("%s has no relative difference", name)
		}
		return *got[name].Rel
	}
	if rel("latency_mean_ms") != 0.25 || rel("latency_p95_ms") != 0.1 || rel("accuracy") != 0 || got["failed"].Rel != nil || got["failed"].Diff != 1 {
		t.Errorf("metrics %+v", c.Metrics)
	}
	if len(c.Notes) != 0 {
		t.Errorf("notes %v for one scenario, seed and request count", c.Notes)
	}

	out := table(t, a, b)
	if !strings.Contains(out, "+25.0%") {
		t.Errorf("table lacks the mean's +25.0%%:\n%s", out)
	}
}

// table runs `tandem compare a b` and returns what it printed.
func table(t *testing.T, a, b string) string {
	t.Helper()
	cmd := NewCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetArgs([]string{a, b})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

// The edge groups both runs have are compared by name.
func TestCompareGroups(t *testing.T) {
	group := func(name string, mean float64, energy *deploy.Energy) deploy.GroupSummary {
		g := deploy.GroupSummary{Name: name, Requests: 10, Energy: energy}
		g.LatencyMS.Mean = mean
		return g
	}
	a := write(t, &deploy.Summary{Scenario: "mixed", Mode: deploy.ModeSim, Seed: 1, Requests: 20,
		Groups: []deploy.GroupSummary{group("boards", 20, &deploy.Energy{PerRequestMJ: 40}), group("fast", 6, nil)},
		Clouds: []deploy.PoolSummary{{Name: "near", Servers: 1, Utilization: 0.2}, {Name: "far", Servers: 2, Utilization: 0.1}}})
	b := write(t, &deploy.Summary{Scenario: "mixed", Mode: deploy.ModeHIL, Seed: 1, Requests: 20,
		Groups: []deploy.GroupSummary{group("fast", 9, nil), group("boards", 25, &deploy.Energy{PerRequestMJ: 30})},
		Clouds: []deploy.PoolSummary{{Name: "far", Servers: 2, Utilization: 0.15}, {Name: "near", Servers: 1, Utilization: 0.3}}})
	c, err := Compare(a, b)
	if err != nil {
		t.Fatal(err)
	}
	got := byName(c)
	if m := got["group boards: latency_mean_ms"]; m.A != 20 || m.B != 25 || *m.Rel != 0.25 {
		t.Errorf("boards' mean %+v", m)
	}
	if m := got["group fast: latency_mean_ms"]; m.A != 6 || m.B != 9 {
		t.Errorf("fast's mean %+v", m)
	}
	if m := got["group boards: energy_per_request_mj"]; m.Diff != -10 {
		t.Errorf("boards' energy %+v", m)
	}
	if m := got["cloud near: utilization"]; m.A != 0.2 || m.B != 0.3 {
		t.Errorf("pool near's utilization %+v", m)
	}
	if _, ok := got["group fast: energy_per_request_mj"]; ok || len(c.Notes) != 0 {
		t.Errorf("energy compared without figures, or notes %v", c.Notes)
	}
}

// byName indexes a comparison's metrics by name.
func byName(c *Comparison) map[string]Metric {
	got := map[string]Metric{}
	for _, m := range c.Metrics {
		got[m.Name] = m
	}
	return got
}

func TestCompareNotes(t *testing.T) {
	a := write(t, &deploy.Summary{Scenario: "default", Mode: deploy.ModeSim, Seed: 1, Requests: 100})
	b := write(t, &deploy.Summary{Scenario: "burst", Mode: deploy.ModeSim, Seed: 2, Requests: 50})
	c, err := Compare(a, b)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Notes) != 3 {
		t.Errorf("notes %v, want scenario, seed and request count", c.Notes)
	}
}

func TestCompareBadInput(t *testing.T) {
	dir := t.TempDir()
	notJSON := filepath.Join(dir, "x.json")
	os.WriteFile(notJSON, []byte("name: x\n"), 0o644)
	wrongMode := filepath.Join(dir, "y.json")
	os.WriteFile(wrongMode, []byte(`{"mode": "dream"}`), 0o644)
	good := write(t, &deploy.Summary{Mode: deploy.ModeSim})
	for _, tc := range []struct{ a, b, want string }{
		{good, filepath.Join(dir, "missing.json"), "no such file"},
		{notJSON, good, "not a summary.json"},
		{good, wrongMode, `mode: want "sim" or "hil", got "dream"`},
	} {
		_, err := Compare(tc.a, tc.b)
		if cli.ExitCode(err) != cli.ExitBadInput || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Compare(%s, %s): %v, want exit 2 and %q", tc.a, tc.b, err, tc.want)
		}
	}
}
