package compresscmd

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tandem-edge/tandem/bundles"
	"github.com/tandem-edge/tandem/bundles/build"
	"github.com/tandem-edge/tandem/cmd/tandem/internal/cli"
	"github.com/tandem-edge/tandem/dnn"
	"github.com/tandem-edge/tandem/dnn/data"
	"github.com/tandem-edge/tandem/dnn/onnx"
	"github.com/tandem-edge/tandem/hil/hiltest"
)

// tinyBundle builds a bundle of two small models on a noisy two-class
// 8x8 dataset written as CSV.
func tinyBundle(t *testing.T) string {
	t.Helper()
	rng := rand.New(rand.NewPCG(3, 4))
	var b strings.Builder
	for i := range 400 {
		label := i % 2
		fmt.Fprint(&b, label)
		for p := range 64 {
			v := rng.IntN(120)
			if (p < 32) == (label == 0) {
				v += 100
			}
			fmt.Fprintf(&b, ",%d", v)
		}
		b.WriteByte('\n')
	}
	csv := filepath.Join(t.TempDir(), "halves.csv")
	if err := os.WriteFile(csv, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "halves")
	spec := build.ModelSpec{Arch: "vgg", Width: 0.5, Seed: 1, Train: dnn.TrainConfig{Epochs: 2, BatchSize: 32, Seed: 1, CropPad: -1}}
	if _, err := build.Build(build.Config{Name: "halves", Dataset: csv, Split: data.DefaultSplit, Heavy: spec, Edge: spec, Command: "go test", Out: out}); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestRunWritesEdgeModelAndReport(t *testing.T) {
	hiltest.RequireORT(t)
	dir := tinyBundle(t)
	out := filepath.Join(t.TempDir(), "c")
	opts := &Options{Bundle: dir, Out: out, FLOPs: 0.3, Methods: "rl,uniform", Epochs: 1, Episodes: 5, Seed: 1, Device: "edge-cpu-1t", Measure: true,
		LR: 0.01, Distill: 0.9, Temperature: 4, Stdout: io.Discard, Stderr: io.Discard}
	if err := Run(opts); err != nil {
		t.Fatal(err)
	}
	g, err := onnx.ReadFile(filepath.Join(out, "edge.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(out, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Budget  map[string]any `json:"budget"`
		Methods []struct {
			Method                 string    `json:"method"`
			Params                 int64     `json:"params"`
			FLOPs                  int64     `json:"flops"`
			Accuracy               *float64  `json:"accuracy"`
			AccuracyBeforeFinetune *float64  `json:"accuracy_before_finetune"`
			Predicted              float64   `json:"latency_ms_predicted"`
			Measured               float64   `json:"latency_ms_measured"`
			Keep                   []float64 `json:"keep"`
		} `json:"methods"`
		Best string `json:"best"`
	}
	if err := json.Unmarshal(raw, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Methods) != 2 || rep.Budget["flops_fraction"] != 0.3 || g.Meta["compress_method"] != rep.Best {
		t.Fatalf("report.json %s; edge.onnx from %q", raw, g.Meta["compress_method"])
	}
	for _, m := range rep.Methods {
		if m.Accuracy == nil || m.AccuracyBeforeFinetune == nil || m.Predicted <= 0 || m.Measured <= 0 || len(m.Keep) == 0 {
			t.Errorf("method %+v", m)
		}
		if m.Method == rep.Best && m.Params != g.Params() {
			t.Errorf("edge.onnx has %d params, the best method %d", g.Params(), m.Params)
		}
	}
}

func TestRunBadInput(t *testing.T) {
	cases := []struct {
		name string
		opts Options
		want string
	}{
		{"no out", Options{FLOPs: 0.5}, "--out is required"},
		{"unknown method", Options{Out: "x", FLOPs: 0.5, Methods: "amc", Device: "edge-cpu-1t"}, `unknown method "amc"`},
		{"no budget", Options{Out: "x", Methods: "uniform", Device: "edge-cpu-1t"}, "no budget"},
		{"bad device", Options{Out: "x", FLOPs: 0.5, Methods: "uniform", Device: "pi9"}, `no built-in device profile "pi9"`},
		{"unknown bundle", Options{Out: "x", FLOPs: 0.5, Methods: "uniform", Device: "edge-cpu-1t", Bundle: "builtin:nope"}, `no built-in bundle "nope"`},
		{"target and budget", Options{Out: "x", FLOPs: 0.5, Target: "heavy-1", Methods: "uniform", Device: "edge-cpu-1t"}, "without --flops"},
		{"bad target", Options{Out: "x", Target: "high", Methods: "uniform", Device: "edge-cpu-1t"}, `--target-accuracy "high"`},
		{"target over 100%", Options{Out: "x", Target: "101%", Methods: "uniform", Device: "edge-cpu-1t"}, `--target-accuracy "101%"`},
		{"unknown resource", Options{Out: "x", Target: "0.9", Search: "energy", SearchSteps: 6, SearchMin: 0.01, Methods: "uniform", Device: "edge-cpu-1t"}, `--search "energy"`},
		{"no steps", Options{Out: "x", Target: "0.9", Search: "params", Methods: "uniform", Device: "edge-cpu-1t"}, "--search-steps 0"},
		{"distill weight", Options{Out: "x", FLOPs: 0.5, Distill: 2, Methods: "uniform", Device: "edge-cpu-1t"}, "--distill 2"},
		{"unknown critic", Options{Out: "x", FLOPs: 0.5, Methods: "rl", Critic: "twin", Device: "edge-cpu-1t"}, `--critic "twin"`},
		{"negative shortlist", Options{Out: "x", FLOPs: 0.5, Methods: "rl", Shortlist: -1, Device: "edge-cpu-1t"}, "--shortlist -1"},
		{"unknown shortlist reward", Options{Out: "x", FLOPs: 0.5, Methods: "rl", Shortlist: 3, ShortlistBy: "oracle", Device: "edge-cpu-1t"}, `--shortlist-reward "oracle"`},
		{"recipe reward for every episode", Options{Out: "x", FLOPs: 0.5, Methods: "rl", Reward: "recipe", Device: "edge-cpu-1t"}, `--reward "recipe"`},
		{"given without --keep", Options{Out: "x", FLOPs: 0.5, Methods: "given", Device: "edge-cpu-1t"}, "want both or neither"},
		{"--keep without given", Options{Out: "x", FLOPs: 0.5, Methods: "uniform", Keep: "0.5,0.5", Device: "edge-cpu-1t"}, "want both or neither"},
		{"--keep not a fraction", Options{Out: "x", FLOPs: 0.5, Methods: "given", Keep: "0.5,1.5", Device: "edge-cpu-1t"}, `fraction 2 is "1.5"`},
		{"--keep not a number", Options{Out: "x", FLOPs: 0.5, Methods: "given", Keep: "0.5,,0.2", Device: "edge-cpu-1t"}, `fraction 2 is ""`},
		{"negative shortlist epochs", Options{Out: "x", FLOPs: 0.5, Methods: "rl", Shortlist: 2, ShortlistBy: "recipe", ShortlistEpochs: -1, Epochs: 2, Device: "edge-cpu-1t"}, "--shortlist-epochs -1"},
		{"shortlist epochs without a shortlist", Options{Out: "x", FLOPs: 0.5, Methods: "rl", ShortlistEpochs: 1, Epochs: 2, Device: "edge-cpu-1t"}, "want --shortlist K with --shortlist-reward recipe"},
		{"shortlist epochs by another reward", Options{Out: "x", FLOPs: 0.5, Methods: "rl", Shortlist: 2, ShortlistBy: "ls", ShortlistEpochs: 1, Epochs: 2, Device: "edge-cpu-1t"}, "want --shortlist K with --shortlist-reward recipe"},
		{"recipe shortlist without fine-tuning", Options{Out: "x", FLOPs: 0.5, Methods: "rl", Shortlist: 2, ShortlistBy: "recipe", Device: "edge-cpu-1t"}, "--finetune-epochs 1 or more"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.Stdout, tc.opts.Stderr = io.Discard, io.Discard
			if tc.opts.Temperature == 0 {
				tc.opts.Temperature, tc.opts.LR = 4, 0.01
			}
			err := Run(&tc.opts)
			if cli.ExitCode(err) != cli.ExitBadInput || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Run: %v (exit %d), want exit %d and %q", err, cli.ExitCode(err), cli.ExitBadInput, tc.want)
			}
		})
	}
}

