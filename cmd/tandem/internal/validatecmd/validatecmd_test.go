package validatecmd

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tandem-edge/tandem/cmd/tandem/internal/cli"
	"github.com/tandem-edge/tandem/deploy"
	"github.com/tandem-edge/tandem/dnn/data"
	"github.com/tandem-edge/tandem/dnn/data/datatest"
	"github.com/tandem-edge/tandem/hil/hiltest"
)

// TestValidateDefault validates builtin:default end to end on a few
// requests: a simulation and two real runs, every file written, and a bound
// no real run can keep to, which exits with status 3 once all is written.
func TestValidateDefault(t *testing.T) {
	hiltest.RequireORT(t)
	datatest.Load(t, data.FashionMNIST)
	if testing.Short() {
		t.Skip("two real runs and all of Fashion-MNIST")
	}
	const requests, runs = 40, 2
	out := filepath.Join(t.TempDir(), "out")
	var stdout, stderr bytes.Buffer
	cmd := newCmd(Run)
	cmd.SetArgs([]string{"builtin:default", "--requests", "40", "--runs", "2", "--max-error", "1e-12", "--out", out})
	cmd.SetOut(&stdout)
	cmd.SetErr(&stderr)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.Execute()
	var bound *cli.BoundError
	if !errors.As(err, &bound) || cli.ExitCode(err) != cli.ExitTooManyFailed {
		t.Fatalf("err %v (exit %d), want a missed bound (exit 3)\n%s", err, cli.ExitCode(err), stderr.String())
	}
	if !strings.Contains(err.Error(), "default: latency_") {
		t.Errorf("error %q names no scenario and metric", err)
	}
	for _, want := range []string{"validate: default: hil run 2/2", "40 of 40 requests ended"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
		}
	}
	if !strings.Contains(stdout.String(), "| default |") {
		t.Errorf("stdout has no summary row for default:\n%s", stdout.String())
	}

	for _, run := range []string{"sim", "hil-1", "hil-2"} {
		var sum deploy.Summary
		readJSON(t, filepath.Join(out, "default", run, "summary.json"), &sum)
		if sum.Requests != requests || sum.Completed+sum.Failed != sum.Requests {
			t.Errorf("%s: %d requests, %d completed, %d failed: want %d = completed + failed", run, sum.Requests, sum.Completed, sum.Failed, requests)
		}
		rows := readCSV(t, filepath.Join(out, "default", run, "requests.csv"))
		if len(rows) != requests+1 || rows[0][0] != "id" {
			t.Errorf("%s/requests.csv: %d lines, want a header and %d rows", run, len(rows), requests)
		}
	}
	md, err := os.ReadFile(filepath.Join(out, "fidelity.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"(sim − hil) / hil", "## default", "| accuracy |", "| uplink_ms |", "Rerun: `tandem validate builtin:default"} {
		if !bytes.Contains(md, []byte(want)) {
			t.Errorf("fidelity.md lacks %q:\n%s", want, md)
		}
	}

	var rep struct {
		RelError  string  `json:"rel_error"`
		MaxError  float64 `json:"max_error"`
		Runs      int     `json:"runs"`
		Scenarios []struct {
			Scenario string `json:"scenario"`
			Requests int64  `json:"requests"`
			Runs     []struct {
				Run       string `json:"run"`
				Requests  int64  `json:"requests"`
				Completed int64  `json:"completed"`
				Failed    int64  `json:"failed"`
			} `json:"runs"`
			Metrics []struct {
				Metric    string    `json:"metric"`
				Sim       float64   `json:"sim"`
				HIL       float64   `json:"hil"`
				HILRuns   []float64 `json:"hil_runs"`
				Identical *bool     `json:"identical"`
			} `json:"metrics"`
			Stages []struct {
				Metric string `json:"metric"`
			} `json:"stages"`
			Summary struct {
				Within *bool `json:"within"`
			} `json:"summary"`
		} `json:"scenarios"`
	}
	readJSON(t, filepath.Join(out, "fidelity.json"), &rep)
	if rep.RelError == "" || rep.Runs != runs || rep.MaxError != 1e-12 || len(rep.Scenarios) != 1 {
		t.Fatalf("fidelity.json: %+v", rep)
	}
	sc := rep.Scenarios[0]
	if sc.Scenario != "default" || sc.Requests != requests || len(sc.Runs) != 1+runs || len(sc.Metrics) == 0 || len(sc.Stages) == 0 {
		t.Fatalf("fidelity.json's scenario: %+v", sc)
	}
	for _, r := range sc.Runs {
		if r.Requests != requests || r.Completed+r.Failed != r.Requests {
			t.Errorf("run %s: %d completed + %d failed, want %d", r.Run, r.Completed, r.Failed, requests)
		}
	}
	for _, m := range sc.Metrics {
		if len(m.HILRuns) != runs {
			t.Errorf("%s: %d real runs' values, want %d", m.Metric, len(m.HILRuns), runs)
		}
		if m.Metric == "accuracy" && (m.Identical == nil || !*m.Identical) {
			t.Errorf("accuracy: sim %g, hil runs %v: want identical", m.Sim, m.HILRuns)
		}
	}
	if sc.Summary.Within == nil || *sc.Summary.Within {
		t.Errorf("summary within %v, want false under a bound of 1e-12", sc.Summary.Within)
	}
}

