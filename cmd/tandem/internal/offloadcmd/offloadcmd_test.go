package offloadcmd

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tandem-edge/tandem/agents/offload"
	"github.com/tandem-edge/tandem/bundles"
	"github.com/tandem-edge/tandem/bundles/build"
	"github.com/tandem-edge/tandem/cmd/tandem/internal/cli"
	"github.com/tandem-edge/tandem/cmd/tandem/internal/simcmd"
	"github.com/tandem-edge/tandem/dnn"
	"github.com/tandem-edge/tandem/dnn/data"
	"github.com/tandem-edge/tandem/dnn/data/datatest"
)

// buildBundle builds a small bundle whose edge model is much weaker than its
// heavy one, so that there is something for an offloader to learn.
func buildBundle(t *testing.T) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "thirds")
	heavy := build.ModelSpec{Arch: "tiny", Seed: 1, Train: dnn.TrainConfig{Epochs: 6, BatchSize: 32, Seed: 1, CropPad: -1}}
	edge := build.ModelSpec{Arch: "tiny", Width: 0.25, Seed: 2, Train: dnn.TrainConfig{Epochs: 1, BatchSize: 64, Seed: 2, CropPad: -1}}
	if _, err := build.Build(build.Config{Name: "thirds", Dataset: datatest.ThirdsCSV(t, 1500), Split: data.DefaultSplit,
		Heavy: heavy, Edge: edge, Command: "go test", Out: out, Offloader: offload.TrainConfig{Epochs: 50}}); err != nil {
		t.Fatal(err)
	}
	return out
}

// readOffloader reads and decodes the offloader.json in dir.
func readOffloader(t *testing.T, dir string) ([]byte, *offload.Offloader) {
	t.Helper()
	ob, err := os.ReadFile(filepath.Join(dir, bundles.OffloaderFile))
	if err != nil {
		t.Fatal(err)
	}
	o, err := offload.DecodeOffloader("offloader.json", ob)
	if err != nil {
		t.Fatal(err)
	}
	return ob, o
}

var quick = offload.TrainConfig{Hidden: 4, Epochs: 100, Folds: 3, Seed: 1}

func TestRunWritesAndInstalls(t *testing.T) {
	dir := buildBundle(t)
	out := filepath.Join(t.TempDir(), "off")
	var stdout bytes.Buffer
	opts := &Options{Bundle: dir, Out: out, Install: true, Train: quick, Command: "tandem offload train (test)", Stdout: &stdout, Stderr: io.Discard}
	if err := Run(opts); err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + stdout.String())

	// report.json has the fields of the contract.
	raw, err := os.ReadFile(filepath.Join(out, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		DecisionAccuracy *float64 `json:"decision_accuracy"`
		Policies         []struct {
			Policy      string   `json:"policy"`
			OffloadRate *float64 `json:"offload_rate"`
			Accuracy    *float64 `json:"accuracy"`
		} `json:"policies"`
	}
	if err := json.Unmarshal(raw, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.DecisionAccuracy == nil || len(rep.Policies) != 6 || rep.Policies[0].Policy != offload.KindLearned {
		t.Fatalf("report.json: %s", raw)
	}
	for _, p := range rep.Policies {
		if p.OffloadRate == nil || p.Accuracy == nil {
			t.Errorf("policy %q lacks offload_rate or accuracy", p.Policy)
		}
	}
	ob, o := readOffloader(t, out)
	if o.Training["command"] != opts.Command {
		t.Errorf("the offloader does not record its command: %v", o.Training)
	}

	// The installed offloader drives a learned scenario on the bundle.
	b, err := bundles.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if inst, err := b.Offloader(); err != nil || !bytes.Equal(inst, ob) {
		t.Fatalf("installed offloader differs from --out's (%v)", err)
	}
	scenario := `name: learned
requests: 3000
bundle: thirds
workload: {rate: 50}
edge: {count: 3, device: edge-cpu-1t, service: {dist: exponential, mean: 2ms}}
link: {uplink_mbps: 10, rtt: 10ms}
cloud: {servers: 1, device: server-cpu, service: {dist: exponential, mean: 4ms}}
policy: {kind: learned}
`
	file := filepath.Join(filepath.Dir(dir), "learned.yaml")
	if err := os.WriteFile(file, []byte(scenario), 0o644); err != nil {
		t.Fatal(err)
	}
	var simOut bytes.Buffer
	if err := simcmd.Run(&simcmd.Options{Scenario: file, JSON: true, Stdout: &simOut}); err != nil {
		t.Fatal(err)
	}
	var sum struct {
		OffloadRate float64 `json:"offload_rate"`
		Completed   int     `json:"completed"`
	}
	if err := json.Unmarshal(simOut.Bytes(), &sum); err != nil {
		t.Fatal(err)
	}
	// The simulator replays the test samples with replacement, so its
	// offload rate is near the report's, not equal to it.
	if want := *rep.Policies[0].OffloadRate; sum.Completed != 3000 || sum.OffloadRate < want-0.05 || sum.OffloadRate > want+0.05 {
		t.Errorf("sim: %d completed, offload rate %.3f; the report says %.3f", sum.Completed, sum.OffloadRate, want)
	}
}

// TestRunEmbedding trains an offloader that also reads the edge model's
// features, and checks that the simulator refuses a scenario naming it
// rather than run it without them.
func TestRunEmbedding(t *testing.T) {
	dir := buildBundle(t)
	out := filepath.Join(t.TempDir(), "off")
	cfg := quick
	cfg.Embedding = true
	if err := Run(&Options{Bundle: dir, Out: out, Train: cfg, Stdout: io.Discard, Stderr: io.Discard}); err != nil {
		t.Fatal(err)
	}
	_, o := readOffloader(t, out)
	if o.Embedding < 1 || len(o.Mean) != offload.InputCount(3, o.Embedding) {
		t.Fatalf("offloader reads %d features, %d inputs", o.Embedding, len(o.Mean))
	}
	scenario := `name: embedded
requests: 100
bundle: ` + dir + `
workload: {rate: 50}
edge: {count: 1, device: edge-cpu-1t, service: {dist: exponential, mean: 2ms}}
link: {uplink_mbps: 10, rtt: 10ms}
cloud: {servers: 1, device: server-cpu, service: {dist: exponential, mean: 4ms}}
policy: {kind: learned, offloader: ` + filepath.Join(out, bundles.OffloaderFile) + `}
`
	file := filepath.Join(t.TempDir(), "embedded.yaml")
	if err := os.WriteFile(file, []byte(scenario), 0o644); err != nil {
		t.Fatal(err)
	}
	err := simcmd.Run(&simcmd.Options{Scenario: file, Stdout: io.Discard})
	if cli.ExitCode(err) != cli.ExitBadInput || !strings.Contains(err.Error(), "do not supply") {
		t.Errorf("sim of an offloader reading features: %v (exit %d), want exit 2 saying sim cannot feed it", err, cli.ExitCode(err))
	}
}

func TestRunBadInput(t *testing.T) {
	cases := []struct {
		name string
		opts Options
		want string
	}{
		{"nothing to write", Options{Bundle: "builtin:fashion"}, "give --out DIR, --install, or both"},
		{"budget out of range", Options{Bundle: "builtin:fashion", Out: "x", Train: offload.TrainConfig{Budget: 2}}, "budget 2"},
		{"confidence below parity", Options{Bundle: "builtin:fashion", Out: "x", Train: offload.TrainConfig{Confidence: 0.4}}, "confidence 0.4"},
		{"tolerance and budget", Options{Bundle: "builtin:fashion", Out: "x", Train: offload.TrainConfig{Tolerance: 0.001, Budget: 0.1}}, "tolerance 0.001 and budget 0.1"},
		{"unknown bundle", Options{Bundle: "builtin:nope", Out: "x"}, `no built-in bundle "nope"`},
		{"install into a built-in", Options{Bundle: "builtin:fashion", Install: true}, "is built into the binary"},
		{"install an embedding offloader", Options{Bundle: "builtin:fashion", Install: true, Train: offload.TrainConfig{Embedding: true}}, "--embedding trains an offloader"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			opts := tc.opts
			opts.Stdout, opts.Stderr = io.Discard, io.Discard
			err := Run(&opts)
			if cli.ExitCode(err) != cli.ExitBadInput || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Run: %v (exit %d), want exit %d and an error containing %q", err, cli.ExitCode(err), cli.ExitBadInput, tc.want)
			}
		})
	}
}