// runReport runs opts and returns the report.json it wrote.
func runReport(t *testing.T, opts *Options) []byte {
	t.Helper()
	if err := Run(opts); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(opts.Out, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// TestRunShortlistEpochs: --shortlist-epochs sets how long each
// shortlisted model is fine-tuned, and report.json says so.
func TestRunShortlistEpochs(t *testing.T) {
	dir := tinyBundle(t)
	for _, e := range []int{0, 1} {
		out := filepath.Join(t.TempDir(), "c")
		opts := &Options{Bundle: dir, Out: out, Params: 0.3, Methods: "rl", Epochs: 2, Episodes: 2, Shortlist: 2, ShortlistBy: "recipe", ShortlistEpochs: e,
			Seed: 1, Device: "edge-cpu-1t", LR: 0.01, Distill: 0.9, Temperature: 4, Stdout: io.Discard, Stderr: io.Discard}
		raw := runReport(t, opts)
		var rep struct {
			Methods []struct {
				Shortlist []struct {
					Epochs int `json:"epochs"`
				} `json:"shortlist"`
			} `json:"methods"`
		}
		if err := json.Unmarshal(raw, &rep); err != nil {
			t.Fatal(err)
		}
		want := cmp.Or(e, opts.Epochs)
		if len(rep.Methods) != 1 || len(rep.Methods[0].Shortlist) != 2 {
			t.Fatalf("--shortlist-epochs %d: report.json %s", e, raw)
		}
		for i, s := range rep.Methods[0].Shortlist {
			if s.Epochs != want {
				t.Errorf("--shortlist-epochs %d: shortlisted model %d fine-tuned %d epochs, want %d", e, i, s.Epochs, want)
			}
		}
	}
}

// TestRunKeepCountsGroups: --keep must give one fraction for each of the
// heavy model's layer groups, and says how many before any work.
func TestRunKeepCountsGroups(t *testing.T) {
	dir := tinyBundle(t)
	out := filepath.Join(t.TempDir(), "c")
	opts := &Options{Bundle: dir, Out: out, FLOPs: 0.5, Methods: "given", Keep: "0.5,0.5", Epochs: 1, Seed: 1, Device: "edge-cpu-1t",
		LR: 0.01, Distill: 0.9, Temperature: 4, Stdout: io.Discard, Stderr: io.Discard}
	err := Run(opts)
	if cli.ExitCode(err) != cli.ExitBadInput || !strings.Contains(err.Error(), "2 fractions for the heavy model's 4 layer groups") {
		t.Errorf("Run: %v (exit %d)", err, cli.ExitCode(err))
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("%s left behind: %v", out, err)
	}
}

func TestParseTarget(t *testing.T) {
	cases := []struct {
		in          string
		acc, drop   float64
		wantsFailed bool
	}{
		{"heavy", 0, 0.01, false},
		{"heavy-1", 0, 0.01, false},
		{"heavy-0.5", 0, 0.005, false},
		{"0.92", 0.92, 0, false},
		{"92.5%", 0.925, 0, false},
		{"1", 1, 0, false},
		{"heavy-", 0, 0, true},
		{"heavy-0", 0, 0, true},
		{"0", 0, 0, true},
		{"93", 0, 0, true},
		{"x%", 0, 0, true},
	}
	for _, c := range cases {
		got, err := parseTarget(c.in)
		if c.wantsFailed {
			if err == nil {
				t.Errorf("parseTarget(%q): no error", c.in)
			}
			continue
		}
		if err != nil || math.Abs(got.Accuracy-c.acc) > 1e-12 || math.Abs(got.Drop-c.drop) > 1e-12 {
			t.Errorf("parseTarget(%q) = %+v, %v; want accuracy %g drop %g", c.in, got, err, c.acc, c.drop)
		}
	}
}

func TestRunTargetWritesTheSearch(t *testing.T) {
	if testing.Short() {
		t.Skip("trains and fine-tunes several models: run without -short (make unit does)")
	}
	dir := tinyBundle(t)
	out := filepath.Join(t.TempDir(), "c")
	var stdout strings.Builder
	opts := &Options{Bundle: dir, Out: out, Target: "heavy-5", Search: "flops", SearchSteps: 2, SearchMin: 0.05, Methods: "uniform,l1",
		Epochs: 1, Seed: 1, Device: "edge-cpu-1t", LR: 0.01, Distill: 0.9, Temperature: 4, CachedTeacher: true, Stdout: &stdout, Stderr: io.Discard}
	raw := runReport(t, opts)
	var rep struct {
		Target *struct {
			Accuracy, HeavyValAccuracy float64
			Resource                   string
		} `json:"target"`
		Heavy   struct{ ValAccuracy float64 } `json:"heavy"`
		Methods []struct {
			Method  string            `json:"method"`
			Budget  float64           `json:"budget"`
			Reached *bool             `json:"reached"`
			Probes  []json.RawMessage `json:"probes"`
		} `json:"methods"`
		Finetune struct {
			Distill bool `json:"distill"`
			Cached  bool `json:"cached_teacher"`
		} `json:"finetune"`
	}
	if err := json.Unmarshal(raw, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Target == nil || rep.Target.Resource != "flops" || !rep.Finetune.Distill || !rep.Finetune.Cached || len(rep.Methods) != 2 {
		t.Fatalf("report.json %s", raw)
	}
	for _, m := range rep.Methods {
		if m.Reached == nil || len(m.Probes) == 0 || m.Budget <= 0 {
			t.Errorf("method %+v", m)
		}
	}
	if !strings.Contains(stdout.String(), "smallest model by flops reaching") {
		t.Errorf("the table does not say what was searched:\n%s", stdout.String())
	}
}

func TestRunRewards(t *testing.T) {
	if testing.Short() {
		t.Skip("trains and fine-tunes several models: run without -short (make unit does)")
	}
	dir := tinyBundle(t)
	out := filepath.Join(t.TempDir(), "r")
	var stdout strings.Builder
	opts := &RewardsOptions{Bundle: dir, Out: out, FLOPs: 0.3, Models: 3, Rewards: "bn,finetune", Epochs: 1, LR: 0.01, Distill: 0.9, Temperature: 4, Seed: 1,
		CachedTeacher: true, Stdout: &stdout, Stderr: io.Discard}
	if err := RunRewards(opts); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(out, "rewards.json"))
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		Rewards []struct{ Reward string } `json:"rewards"`
		Sampled []json.RawMessage         `json:"sampled"`
	}
	if err := json.Unmarshal(raw, &st); err != nil {
		t.Fatal(err)
	}
	if len(st.Rewards) != 2 || len(st.Sampled) != 3 || !strings.Contains(stdout.String(), "Spearman") {
		t.Errorf("rewards.json %s\nprinted %s", raw, stdout.String())
	}
	for _, bad := range []struct {
		opts RewardsOptions
		want string
	}{
		{RewardsOptions{FLOPs: 0.3}, "--out is required"},
		{RewardsOptions{Out: "x", FLOPs: 0.3, Rewards: "luck", Models: 3, Epochs: 1}, `unknown reward "luck"`},
		{RewardsOptions{Out: "x", FLOPs: 0.3, Rewards: "bn", Models: 2, Epochs: 1}, "--models 2"},
		{RewardsOptions{Out: "x", FLOPs: 0.3, Rewards: "bn", Models: 3, Epochs: 1, LR: 0.01, Temperature: 4, Multiple: -8}, "--channel-multiple -8"},
		{RewardsOptions{Out: "x", Rewards: "bn", Models: 3, Epochs: 1, LR: 0.01, Temperature: 4}, "no budget"},
	} {
		bad.opts.Stdout, bad.opts.Stderr = io.Discard, io.Discard
		if err := RunRewards(&bad.opts); cli.ExitCode(err) != cli.ExitBadInput || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("RunRewards(%+v): %v, want exit 2 and %q", bad.opts, err, bad.want)
		}
	}
}

