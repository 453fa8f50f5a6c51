package build

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/tandem-edge/tandem/agents/offload"
	"github.com/tandem-edge/tandem/bundles"
	"github.com/tandem-edge/tandem/dnn"
	"github.com/tandem-edge/tandem/dnn/data"
)

// writeCSV writes a two-class 8x8 dataset: class 0 is bright in its top
// half, class 1 in its bottom half, both with noise.
func writeCSV(t *testing.T, n int) string {
	t.Helper()
	rng := rand.New(rand.NewPCG(5, 6))
	var b strings.Builder
	for i := range n {
		label := i % 2
		fmt.Fprint(&b, label)
		for p := range 64 {
			v := rng.IntN(60)
			if (p < 32) == (label == 0) {
				v += 150
			}
			fmt.Fprintf(&b, ",%d", v)
		}
		b.WriteByte('\n')
	}
	path := filepath.Join(t.TempDir(), "halves.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// buildHalves builds bundle "halves" from writeCSV's 400 samples, both
// models trained for epochs, and returns its folder, its dataset's path and
// its manifest.
func buildHalves(t *testing.T, epochs int) (out, csv string, m *bundles.Manifest) {
	t.Helper()
	csv = writeCSV(t, 400)
	out = filepath.Join(t.TempDir(), "halves")
	spec := ModelSpec{Arch: "tiny", Seed: 1, Train: dnn.TrainConfig{Epochs: epochs, BatchSize: 32, Seed: 1, CropPad: -1}}
	edge := spec
	edge.Width, edge.Seed = 0.5, 2
	m, err := Build(Config{Name: "halves", Dataset: csv, Split: data.DefaultSplit, Heavy: spec, Edge: edge,
		EdgeNote: "test", Command: "go test", Out: out})
	if err != nil {
		t.Fatal(err)
	}
	return out, csv, m
}

func TestBuildWritesALoadableBundle(t *testing.T) {
	out, _, m := buildHalves(t, 3)
	b, err := bundles.Load(out)
	if err != nil {
		t.Fatalf("the built bundle does not load: %v", err)
	}
	if len(b.Outcomes) != 80 {
		t.Errorf("%d outcomes, want the 80 held-out test samples", len(b.Outcomes))
	}
	if m.Models.Heavy.Accuracy < 0.9 {
		t.Errorf("heavy accuracy %.3f on a trivially separable set, want ≥ 0.9", m.Models.Heavy.Accuracy)
	}
	correct := 0
	for _, o := range b.Outcomes {
		if o.CloudCorrect() {
			correct++
		}
	}
	if got := float64(correct) / float64(len(b.Outcomes)); got != m.Models.Heavy.Accuracy {
		t.Errorf("outcomes give heavy accuracy %.4f, manifest %.4f", got, m.Models.Heavy.Accuracy)
	}
	for _, which := range []string{bundles.ModelHeavy, bundles.ModelEdge} {
		if _, err := b.ReadModel(which); err != nil {
			t.Errorf("%s model: %v", which, err)
		}
	}
	if b.Provenance["command"] != "go test" {
		t.Errorf("provenance %v lacks the command", b.Provenance)
	}
	// The offloader is trained on the validation split, or the provenance
	// says why there is none.
	switch p := b.Provenance["offloader"].(type) {
	case map[string]any:
		if raw, err := b.Offloader(); err != nil {
			t.Error(err)
		} else if _, err := offload.DecodeOffloader("offloader.json", raw); err != nil {
			t.Error(err)
		}
	case string:
		if b.Has(bundles.OffloaderFile) {
			t.Errorf("provenance says %q, yet the bundle has an offloader", p)
		}
	default:
		t.Errorf("provenance.offloader is %v", p)
	}
}

func TestBuildFailureKeepsTheOldBundle(t *testing.T) {
	out := filepath.Join(t.TempDir(), "kept")
	if err := os.Mkdir(out, 0o755); err != nil {
		t.Fatal(err)
	}
	old := filepath.Join(out, "bundle.yaml")
	if err := os.WriteFile(old, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Build(Config{Name: "x", Dataset: filepath.Join(t.TempDir(), "missing.csv"), Split: data.DefaultSplit,
		Heavy: ModelSpec{Arch: "tiny"}, Edge: ModelSpec{Arch: "tiny"}, Out: out})
	if err == nil {
		t.Fatal("Build of a missing dataset succeeded")
	}
	if b, err := os.ReadFile(old); err != nil || string(b) != "old" {
		t.Errorf("the previous bundle was touched: %q, %v", b, err)
	}
}

// TestInstallOffloader adds an offloader to a built bundle: the files appear,
// bundle.yaml records how they were made, and the bundle still loads with
// its models' checksums intact.
func TestInstallOffloader(t *testing.T) {
	out := filepath.Join(t.TempDir(), "halves")
	spec := ModelSpec{Arch: "tiny", Seed: 1, Train: dnn.TrainConfig{Epochs: 1, BatchSize: 32, Seed: 1, CropPad: -1}}
	if _, err := Build(Config{Name: "halves", Dataset: writeCSV(t, 200), Split: data.DefaultSplit, Heavy: spec, Edge: spec, Command: "go test", Out: out}); err != nil {
		t.Fatal(err)
	}
	// Two-class samples where the edge model errs on confident class-1
	// answers a third of the time and the cloud does not.
	var samples []offload.Sample
	for i := range 60 {
		logits := []float32{0, 0}
		logits[i%2] = 2 + float32(i%5)/5
		samples = append(samples, offload.NewSample(logits, !(i%2 == 1 && i%3 == 0), true))
	}
	o, err := offload.Train(samples, offload.TrainConfig{Hidden: 2, Epochs: 20, Folds: 2, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	b, err := bundles.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := offload.NewReport(o, offload.FromOutcomes(b.Outcomes), 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := InstallOffloader(out, o, rep, "tandem offload train --install"); err != nil {
		t.Fatal(err)
	}
	b, err = bundles.Load(out)
	if err != nil {
		t.Fatalf("the bundle does not load after the install: %v", err)
	}
	raw, err := b.Offloader()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := offload.DecodeOffloader("offloader.json", raw); err != nil {
		t.Errorf("installed offloader: %v", err)
	}
	if !b.Has(bundles.OffloadReportFile) {
		t.Errorf("no %s", bundles.OffloadReportFile)
	}
	p, ok := b.Provenance["offloader"].(map[string]any)
	if !ok || p["command"] != "tandem offload train --install" || b.Provenance["command"] != "go test" {
		t.Errorf("provenance after the install: %v", b.Provenance)
	}
	for _, which := range []string{bundles.ModelHeavy, bundles.ModelEdge} {
		if _, err := b.ReadModel(which); err != nil {
			t.Errorf("%s model after the install: %v", which, err)
		}
	}
	left, _ := filepath.Glob(filepath.Join(out, ".*"))
	if len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// TestBuildFromFiles builds a bundle from models trained elsewhere: the
// files are kept byte for byte, so profiles made on them still match, and
// the provenance says where they came from.
func TestBuildFromFiles(t *testing.T) {
	csv := writeCSV(t, 300)
	first := filepath.Join(t.TempDir(), "first")
	spec := ModelSpec{Arch: "tiny", Seed: 1, Train: dnn.TrainConfig{Epochs: 1, BatchSize: 32, Seed: 1, CropPad: -1}}
	m1, err := Build(Config{Name: "first", Dataset: csv, Split: data.DefaultSplit, Heavy: spec, Edge: spec, Out: first})
	if err != nil {
		t.Fatal(err)
	}
	second := filepath.Join(t.TempDir(), "second")
	heavy, edge := filepath.Join(first, "heavy.onnx"), filepath.Join(first, "edge.onnx")
	m2, err := Build(Config{Name: "second", Dataset: csv, Split: data.DefaultSplit, Heavy: ModelSpec{File: heavy}, Edge: ModelSpec{File: edge}, Out: second})
	if err != nil {
		t.Fatal(err)
	}
	if m2.Models.Heavy.SHA256 != m1.Models.Heavy.SHA256 || m2.Models.Edge.SHA256 != m1.Models.Edge.SHA256 {
		t.Errorf("models taken from files changed: %s %s, then %s %s", m1.Models.Heavy.SHA256, m1.Models.Edge.SHA256, m2.Models.Heavy.SHA256, m2.Models.Edge.SHA256)
	}
	if m2.Models.Heavy.Accuracy != m1.Models.Heavy.Accuracy {
		t.Errorf("heavy accuracy %v from the file, %v when trained", m2.Models.Heavy.Accuracy, m1.Models.Heavy.Accuracy)
	}
	if p, ok := m2.Provenance["heavy"].(map[string]any); !ok || p["file"] != heavy {
		t.Errorf("provenance.heavy %v", m2.Provenance["heavy"])
	}
	// Rebuilt in place around the same heavy file, the bundle keeps what it
	// recorded of that model and the file does not say (here a commit);
	// around another file it does not.
	manifest := filepath.Join(second, "bundle.yaml")
	raw, err := os.ReadFile(manifest)
	if err != nil {
		t.Fatal(err)
	}
	at := bytes.Index(raw, []byte("provenance:"))
	raw = append(raw[:at:at], bytes.Replace(raw[at:], []byte("  heavy:\n"), []byte("  heavy:\n    commit: abc1234\n"), 1)...)
	if err := os.WriteFile(manifest, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		heavy, want string
	}{{heavy, "abc1234"}, {edge, ""}} {
		m, err := Build(Config{Name: "second", Dataset: csv, Split: data.DefaultSplit, Heavy: ModelSpec{File: tc.heavy}, Edge: ModelSpec{File: edge}, Out: second})
		if err != nil {
			t.Fatal(err)
		}
		p, _ := m.Provenance["heavy"].(map[string]any)
		if got, _ := p["commit"].(string); got != tc.want || p["file"] != tc.heavy {
			t.Errorf("rebuilt around %s: provenance.heavy %v, want commit %q", tc.heavy, p, tc.want)
		}
	}
	// A model for another dataset shape is refused, naming the file.
	other := writeCSVShape(t)
	_, err = Build(Config{Name: "bad", Dataset: other, Split: data.DefaultSplit, Heavy: ModelSpec{File: heavy}, Edge: spec, Out: filepath.Join(t.TempDir(), "bad")})
	if err == nil || !strings.Contains(err.Error(), heavy) || !strings.Contains(err.Error(), "takes inputs of shape") {
		t.Errorf("Build with a model of another shape: %v", err)
	}
}

// writeCSVShape writes a tiny two-class 4x4 dataset.
func writeCSVShape(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	for i := range 40 {
		fmt.Fprint(&b, i%2)
		for p := range 16 {
			fmt.Fprintf(&b, ",%d", (i*p)%255)
		}
		b.WriteByte('\n')
	}
	path := filepath.Join(t.TempDir(), "small.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// ValidationOutcomes computes a pair of models' outcomes on a split once a
// process, and hands each caller its own slice.
func TestValidationOutcomesOnce(t *testing.T) {
	out, csv, _ := buildHalves(t, 1)
	b, err := bundles.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	first, err := ValidationOutcomes(b, csv)
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != 32 {
		t.Fatalf("%d validation outcomes, want 32 (a tenth of the 320 training samples)", len(first))
	}
	want := slices.Clone(first)
	first[0].EdgePred = -1
	// With the model files gone, only the memo can answer.
	for _, f := range []string{b.Models.Heavy.File, b.Models.Edge.File} {
		if err := os.Remove(filepath.Join(out, f)); err != nil {
			t.Fatal(err)
		}
	}
	again, err := ValidationOutcomes(b, csv)
	if err != nil {
		t.Fatalf("asked again: %v", err)
	}
	if !reflect.DeepEqual(again, want) {
		t.Errorf("asked again: other outcomes, or the first caller's change showed through")
	}
}