func TestRunMissingDatasetLeavesNothing(t *testing.T) {
	dir := buildBundle(t)
	before := readFiles(t, dir)
	out := filepath.Join(t.TempDir(), "off")
	err := Run(&Options{Bundle: dir, Dataset: filepath.Join(t.TempDir(), "gone.csv"), Out: out, Install: true, Train: quick, Stdout: io.Discard, Stderr: io.Discard})
	if cli.ExitCode(err) != cli.ExitBadInput {
		t.Errorf("Run: %v (exit %d), want exit %d", err, cli.ExitCode(err), cli.ExitBadInput)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("--out folder exists after a failed run: %v", err)
	}
	after := readFiles(t, dir)
	if len(after) != len(before) {
		t.Errorf("the bundle had %d files, has %d after a failed run", len(before), len(after))
	}
	for name, b := range before {
		if !bytes.Equal(after[name], b) {
			t.Errorf("%s changed in a failed run", name)
		}
	}
}

func readFiles(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		files[e.Name()] = b
	}
	return files
}

// TestRunNotesOtherKernels checks that training on a bundle built with
// other GEMM kernels says so, since the validation outputs it learns from
// then differ from the bundle's, and that the offloader records its own.
func TestRunNotesOtherKernels(t *testing.T) {
	dir := buildBundle(t)
	cases := []struct {
		name, built string
		note        bool
	}{
		{"same kernels", dnn.GEMMName(), false},
		{"other kernels", "openblas (Elsewhere kernels)", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b, err := bundles.Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			b.Provenance["gemm_backend"] = tc.built
			m, err := bundles.EncodeManifest(&b.Manifest)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, bundles.ManifestFile), m, 0o644); err != nil {
				t.Fatal(err)
			}
			var stderr bytes.Buffer
			out := filepath.Join(t.TempDir(), "off")
			if err := Run(&Options{Bundle: dir, Out: out, Train: quick, Stdout: io.Discard, Stderr: &stderr}); err != nil {
				t.Fatal(err)
			}
			note := strings.Contains(stderr.String(), "note: bundle thirds was built multiplying with "+tc.built+", this run with "+dnn.GEMMName())
			if note != tc.note {
				t.Errorf("note on the kernels %v, want %v; stderr:\n%s", note, tc.note, stderr.String())
			}
			if _, o := readOffloader(t, out); o.Training["gemm"] != dnn.GEMMName() {
				t.Errorf("offloader.json's training.gemm = %v, want %q", o.Training["gemm"], dnn.GEMMName())
			}
		})
	}
}