func TestRunDeploymentObjective(t *testing.T) {
	if testing.Short() {
		t.Skip("trains and fine-tunes several models: run without -short (make unit does)")
	}
	dir := tinyBundle(t)
	scenario := filepath.Join(t.TempDir(), "s.yaml")
	yaml := fmt.Sprintf(`name: tiny
seed: 1
requests: 400
bundle: %s
workload: {arrival: poisson, rate: 20}
edge: {count: 2, device: edge-cpu-1t}
link: {uplink_mbps: 10, rtt: 20ms}
cloud: {servers: 1, device: server-cpu, service: {dist: deterministic, mean: 1ms}}
policy: {kind: cloud-only}
`, dir)
	if err := os.WriteFile(scenario, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "c")
	var stdout strings.Builder
	opts := &Options{Bundle: dir, Out: out, FLOPs: 0.3, Methods: "rl,uniform", Epochs: 1, Episodes: 3, Seed: 1, Device: "edge-cpu-1t",
		Objective: "deployment", Scenario: scenario, SLO: "mean", LR: 0.01, Distill: 0.9, Temperature: 4, Stdout: &stdout, Stderr: io.Discard}
	raw := runReport(t, opts)
	type result struct {
		Threshold   float64                `json:"threshold"`
		OffloadRate float64                `json:"offload_rate"`
		Reduction   float64                `json:"reduction"`
		ValRed      float64                `json:"val_reduction"`
		LatencyMS   struct{ Mean float64 } `json:"latency_ms"`
	}
	var rep struct {
		Deployment struct {
			CloudOnly *result `json:"cloud_only"`
			Reference *result `json:"reference"`
		} `json:"deployment"`
		Methods []struct {
			Method     string  `json:"method"`
			Deployment *result `json:"deployment"`
		} `json:"methods"`
		Best string `json:"best"`
	}
	if err := json.Unmarshal(raw, &rep); err != nil {
		t.Fatal(err)
	}
	d := rep.Deployment
	if d.CloudOnly == nil || d.Reference == nil || d.CloudOnly.LatencyMS.Mean < 20 || d.CloudOnly.OffloadRate != 1 {
		t.Fatalf("report.json %s", raw)
	}
	for _, m := range rep.Methods {
		r := m.Deployment
		if r == nil || r.LatencyMS.Mean <= 0 || r.Threshold < 0 || r.Threshold > 1 {
			t.Fatalf("%s: deployment %+v", m.Method, r)
		}
		// The reduction is against cloud-only's mean.
		if want := 1 - r.LatencyMS.Mean/d.CloudOnly.LatencyMS.Mean; math.Abs(r.Reduction-want) > 1e-9 {
			t.Errorf("%s: reduction %v, want %v", m.Method, r.Reduction, want)
		}
	}
	if !strings.Contains(stdout.String(), "below cloud-only") {
		t.Errorf("no deployment table:\n%s", stdout.String())
	}
	// The written model is the one whose deployment is fastest on validation.
	for _, m := range rep.Methods {
		for _, o := range rep.Methods {
			if o.Method == rep.Best && m.Deployment.ValRed > o.Deployment.ValRed {
				t.Errorf("%s deploys faster on validation (%.4f) than the chosen %s (%.4f)", m.Method, m.Deployment.ValRed, o.Method, o.Deployment.ValRed)
			}
		}
	}
	opts.SLO = "p42"
	if err := Run(opts); cli.ExitCode(err) != cli.ExitBadInput || !strings.Contains(err.Error(), `--slo "p42"`) {
		t.Errorf("--slo p42: %v", err)
	}
	opts.SLO, opts.Confidence = "mean", 0.3
	if err := Run(opts); cli.ExitCode(err) != cli.ExitBadInput || !strings.Contains(err.Error(), "--confidence 0.3") {
		t.Errorf("--confidence 0.3: %v", err)
	}
}

