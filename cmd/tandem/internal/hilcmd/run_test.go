package hilcmd

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tandem-edge/tandem/cmd/tandem/internal/cli"
	"github.com/tandem-edge/tandem/cmd/tandem/internal/simcmd"
	"github.com/tandem-edge/tandem/dnn/data"
	"github.com/tandem-edge/tandem/dnn/data/datatest"
	"github.com/tandem-edge/tandem/hil/hiltest"
)

// TestRunMatchesSim runs builtin:default for real and checks, request by
// request, that it made the simulator's requests and decisions and got the
// answers the bundle's outcomes say the models give.
func TestRunMatchesSim(t *testing.T) {
	hiltest.RequireORT(t)
	datatest.Load(t, data.FashionMNIST)
	if testing.Short() {
		t.Skip("a second of real time and all of Fashion-MNIST")
	}
	dir := t.TempDir()
	hilOut, simOut := filepath.Join(dir, "hil"), filepath.Join(dir, "sim")
	var stdout, stderr bytes.Buffer
	err := Run(context.Background(), &RunOptions{Scenario: "builtin:default", Requests: 150, Out: hilOut, Model: "heavy", Stdout: &stdout, Stderr: &stderr})
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	if err := simcmd.Run(&simcmd.Options{Scenario: "builtin:default", Requests: 150, Out: simOut, Stdout: io.Discard}); err != nil {
		t.Fatal(err)
	}
	hilRows, simRows := readCSV(t, filepath.Join(hilOut, "requests.csv")), readCSV(t, filepath.Join(simOut, "requests.csv"))
	if len(hilRows) != 150 || len(simRows) != 150 {
		t.Fatalf("%d hil rows, %d sim rows, want 150 each", len(hilRows), len(simRows))
	}
	for id, s := range simRows {
		h := hilRows[id]
		for _, col := range []string{"device", "sample", "arrival_ms", "decision", "correct", "status"} {
			if h[col] != s[col] {
				t.Errorf("request %s: %s %s in hil, %s in sim", id, col, h[col], s[col])
			}
		}
	}
	var sum struct {
		Mode      string `json:"mode"`
		Completed int    `json:"completed"`
	}
	raw, err := os.ReadFile(filepath.Join(hilOut, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &sum); err != nil || sum.Mode != "hil" || sum.Completed != 150 {
		t.Errorf("summary.json: %s (%v)", raw, err)
	}
}

// readCSV reads requests.csv into rows keyed by id.
func readCSV(t *testing.T, path string) map[string]map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]map[string]string{}
	for _, r := range recs[1:] {
		row := map[string]string{}
		for i, col := range recs[0] {
			row[col] = r[i]
		}
		rows[row["id"]] = row
	}
	return rows
}

func TestRunBadInput(t *testing.T) {
	cases := []struct {
		name string
		opts RunOptions
		want string
	}{
		{"no out", RunOptions{Scenario: "builtin:default"}, "--out is required"},
		{"unknown scenario", RunOptions{Scenario: "builtin:nope", Out: "x"}, `no built-in scenario "nope"`},
		{"too many devices", RunOptions{Scenario: "builtin:many-devices", Out: "x"}, "at most 64"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.Stdout, tc.opts.Stderr = io.Discard, io.Discard
			err := Run(context.Background(), &tc.opts)
			if cli.ExitCode(err) != cli.ExitBadInput || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Run: %v (exit %d), want exit %d and %q", err, cli.ExitCode(err), cli.ExitBadInput, tc.want)
			}
		})
	}
}