// TestBadInput checks that bad flags and scenarios exit with status 2, with
// one line, before any run and without leaving the output folder behind.
func TestBadInput(t *testing.T) {
	huge := filepath.Join(t.TempDir(), "huge.yaml")
	if err := os.WriteFile(huge, []byte("name: huge\nrequests: 10\nbundle: builtin:fashion\nworkload: {rate: 1}\nedge: {count: 20000, device: edge-cpu-1t}\nlink: {uplink_mbps: 10, rtt: 20ms}\ncloud: {servers: 1, device: server-cpu}\npolicy: {kind: cloud-only}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string // --out DIR follows, unless the name is "no --out"
		want string
	}{
		{"no scenario", []string{}, "at least one SCENARIO"},
		{"no --out", []string{"builtin:default"}, "--out is required"},
		{"negative runs", []string{"builtin:default", "--runs", "-1"}, "--runs -1"},
		{"no runs", []string{"builtin:default", "--runs", "0"}, "--runs 0"},
		{"negative requests", []string{"builtin:default", "--requests", "-5"}, "--requests -5"},
		{"bad protocol", []string{"builtin:default", "--protocol", "grpc"}, `--protocol "grpc"`},
		{"negative bound", []string{"builtin:default", "--max-error", "-0.1"}, "--max-error -0.1"},
		{"bad shaper", []string{"builtin:default", "--shaper", "netem"}, `--shaper "netem": want process or kernel`},
		{"no profiles folder", []string{"builtin:default", "--profiles", "/nowhere"}, "--profiles /nowhere: not a folder of profiles"},
		{"unknown builtin", []string{"builtin:default", "builtin:nope"}, "nope"},
		{"too many devices", []string{huge}, "at most 10000"},
		{"a scenario twice", []string{"builtin:default", "builtin:default"}, `both named "default"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			cmd := newCmd(Run)
			args := slices.Clone(tc.args)
			if tc.name != "no --out" {
				args = append(args, "--out", out)
			}
			cmd.SetArgs(args)
			var stdout, stderr bytes.Buffer
			cmd.SetOut(&stdout)
			cmd.SetErr(&stderr)
			cmd.SilenceUsage, cmd.SilenceErrors = true, true
			err := cmd.Execute()
			if cli.ExitCode(err) != cli.ExitBadInput {
				t.Fatalf("err %v: exit %d, want %d", err, cli.ExitCode(err), cli.ExitBadInput)
			}
			if msg := err.Error(); !strings.Contains(msg, tc.want) || strings.Contains(msg, "\n") {
				t.Errorf("error %q: want one line holding %q", msg, tc.want)
			}
			if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%s left behind (%v)", out, err)
			}
		})
	}
}

// TestFlags checks that flags reach the options, with their defaults.
func TestFlags(t *testing.T) {
	var got *Options
	cmd := newCmd(func(_ context.Context, o *Options) error { got = o; return nil })
	cmd.SetArgs([]string{"a.yaml", "builtin:b", "--out", "d", "--seed", "0", "--protocol", "json", "--shaper", "kernel", "--max-error", "0.05"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if len(got.Scenarios) != 2 || got.Out != "d" || got.Runs != 3 || !got.SeedSet || got.Seed != 0 || got.Protocol != "json" || got.Shaper != "kernel" || got.MaxError != 0.05 {
		t.Errorf("options %+v", got)
	}
	if want := "tandem validate a.yaml builtin:b --runs 3 --seed 0 --protocol json --shaper kernel --max-error 0.05 --out d"; got.command() != want {
		t.Errorf("command %q\nwant    %q", got.command(), want)
	}
	got.Out = "my results"
	if c := got.command(); !strings.HasSuffix(c, "--out 'my results'") {
		t.Errorf("command %q: want the folder quoted", c)
	}
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return rows
}
