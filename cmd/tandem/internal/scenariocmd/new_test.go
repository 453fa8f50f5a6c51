package scenariocmd

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tandem-edge/tandem/agents/offload"
	"github.com/tandem-edge/tandem/bundles"
	"github.com/tandem-edge/tandem/bundles/build"
	"github.com/tandem-edge/tandem/cmd/tandem/internal/cli"
	"github.com/tandem-edge/tandem/cmd/tandem/internal/hilcmd"
	"github.com/tandem-edge/tandem/dnn"
	"github.com/tandem-edge/tandem/dnn/data"
	"github.com/tandem-edge/tandem/dnn/data/datatest"
	"github.com/tandem-edge/tandem/hil/hiltest"
	"github.com/tandem-edge/tandem/profiler"
	"github.com/tandem-edge/tandem/profiles"
	"github.com/tandem-edge/tandem/scenarios"
	"github.com/tandem-edge/tandem/sim"
)

func TestNewBuiltin(t *testing.T) {
	out := filepath.Join(t.TempDir(), "mine.yaml")
	if _, err := execute(t, "new", "--bundle", "builtin:fashion", "--name", "mine", "--out", out); err != nil {
		t.Fatal(err)
	}
	sc, err := scenarios.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	if sc.Name != "mine" || sc.Bundle != "builtin:fashion" || sc.Policy.Kind != scenarios.PolicyLearned {
		t.Errorf("scenario %+v", sc)
	}
	if _, err := sim.Simulate(sc); err != nil {
		t.Errorf("the new scenario does not simulate: %v", err)
	}
}

