package profiler

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tandem-edge/tandem/dnn"
	"github.com/tandem-edge/tandem/dnn/onnx"
	"github.com/tandem-edge/tandem/hil/hiltest"
	"github.com/tandem-edge/tandem/profiles"
)

func TestTimeModel(t *testing.T) {
	hiltest.RequireORT(t)
	model, _ := fixturePaths("tiny")
	tm, err := TimeModel(model, Options{Runs: 30, Warmup: 3, Batches: []int{4, 1, 4, 2}, BatchBudget: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if tm.Threads != 1 || tm.Latency.Runs != 30 || tm.Profiled.Runs != 30 || len(tm.Trace.Runs) != 30 {
		t.Errorf("threads %d, runs %d unprofiled, %d profiled, %d traced; want 1 thread and 30 runs each",
			tm.Threads, tm.Latency.Runs, tm.Profiled.Runs, len(tm.Trace.Runs))
	}
	var sizes []int
	for _, b := range tm.Batches {
		sizes = append(sizes, b.Size)
		if b.Latency.P50 <= 0 {
			t.Errorf("batch %d: latency %v", b.Size, b.Latency.P50)
		}
	}
	if len(sizes) != 3 || sizes[0] != 1 || sizes[1] != 2 || sizes[2] != 4 {
		t.Errorf("batch sizes %v, want [1 2 4]", sizes)
	}
	if tm.ProfilerOverhead() <= 0 {
		t.Errorf("profiler overhead %g", tm.ProfilerOverhead())
	}
	for i, run := range tm.Trace.Runs {
		if len(run) != len(tm.Trace.Runs[0]) {
			t.Fatalf("run %d has %d nodes, run 0 %d: warm-up or re-warm runs kept", i, len(run), len(tm.Trace.Runs[0]))
		}
	}
	for _, bad := range []Options{{Runs: -1}, {Batches: []int{0}}} {
		if _, err := TimeModel(model, bad); err == nil {
			t.Errorf("TimeModel with %+v: no error", bad)
		}
	}
}

func TestTimedRuns(t *testing.T) {
	got := timedRuns(3, 23)
	if len(got) != 23 || got[0] != 3+rewarmRuns || got[blockRuns-1] != 3+rewarmRuns+blockRuns-1 || got[blockRuns] != 3+2*rewarmRuns+blockRuns {
		t.Errorf("timedRuns(3, 23) = %v", got)
	}
}

func TestMeasureFile(t *testing.T) {
	hiltest.RequireORT(t)
	model, _ := fixturePaths("resnet")
	pm, err := MeasureFile("fixtures/resnet", model, Options{Runs: 20, Warmup: 2})
	if err != nil {
		t.Fatal(err)
	}
	m := pm.Profile
	if m.Name != "fixtures/resnet" || len(m.SHA256) != 64 || m.Latency <= 0 || m.Spread < 0 || m.ProfilerOverhead <= 0 || m.Batches != nil {
		t.Errorf("entry %+v", m)
	}
	var sum time.Duration
	for _, l := range m.Layers {
		sum += l.Latency
	}
	if sum != m.Latency {
		t.Errorf("layers sum to %v, want the model's %v", sum, m.Latency)
	}
	if l := m.Layers[0]; l.Name != "conv1" || l.FLOPs <= 0 || l.Bytes <= 0 {
		t.Errorf("first layer %+v, want conv1 with its FLOPs and bytes", l)
	}
	if pm.Graph == nil || pm.Sample == nil || len(pm.Sample.Layers) != len(pm.Graph.Nodes) {
		t.Errorf("decoded graph %v, sample %v", pm.Graph != nil, pm.Sample != nil)
	}
	d := &profiles.Device{Name: "test", Source: "TestMeasureFile", Models: []profiles.Model{m}}
	b, err := profiles.EncodeDevice(d)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := profiles.DecodeDevice("test.yaml", b); err != nil {
		t.Errorf("the entry does not decode: %v\n%s", err, b)
	}
}

func TestMeasureFilePaths(t *testing.T) {
	hiltest.RequireORT(t)
	model, _ := fixturePaths("tiny")
	tests := []struct {
		name          string
		opts          Options
		cold, serving bool
		want          string // error; empty: none
	}{
		{name: "neither", opts: Options{}},
		{name: "cold", opts: Options{ColdGaps: []time.Duration{2 * time.Millisecond, time.Millisecond}, ColdRuns: 3}, cold: true},
		{name: "serving", opts: Options{Serving: true, ServingRuns: 5}, serving: true},
		{name: "both", opts: Options{ColdGaps: []time.Duration{time.Millisecond}, ColdRuns: 3, Serving: true, ServingRuns: 4}, cold: true, serving: true},
		{name: "empty gaps skip", opts: Options{ColdGaps: []time.Duration{}, ColdRuns: -1}},
		{name: "negative gap", opts: Options{ColdGaps: []time.Duration{time.Millisecond, -time.Millisecond}}, want: "gap -1ms"},
		{name: "negative cold runs", opts: Options{ColdGaps: []time.Duration{time.Millisecond}, ColdRuns: -1}, want: "-1 runs"},
		{name: "negative serving runs", opts: Options{Serving: true, ServingRuns: -2}, want: "-2 runs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var progress strings.Builder
			opts := tt.opts
			opts.Runs, opts.Warmup, opts.Progress = 10, 2, &progress
			pm, err := MeasureFile("fixtures/tiny", model, opts)
			if tt.want != "" {
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Errorf("error %v, want %q", err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			m := pm.Profile
			if got := len(m.Cold) > 0; got != tt.cold {
				t.Errorf("cold latency %+v, want measured %v", m.Cold, tt.cold)
			} else if tt.cold {
				want := slices.Sorted(slices.Values(opts.ColdGaps))
				if len(m.Cold) != len(want) {
					t.Errorf("cold latency %+v, want gaps %v", m.Cold, want)
				}
				for i, c := range m.Cold {
					if i < len(want) && (c.Gap != want[i] || c.Runs != opts.ColdRuns) {
						t.Errorf("cold latency %d %+v, want gap %v and %d runs", i, c, want[i], opts.ColdRuns)
					}
				}
			}
			if tt.serving {
				if len(m.Serving) != 2 || m.Serving[0].Protocol != profiles.ProtocolBinary || m.Serving[1].Protocol != profiles.ProtocolJSON ||
					m.Serving[0].Runs != opts.ServingRuns {
					t.Errorf("serving paths %+v, want binary then json, %d runs each", m.Serving, opts.ServingRuns)
				}
			} else if m.Serving != nil {
				t.Errorf("serving paths %+v, want none", m.Serving)
			}
			d := &profiles.Device{Name: "test", Source: "TestMeasureFilePaths", Models: []profiles.Model{m}}
			if err := d.Validate(); err != nil {
				t.Errorf("the profile does not validate: %v", err)
			}
			for _, step := range []struct {
				on   bool
				line string
			}{{tt.cold, "tiny.onnx: cold median "}, {tt.serving, "tiny.onnx: serving median "}} {
				if strings.Contains(progress.String(), step.line) != step.on {
					t.Errorf("progress has %q: %v, want %v:\n%s", step.line, !step.on, step.on, progress.String())
				}
			}
			t.Logf("warm %v, cold %+v, serving %+v", m.Latency, m.Cold, m.Serving)
		})
	}
}

func TestMeasureFileErrors(t *testing.T) {
	hiltest.RequireORT(t)
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.onnx")
	if err := os.WriteFile(junk, []byte("not a model"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{junk, filepath.Join(dir, "missing.onnx")} {
		if _, err := MeasureFile("x", path, Options{Runs: 2}); err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("MeasureFile(%s): %v, want an error naming the file", path, err)
		}
	}
}

// TestPredictorHeldOut is a small version of the predictor's held-out
// evaluation (tandem profile --sweep-widths --held-out 30 on the zoo's
// models is the full one): a coarse sweep of small zoo networks, then
// predictions for pruned variants the fit never saw. The bound is loose:
// the machines that run the tests are shared and noisy.
func TestPredictorHeldOut(t *testing.T) {
	hiltest.RequireORT(t)
	if testing.Short() {
		t.Skip("measures a few hundred models")
	}
	var graphs []*dnn.Graph
	for _, arch := range []string{"vgg", "resnet"} {
		g, err := dnn.Zoo(arch, []int{1, 16, 16}, 10, 0.5, 1)
		if err != nil {
			t.Fatal(err)
		}
		graphs = append(graphs, g)
	}
	sw, err := Sweep(graphs, SweepOptions{Points: 8, Variants: 4, HeldOut: 10, Runs: 30, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	if sw.Block == 0 {
		t.Log("ONNX Runtime ran no blocked (NCHWc) kernel here")
	}
	if len(sw.Probes) != 8*len(mustConfigs(t, graphs)) || len(sw.Networks) != 2*(1+4) || len(sw.HeldOut) != 10 {
		t.Fatalf("%d probes, %d networks, %d held out", len(sw.Probes), len(sw.Networks), len(sw.HeldOut))
	}
	p, err := profiles.FitPredictor(sw.Probes, sw.Networks, profiles.FitOptions{ChannelBlock: sw.Block, ChannelAlign: sw.Align})
	if err != nil {
		t.Fatal(err)
	}
	rows, sum := p.EvaluateHeldOut(sw.HeldOut)
	for _, r := range rows {
		t.Logf("%-70s measured %9v predicted %9v %+5.1f%%", r.Name, r.Measured, r.Predicted, 100*r.Error)
	}
	t.Logf("block %d align %d; %d held out: %.0f%% within ±10%%, median |error| %.1f%%", sw.Block, sw.Align,
		sum.Networks, 100*sum.Within10, 100*sum.MedianError)
	if sum.MedianError > 0.25 {
		t.Errorf("median |error| %.1f%% on held-out variants, want at most 25%%", 100*sum.MedianError)
	}
}

func mustConfigs(t *testing.T, graphs []*dnn.Graph) []probeConfig {
	t.Helper()
	c, err := sweepConfigs(graphs)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestSweepErrors(t *testing.T) {
	g, err := onnx.ReadFile(filepath.Join("testdata", "profile", "tiny.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	dense := &dnn.Graph{Name: "dense", Input: "x", InputShape: []int{4, 4, 4}, Classes: 2, Nodes: []*dnn.Node{
		{Name: "flat", Op: dnn.OpFlatten, Inputs: []string{"x"}},
		{Name: "fc", Op: dnn.OpDense, Inputs: []string{"flat"}, Out: 2, W: dnn.NewTensor(2, 64)},
	}}
	if _, err := Sweep([]*dnn.Graph{dense}, SweepOptions{}); err == nil || !strings.Contains(err.Error(), "no Conv layer") {
		t.Errorf("sweeping a graph without convolutions: %v", err)
	}
	if c := mustConfigs(t, []*dnn.Graph{g, g}); len(c) != 2 {
		t.Errorf("%d configurations for tiny twice, want its 2 distinct convolutions", len(c))
	}
}

func TestReadHostFacts(t *testing.T) {
	h := ReadHostFacts()
	if h.Cores < 1 || h.Arch == "" || !strings.HasPrefix(h.OS, "linux") && !strings.HasPrefix(h.OS, "darwin") && !strings.HasPrefix(h.OS, "windows") {
		t.Errorf("host facts %+v", h)
	}
	t.Logf("%+v", h)
}