// TestCompressedBundleNamesItsArchitecture compresses a bundle's heavy model
// from its file, bundles the result with its report, and checks that the
// new bundle's provenance rebuilds the edge model's exact architecture.
func TestCompressedBundleNamesItsArchitecture(t *testing.T) {
	if testing.Short() {
		t.Skip("trains and fine-tunes several models: run without -short (make unit does)")
	}
	dir := tinyBundle(t)
	src, err := bundles.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	csv := src.Dataset // the CSV the bundle was built from
	out := filepath.Join(t.TempDir(), "c")
	heavyFile := filepath.Join(dir, "heavy.onnx")
	opts := &Options{Heavy: heavyFile, Dataset: csv, Out: out, FLOPs: 0.3, Methods: "uniform,l1", Epochs: 1, Seed: 1, Device: "edge-cpu-1t",
		LR: 0.01, Distill: 0.9, Temperature: 4, Command: "tandem compress (test)", Stdout: io.Discard, Stderr: io.Discard}
	if err := Run(opts); err != nil {
		t.Fatal(err)
	}
	report, err := os.ReadFile(filepath.Join(out, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	bundleDir := filepath.Join(t.TempDir(), "pruned")
	cfg := build.Config{Name: "pruned", Dataset: csv, Split: data.DefaultSplit, Heavy: build.ModelSpec{File: heavyFile},
		Edge: build.ModelSpec{File: filepath.Join(out, "edge.onnx")}, CompressReport: report, Command: "go test", Out: bundleDir}
	if _, err := build.Build(cfg); err != nil {
		t.Fatal(err)
	}
	b, err := bundles.Load(bundleDir)
	if err != nil {
		t.Fatal(err)
	}
	c, ok := b.Provenance["compress"].(map[string]any)
	if !ok || c["command"] != "tandem compress (test)" || !b.Has(bundles.CompressReportFile) {
		t.Fatalf("provenance %v", b.Provenance)
	}
	for _, which := range []string{bundles.ModelHeavy, bundles.ModelEdge} {
		built, err := build.Architecture(b, which)
		if err != nil {
			t.Fatalf("%s: %v", which, err)
		}
		raw, _ := b.ReadModel(which)
		shipped, err := onnx.Decode(raw)
		if err != nil {
			t.Fatal(err)
		}
		if shipped.Params() != built.Params() || len(shipped.Nodes) != len(built.Nodes) {
			t.Errorf("%s: shipped %d params in %d nodes, provenance rebuilds %d in %d", which, shipped.Params(), len(shipped.Nodes), built.Params(), len(built.Nodes))
		}
	}
	// A report of another compression is refused.
	var rep map[string]any
	if err := json.Unmarshal(report, &rep); err != nil {
		t.Fatal(err)
	}
	rep["best"] = "random"
	cfg.CompressReport, _ = json.Marshal(rep)
	cfg.Out = filepath.Join(t.TempDir(), "wrong")
	if _, err := build.Build(cfg); err == nil || !strings.Contains(err.Error(), `its chosen method is "random"`) {
		t.Errorf("a report of another method: %v", err)
	}
}
