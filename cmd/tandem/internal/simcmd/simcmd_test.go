package simcmd

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/tandem-edge/tandem/bundles"
	"github.com/tandem-edge/tandem/cmd/tandem/internal/cli"
	"github.com/tandem-edge/tandem/deploy"
	"github.com/tandem-edge/tandem/report"
	"github.com/tandem-edge/tandem/scenarios"
	"github.com/tandem-edge/tandem/sim"
)

// writeBundle writes a three-class bundle with fixed outcomes: the edge
// model right on samples 0-5, the heavy model on 0-8, of 10.
func writeBundle(t *testing.T, dir string) {
	t.Helper()
	model := []byte("placeholder model bytes; the simulator never reads them")
	sum := sha256.Sum256(model)
	m := &bundles.Manifest{Name: "tiny", Dataset: "synthetic", InputShape: []int{1, 4, 4}, Classes: 3,
		Models: bundles.Models{
			Heavy: bundles.ModelInfo{File: "heavy.onnx", SHA256: hex.EncodeToString(sum[:]), Params: 10, FLOPs: 100, Accuracy: 0.9},
			Edge:  bundles.ModelInfo{File: "edge.onnx", SHA256: hex.EncodeToString(sum[:]), Params: 5, FLOPs: 50, Accuracy: 0.6},
		}}
	var outcomes []bundles.Outcome
	for i := range 10 {
		o := bundles.Outcome{Sample: i, Label: i % 3, EdgePred: i % 3, CloudPred: i % 3,
			MaxProb: 0.5 + 0.05*float64(i), Margin: 0.1, Entropy: 0.5, Logits: []float32{1, 0, -1}}
		if i >= 6 {
			o.EdgePred = (i + 1) % 3
		}
		if i >= 9 {
			o.CloudPred = (i + 1) % 3
		}
		outcomes = append(outcomes, o)
	}
	mb, err := bundles.EncodeManifest(m)
	if err != nil {
		t.Fatal(err)
	}
	var ob bytes.Buffer
	if err := bundles.WriteOutcomes(&ob, outcomes); err != nil {
		t.Fatal(err)
	}
	profile := "name: box\nsource: written by the test\nmodels:\n  - {name: tiny/edge, sha256: " + hex.EncodeToString(sum[:]) + ", latency: 4ms, spread: 0.1}\n"
	if err := os.WriteFile(filepath.Join(dir, "..", "box.yaml"), []byte(profile), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{bundles.ManifestFile: mb, bundles.OutcomesFile: ob.Bytes(), "heavy.onnx": model, "edge.onnx": model} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

const scenario = `name: tiny
seed: 3
requests: 2000
bundle: bundle
workload: {arrival: poisson, rate: 20}
edge: {count: 4, device: box.yaml}
link: {uplink_mbps: 8, rtt: 10ms}
cloud:
  servers: 2
  device: box.yaml
  service: {dist: lognormal, mean: 5ms, cv: 0.5}
policy: {kind: threshold, feature: max_prob, threshold: 0.7}
`

func setup(t *testing.T) (dir, file string) {
	t.Helper()
	dir = t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "bundle"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeBundle(t, filepath.Join(dir, "bundle"))
	file = filepath.Join(dir, "tiny.yaml")
	if err := os.WriteFile(file, []byte(scenario), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, file
}

func TestRunWritesOutputs(t *testing.T) {
	dir, file := setup(t)
	var runs [2][2][]byte
	for i := range runs {
		out := filepath.Join(dir, "out", string(rune('a'+i)))
		var stdout bytes.Buffer
		if err := Run(&Options{Scenario: file, Out: out, Stdout: &stdout}); err != nil {
			t.Fatal(err)
		}
		for j, name := range []string{"summary.json", "requests.csv"} {
			b, err := os.ReadFile(filepath.Join(out, name))
			if err != nil {
				t.Fatal(err)
			}
			runs[i][j] = b
		}
		if !strings.Contains(stdout.String(), "offload rate") {
			t.Errorf("table lacks the offload rate:\n%s", stdout.String())
		}
	}
	var s [2]deploy.Summary
	for i := range s {
		if err := json.Unmarshal(runs[i][0], &s[i]); err != nil {
			t.Fatal(err)
		}
		s[i].WallSeconds = 0
	}
	if !reflect.DeepEqual(s[0], s[1]) {
		t.Errorf("summaries differ:\n%+v\n%+v", s[0], s[1])
	}
	if !bytes.Equal(runs[0][1], runs[1][1]) {
		t.Error("requests.csv differs between two runs of one seed")
	}
	if s[0].Requests != 2000 || s[0].Completed != 2000 || s[0].Mode != "sim" {
		t.Errorf("summary %+v: want 2000 requests completed in mode sim", s[0])
	}
	// Samples 0-5 (max_prob < 0.7 for 0-3) decide the offload rate and
	// accuracy: both must lie strictly between the all-edge and all-cloud runs.
	if s[0].OffloadRate <= 0 || s[0].OffloadRate >= 1 {
		t.Errorf("offload rate %g, want strictly between 0 and 1", s[0].OffloadRate)
	}
	lines := bytes.Count(runs[0][1], []byte("\n"))
	if lines != 2001 {
		t.Errorf("requests.csv has %d lines, want a header and 2000 rows", lines)
	}
}

func TestRunFlagsOverride(t *testing.T) {
	_, file := setup(t)
	var a, b bytes.Buffer
	if err := Run(&Options{Scenario: file, Requests: 500, JSON: true, Stdout: &a}); err != nil {
		t.Fatal(err)
	}
	if err := Run(&Options{Scenario: file, Requests: 500, Seed: 4, SeedSet: true, JSON: true, Stdout: &b}); err != nil {
		t.Fatal(err)
	}
	var sa, sb deploy.Summary
	if err := json.Unmarshal(a.Bytes(), &sa); err != nil {
		t.Fatalf("--json printed %q: %v", a.String(), err)
	}
	if err := json.Unmarshal(b.Bytes(), &sb); err != nil {
		t.Fatal(err)
	}
	if sa.Requests != 500 || sa.Seed != 3 || sb.Seed != 4 {
		t.Errorf("requests %d seed %d / seed %d: want 500 requests, seeds 3 and 4", sa.Requests, sa.Seed, sb.Seed)
	}
	if sa.LatencyMS == sb.LatencyMS {
		t.Error("another seed gave the same latencies")
	}
}

func TestBadInputLeavesNothing(t *testing.T) {
	dir, file := setup(t)
	good, _ := os.ReadFile(file)
	tests := []struct {
		name, yaml, want string
	}{
		{"unknown key", strings.Replace(string(good), "seed: 3", "seed: 3\nsede: 4", 1), "sede"},
		{"negative rate", strings.Replace(string(good), "rate: 20", "rate: -2", 1), "workload.rate"},
		{"missing bundle", strings.Replace(string(good), "bundle: bundle", "bundle: nowhere", 1), "nowhere"},
		{"bad duration", strings.Replace(string(good), "rtt: 10ms", "rtt: 10", 1), "link.rtt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bad := filepath.Join(dir, "bad.yaml")
			if err := os.WriteFile(bad, []byte(tt.yaml), 0o644); err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(dir, "out-"+strings.ReplaceAll(tt.name, " ", "-"))
			err := Run(&Options{Scenario: bad, Out: out, Stdout: io.Discard})
			if cli.ExitCode(err) != cli.ExitBadInput {
				t.Fatalf("exit status %d (%v), want %d", cli.ExitCode(err), err, cli.ExitBadInput)
			}
			if msg := err.Error(); !strings.Contains(msg, tt.want) || !strings.Contains(msg, "bad.yaml") {
				t.Errorf("error %q does not name the file and %q", msg, tt.want)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("%s exists after a failed run", out)
			}
		})
	}
}

func TestFlags(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		want     Options
		wantExit int
	}{
		{"none", nil, Options{Scenario: "builtin:default", Baselines: true}, 0},
		{"all", []string{"mine.yaml", "--out", "o", "--requests", "9", "--seed", "0", "--json", "--baselines=false"},
			Options{Scenario: "mine.yaml", Out: "o", Requests: 9, SeedSet: true, JSON: true}, 0},
		{"two scenarios", []string{"a.yaml", "b.yaml"}, Options{}, cli.ExitBadInput},
		{"negative requests", []string{"--requests", "-1"}, Options{}, cli.ExitBadInput},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got Options
			cmd := newCmd(func(o *Options) error { got = *o; return nil })
			cmd.SetArgs(tt.args)
			cmd.SetOut(io.Discard)
			cmd.SetErr(io.Discard)
			err := cmd.Execute()
			if code := cli.ExitCode(err); code != tt.wantExit {
				t.Fatalf("exit %d (%v), want %d", code, err, tt.wantExit)
			}
			if tt.wantExit != 0 {
				return
			}
			got.Stdout = nil
			if got != tt.want {
				t.Errorf("options %+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestConfigGivesEachDeviceItsLink checks that the simulator gets each
// device's own phase of a trace link, not one link shared in lockstep.
func TestConfigGivesEachDeviceItsLink(t *testing.T) {
	dir, file := setup(t)
	trace := filepath.Join(dir, "cell.csv")
	if err := os.WriteFile(trace, []byte("seconds,mbps\n0,8\n5,1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	y := strings.Replace(scenario, "link: {uplink_mbps: 8, rtt: 10ms}", "link: {trace: cell.csv, rtt: 10ms}", 1)
	if err := os.WriteFile(file, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := scenarios.LoadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	in, err := scenarios.Resolve(s)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := sim.ConfigFor(in)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for i := range s.Edge[0].Count {
		up, down := cfg.Uplink(i), cfg.Downlink(i)
		if want, _ := in.DeviceLinks(i); up.Name() != want.Name() || down.Name() != want.Name() {
			t.Errorf("device %d: links %s / %s, want %s both ways", i, up.Name(), down.Name(), want.Name())
		}
		names[up.Name()] = true
	}
	if len(names) != s.Edge[0].Count {
		t.Errorf("%d devices share %d link phases: %v", s.Edge[0].Count, len(names), names)
	}
}

// Every scenario the documentation ships simulates as it is, and the one
// with cited power figures reports its energy.
func TestDocumentedScenariosRun(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "..", "..", "docs", "*", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no documented scenarios (%v)", err)
	}
	ran := 0
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(b, []byte("\nbundle:")) {
			continue // a device profile
		}
		ran++
		t.Run(filepath.Base(file), func(t *testing.T) {
			var stdout bytes.Buffer
			if err := Run(&Options{Scenario: file, Requests: 300, JSON: true, Baselines: true, Stdout: &stdout}); err != nil {
				t.Fatal(err)
			}
			var s deploy.Summary
			if err := json.Unmarshal(stdout.Bytes(), &s); err != nil {
				t.Fatal(err)
			}
			if s.Completed+s.Failed != 300 {
				t.Errorf("%d completed and %d failed of 300", s.Completed, s.Failed)
			}
			energy := s.Energy
			for _, g := range s.Groups {
				if g.Energy != nil {
					energy = g.Energy
				}
			}
			if strings.Contains(string(b), "power:") != (energy != nil) {
				t.Errorf("energy %+v for a scenario with power figures %v", energy, strings.Contains(string(b), "power:"))
			}
			if energy != nil && !(energy.PerRequestMJ > 0 && energy.BatteryHours > 0) {
				t.Errorf("energy %+v", energy)
			}
			if strings.Contains(string(b), "\n  - ") != (len(s.Groups) > 1) {
				t.Errorf("%d groups in the summary", len(s.Groups))
			}
		})
	}
	if ran < 5 {
		t.Errorf("%d documented scenarios, want the fidelity matrix's and the examples", ran)
	}
}

// The run is set beside cloud-only and edge-only on the very requests it
// answered: each baseline is the run a scenario with that policy gives,
// and the paired difference is the run's accuracy less the baseline's.
func TestRunSetsTheRunBesideItsBaselines(t *testing.T) {
	dir, file := setup(t)
	out := filepath.Join(dir, "out")
	var stdout bytes.Buffer
	if err := Run(&Options{Scenario: file, Out: out, Baselines: true, Stdout: &stdout}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"beside the trivial policies", "against cloud-only: mean latency", "against edge-only", "baselines.json"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, stdout.String())
		}
	}
	read := func(path string, v any) {
		t.Helper()
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatal(err)
		}
	}
	var run deploy.Summary
	var base report.Baselines
	read(filepath.Join(out, "summary.json"), &run)
	read(filepath.Join(out, report.BaselinesFile), &base)
	if base.Policy != scenarios.PolicyThreshold || len(base.Baselines) != 2 || len(base.Notes) != 0 {
		t.Fatalf("baselines %+v", base)
	}
	for i, kind := range []string{scenarios.PolicyCloudOnly, scenarios.PolicyEdgeOnly} {
		bl := base.Baselines[i]
		if bl.Policy != kind || bl.Paired == nil {
			t.Fatalf("baseline %d: %s, paired %v", i, bl.Policy, bl.Paired)
		}
		// The same scenario with the baseline's policy, run on its own.
		y := strings.Replace(scenario, "policy: {kind: threshold, feature: max_prob, threshold: 0.7}", "policy: {kind: "+kind+"}", 1)
		alone := filepath.Join(dir, kind+".yaml")
		if err := os.WriteFile(alone, []byte(y), 0o644); err != nil {
			t.Fatal(err)
		}
		var js bytes.Buffer
		if err := Run(&Options{Scenario: alone, JSON: true, Stdout: &js}); err != nil {
			t.Fatal(err)
		}
		var want deploy.Summary
		if err := json.Unmarshal(js.Bytes(), &want); err != nil {
			t.Fatal(err)
		}
		got := *bl.Summary
		got.WallSeconds, want.WallSeconds = 0, 0
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s baseline %+v, want the scenario's own run %+v", kind, got, want)
		}
		p := bl.Paired
		// The run keeps samples 6-8 on the device, which only the cloud
		// gets right; it offloads 0-3, which both get right.
		if p.Requests != 2000 || (kind == scenarios.PolicyCloudOnly) != (p.AOnly > 0) || p.BOnly != 0 {
			t.Errorf("%s: paired %+v: want 2000 requests, the cloud alone right on some", kind, p)
		}
		if d := run.AccuracyOverRequests - got.AccuracyOverRequests; math.Abs(p.Difference-d) > 1e-12 || !(p.DifferenceLow <= d && d <= p.DifferenceHigh) {
			t.Errorf("%s: difference %g [%g, %g], want %g inside", kind, p.Difference, p.DifferenceLow, p.DifferenceHigh, d)
		}
	}
}