// TestNewOwnBundle takes a bundle the project does not ship from its
// folder to a simulation: without profiles of its models, scenario new says
// which commands measure them; with them, what it writes runs.
func TestNewOwnBundle(t *testing.T) {
	hiltest.RequireORT(t)
	dir := t.TempDir()
	bdir := filepath.Join(dir, "bundle")
	csv := datatest.ThirdsCSV(t, 600)
	spec := build.ModelSpec{Arch: "tiny", Seed: 1, Train: dnn.TrainConfig{Epochs: 1, BatchSize: 64, Seed: 1, CropPad: -1}}
	edge := spec
	edge.Width, edge.Seed = 0.5, 2
	if _, err := build.Build(build.Config{Name: "thirds", Dataset: csv, Split: data.DefaultSplit, Heavy: spec, Edge: edge,
		Command: "go test", Out: bdir, Offloader: offload.TrainConfig{Epochs: 20, Hidden: 4, Folds: 2, Seed: 1}}); err != nil {
		t.Fatal(err)
	}

	out := filepath.Join(dir, "thirds.yaml")
	_, err := execute(t, "new", "--bundle", bdir, "--out", out)
	if cli.ExitCode(err) != cli.ExitBadInput || !strings.Contains(err.Error(), "tandem profile --model thirds/edge="+filepath.Join(bdir, "edge.onnx")) {
		t.Fatalf("no profiles of the bundle's models: %v (exit %d), want exit 2 and the profile commands", err, cli.ExitCode(err))
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("%s written despite the error", out)
	}

	bundle, err := bundles.Load(bdir)
	if err != nil {
		t.Fatal(err)
	}
	dev := &profiles.Device{Name: "here", Source: "go test", Host: profiles.Host{Threads: 1}}
	for _, which := range []string{bundles.ModelEdge, bundles.ModelHeavy} {
		path, _ := bundle.ModelPath(which)
		m, err := profiler.MeasureFile("thirds/"+which, path, profiler.Options{Runs: 5, Warmup: 1})
		if err != nil {
			t.Fatal(err)
		}
		dev.Models = append(dev.Models, m.Profile)
	}
	raw, err := profiles.EncodeDevice(dev)
	if err != nil {
		t.Fatal(err)
	}
	prof := filepath.Join(dir, "here.yaml")
	if err := os.WriteFile(prof, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	// Paths as a user types them, from where they are; the scenario in a
	// folder of its own.
	t.Chdir(dir)
	if err := os.Mkdir("scenarios", 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := execute(t, "new", "--bundle", "bundle", "--edge-device", "here.yaml", "--cloud-device", prof, "--out", "scenarios/thirds.yaml"); err != nil {
		t.Fatal(err)
	}
	sc, err := scenarios.Load("scenarios/thirds.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if sc.Bundle != "../bundle" || sc.Edge[0].Device != "../here.yaml" || sc.Cloud[0].Device != prof {
		t.Errorf("paths in the scenario: bundle %q, edge.device %q, cloud.device %q; want the relative ones relative to its folder", sc.Bundle, sc.Edge[0].Device, sc.Cloud[0].Device)
	}
	sc.Requests = 500
	sum, err := sim.Simulate(sc)
	if err != nil {
		t.Fatalf("the new scenario does not simulate: %v", err)
	}
	if sum.Completed != 500 {
		t.Errorf("completed %d of 500", sum.Completed)
	}

	// --profile-here measures the models itself, briefly here.
	quick := profiler.Options{Runs: 5, Warmup: 1, ColdGaps: []time.Duration{time.Millisecond}, ColdRuns: 2, ServingRuns: 3, BatchBudget: 100 * time.Millisecond}
	b2, err := NewScenario(&NewOptions{Bundle: "bundle", ProfileHere: ".", Out: "scenarios/here.yaml", measure: quick})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile("scenarios/here.yaml", b2, 0o644); err != nil {
		t.Fatal(err)
	}
	sc, err = scenarios.Load("scenarios/here.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if sc.Edge[0].Device != "../edge-here.yaml" || sc.Cloud[0].Device != "../server-here.yaml" {
		t.Errorf("devices %q and %q, want the profiles measured here", sc.Edge[0].Device, sc.Cloud[0].Device)
	}
	in, err := scenarios.Resolve(sc)
	if err != nil {
		t.Fatal(err)
	}
	if len(in.CloudModel.Serving) != 2 || len(in.EdgeModel.Cold) != 1 || in.CloudDevice.Host.Threads < 1 {
		t.Errorf("measured profiles: edge %+v, cloud %+v", in.EdgeModel, in.CloudModel)
	}
}

// TestImageFolderEndToEnd takes a folder of RGB JPEGs in class folders,
// of two sizes, which the project does not ship, through bundle build,
// scenario new with profiles measured here, the simulator and a brief real
// run, with no file edited by hand.
func TestImageFolderEndToEnd(t *testing.T) {
	hiltest.RequireORT(t)
	if testing.Short() {
		t.Skip("trains two small models and runs them for real")
	}
	dir := t.TempDir()
	images := datatest.ColourFolder(t, 300)
	spec := build.ModelSpec{Arch: "tiny", Seed: 1, Train: dnn.TrainConfig{Epochs: 2, BatchSize: 32, Seed: 1, CropPad: -1}}
	edge := spec
	edge.Width, edge.Seed = 0.5, 2
	bdir := filepath.Join(dir, "colours")
	if _, err := build.Build(build.Config{Name: "colours", Dataset: images, Split: data.DefaultSplit, Heavy: spec, Edge: edge,
		Command: "go test", Out: bdir, Offloader: offload.TrainConfig{Epochs: 20, Hidden: 4, Folds: 2, Seed: 1}}); err != nil {
		t.Fatal(err)
	}
	b, err := bundles.Load(bdir)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(b.InputShape, []int{3, 12, 12}) || b.Classes != 3 {
		t.Fatalf("bundle of input %v and %d classes, want [3 12 12] and 3", b.InputShape, b.Classes)
	}

	t.Chdir(dir)
	quick := profiler.Options{Runs: 5, Warmup: 1, ColdGaps: []time.Duration{time.Millisecond}, ColdRuns: 2, ServingRuns: 3, BatchBudget: 100 * time.Millisecond}
	raw, err := NewScenario(&NewOptions{Bundle: "colours", ProfileHere: ".", Out: "colours.yaml", measure: quick})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile("colours.yaml", raw, 0o644); err != nil {
		t.Fatal(err)
	}
	sc, err := scenarios.LoadWith("colours.yaml", scenarios.Overrides{Requests: 100})
	if err != nil {
		t.Fatal(err)
	}
	sum, err := sim.Simulate(sc)
	if err != nil || sum.Completed != 100 {
		t.Fatalf("sim: %v, %+v", err, sum)
	}
	var stdout, stderr bytes.Buffer
	if err := hilcmd.Run(context.Background(), &hilcmd.RunOptions{Scenario: "colours.yaml", Requests: 100, Out: "hil", Model: "heavy", Stdout: &stdout, Stderr: &stderr}); err != nil {
		t.Fatalf("hil run: %v\n%s", err, stderr.String())
	}
	if _, err := os.Stat(filepath.Join("hil", "summary.json")); err != nil {
		t.Error(err)
	}
}
