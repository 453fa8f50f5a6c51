package profilecmd

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tandem-edge/tandem/cmd/tandem/internal/cli"
	"github.com/tandem-edge/tandem/dnn"
	"github.com/tandem-edge/tandem/dnn/onnx"
	"github.com/tandem-edge/tandem/hil"
	"github.com/tandem-edge/tandem/hil/hiltest"
	"github.com/tandem-edge/tandem/profiler"
	"github.com/tandem-edge/tandem/profiles"
)

func TestFlags(t *testing.T) {
	const ms = time.Millisecond
	defaults := Options{Threads: 1, Runs: 200, Warmup: 20, ColdGaps: []time.Duration{ms, 3 * ms, 10 * ms, 30 * ms, 100 * ms}, ColdRuns: 40,
		ServingRuns: 200, Slowdown: 1, Power: 2 * time.Second, Points: 24, Variants: 8, Seed: 1}
	tests := []struct {
		name     string
		args     []string
		want     func(o *Options)
		wantExit int
	}{
		{name: "required only", args: []string{"--model", "m.onnx", "--out", "p.yaml"},
			want: func(o *Options) { o.Models, o.Out = []string{"m.onnx"}, "p.yaml" }},
		{name: "several models", args: []string{"--model", "heavy=h.onnx", "--model=edge=e.onnx", "--out", "p.yaml", "--name", "board"},
			want: func(o *Options) { o.Models, o.Out, o.Name = []string{"heavy=h.onnx", "edge=e.onnx"}, "p.yaml", "board" }},
		{name: "everything", args: []string{"--model", "m.onnx", "--out", "p.yaml", "--threads", "2", "--batch", "1,4", "--batch", "16",
			"--runs", "50", "--warmup", "0", "--cold-gaps", "2ms,1.5s", "--cold-runs", "7", "--serving", "--serving-runs", "30",
			"--sweep-widths", "--sweep-points", "6", "--sweep-variants", "0", "--held-out", "30", "--seed", "9", "--power", "0"},
			want: func(o *Options) {
				*o = Options{Models: []string{"m.onnx"}, Out: "p.yaml", Threads: 2, Batches: []int{1, 4, 16}, Runs: 50, Warmup: 0,
					ColdGaps: []time.Duration{2 * ms, 1500 * ms}, ColdRuns: 7, Serving: true, ServingRuns: 30, Slowdown: 1,
					SweepWidths: true, Points: 6, Variants: 0, HeldOut: 30, Seed: 9}
			}},
		{name: "slowdown", args: []string{"--model", "m.onnx", "--out", "p.yaml", "--slowdown", "4"},
			want: func(o *Options) { o.Models, o.Out, o.Slowdown = []string{"m.onnx"}, "p.yaml", 4 }},
		{name: "cold gaps repeated", args: []string{"--model", "m.onnx", "--out", "p.yaml", "--cold-gaps", "5ms", "--cold-gaps=1ms,2ms"},
			want: func(o *Options) {
				o.Models, o.Out, o.ColdGaps = []string{"m.onnx"}, "p.yaml", []time.Duration{5 * ms, ms, 2 * ms}
			}},
		{name: "cold off", args: []string{"--model", "m.onnx", "--out", "p.yaml", "--cold-gaps", "0"},
			want: func(o *Options) { o.Models, o.Out, o.ColdGaps = []string{"m.onnx"}, "p.yaml", []time.Duration{0} }},
		{name: "gap not a duration", args: []string{"--model", "m.onnx", "--cold-gaps", "1ms,100"}, wantExit: cli.ExitBadInput},
		{name: "empty gaps", args: []string{"--model", "m.onnx", "--cold-gaps", ""}, wantExit: cli.ExitBadInput},
		{name: "not a number", args: []string{"--model", "m.onnx", "--runs", "many"}, wantExit: cli.ExitBadInput},
		{name: "bad batch list", args: []string{"--model", "m.onnx", "--batch", "1,x"}, wantExit: cli.ExitBadInput},
		{name: "argument", args: []string{"m.onnx"}, wantExit: cli.ExitBadInput},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got *Options
			cmd := newCmd(func(o *Options) error { got = o; return nil })
			cmd.SetArgs(tt.args)
			cmd.SetOut(io.Discard)
			cmd.SetErr(io.Discard)
			err := cmd.Execute()
			if code := cli.ExitCode(err); code != tt.wantExit {
				t.Fatalf("exit status %d (%v), want %d", code, err, tt.wantExit)
			}
			if tt.wantExit != 0 {
				return
			}
			want := defaults
			tt.want(&want)
			got.Stdout, got.Progress, got.Command = nil, nil, ""
			if !reflect.DeepEqual(*got, want) {
				t.Errorf("options %+v\nwant %+v", *got, want)
			}
		})
	}
}

// tinyModels writes two small zoo models to dir.
func tinyModels(t *testing.T, dir string) (tiny, resnet string) {
	t.Helper()
	for _, m := range []struct {
		arch string
		path *string
	}{{"tiny", &tiny}, {"resnet", &resnet}} {
		g, err := dnn.Zoo(m.arch, []int{1, 8, 8}, 4, 0.5, 1)
		if err != nil {
			t.Fatal(err)
		}
		*m.path = filepath.Join(dir, m.arch+".onnx")
		if err := onnx.WriteFile(*m.path, g); err != nil {
			t.Fatal(err)
		}
	}
	return tiny, resnet
}

func TestRun(t *testing.T) {
	hiltest.RequireORT(t)
	dir := t.TempDir()
	tiny, resnet := tinyModels(t, dir)
	out := filepath.Join(dir, "edge-test.yaml")
	var stdout, progress bytes.Buffer
	o := Options{Models: []string{"fashion/edge=" + tiny, resnet}, Out: out, Threads: 1, Batches: []int{1, 2}, Runs: 12, Warmup: 2,
		Points: 2, Variants: 1, SweepWidths: true, HeldOut: 2, Seed: 3, ColdGaps: []time.Duration{2 * time.Millisecond, time.Millisecond}, ColdRuns: 3, Serving: true, ServingRuns: 4,
		Power: 50 * time.Millisecond, Command: "tandem profile ...", Stdout: &stdout, Progress: &progress}
	if err := run(&o); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	d, err := profiles.DecodeDevice(out, b)
	if err != nil {
		t.Fatalf("the profile does not decode: %v\n%s", err, b)
	}
	if d.Name != "edge-test" || len(d.Models) != 2 || d.Models[0].Name != "fashion/edge" || d.Models[1].Name != "resnet" {
		t.Errorf("profile %q of models %+v", d.Name, d.Models)
	}
	if !strings.HasPrefix(d.Source, "tandem profile ... (measured on ") || d.Host.Threads != 1 || d.Host.Cores < 1 ||
		!strings.HasPrefix(d.Host.Runtime, "onnxruntime 1.") || d.Host.MeasuredAt == "" {
		t.Errorf("source %q, host %+v", d.Source, d.Host)
	}
	m := d.Models[0]
	if len(m.Batches) != 2 || m.Batches[1].Size != 2 || len(m.Layers) == 0 || m.ProfilerOverhead <= 0 {
		t.Errorf("model entry %+v", m)
	}
	if len(m.Cold) != 2 || m.Cold[0].Gap != time.Millisecond || m.Cold[1].Gap != 2*time.Millisecond || m.Cold[1].Runs != 3 ||
		len(m.Serving) != 2 || m.Serving[1].Runs != 4 {
		t.Errorf("cold latency %+v, serving paths %+v", m.Cold, m.Serving)
	}
	if p := d.Predictor; p == nil || p.HeldOut == nil || p.HeldOut.Networks != 2 || len(p.Batches) != 1 {
		t.Errorf("predictor %+v", p)
	}
	for _, want := range []string{"fashion/edge", "resnet", "CHARGED BY NAME", "held-out", "fashion/edge: cold ", "ms@1ms ", "ms@2ms (warm ", " over binary (+", " over json (+"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, stdout.String())
		}
	}
	if !strings.Contains(progress.String(), "profile: sweep") {
		t.Errorf("no sweep progress on stderr:\n%s", progress.String())
	}
	// The power is measured where the host has RAPL counters, and the
	// profile says nothing of power where it has none.
	if _, err := os.ReadFile(filepath.Join(profiler.RAPLRoot, "intel-rapl:0", "energy_uj")); err == nil {
		if d.Power == nil || !(d.Power.BusyW >= d.Power.IdleW) || !strings.Contains(d.Power.Source, "RAPL") {
			t.Errorf("power %+v on a host with %s", d.Power, profiler.RAPLRoot)
		}
	} else if d.Power != nil || !strings.Contains(progress.String(), "power not measured: ") {
		t.Errorf("power %+v on a host without counters; progress:\n%s", d.Power, progress.String())
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".edge-test.yaml.tmp-*")); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

func TestRunErrors(t *testing.T) {
	dir := t.TempDir()
	tiny, _ := tinyModels(t, dir)
	junk := filepath.Join(dir, "junk.onnx")
	if err := os.WriteFile(junk, []byte("not a model"), 0o644); err != nil {
		t.Fatal(err)
	}
	linear := filepath.Join(dir, "linear.onnx")
	lm, err := hil.LinearModel([]int{4}, make([]float32, 8), make([]float32, 2), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(linear, lm, 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "p.yaml")
	tests := []struct {
		name    string
		opts    Options
		needORT bool
		want    string
	}{
		{name: "no model", opts: Options{Out: out}, want: "profile: --model is required"},
		{name: "no out", opts: Options{Models: []string{tiny}}, want: "profile: --out is required"},
		{name: "missing model", opts: Options{Models: []string{filepath.Join(dir, "none.onnx")}, Out: out},
			want: "profile: --model " + filepath.Join(dir, "none.onnx") + ": stat"},
		{name: "empty name", opts: Options{Models: []string{"=" + tiny}, Out: out}, want: "want FILE.onnx or NAME=FILE.onnx"},
		{name: "same name twice", opts: Options{Models: []string{tiny, "tiny=" + junk}, Out: out}, want: `are both named "tiny"`},
		{name: "no such folder", opts: Options{Models: []string{tiny}, Out: filepath.Join(dir, "none", "p.yaml")}, want: "folder " + filepath.Join(dir, "none") + " does not exist"},
		{name: "zero threads", opts: Options{Models: []string{tiny}, Out: out, Threads: -1}, want: "--threads -1"},
		{name: "batch 0", opts: Options{Models: []string{tiny}, Out: out, Batches: []int{0}}, want: "--batch 0"},
		{name: "negative cold gap", opts: Options{Models: []string{tiny}, Out: out, ColdGaps: []time.Duration{time.Millisecond, -time.Millisecond}},
			want: "profile: --cold-gaps 1ms,-1ms: gap -1ms: want gaps above 0, or a single 0 (off)"},
		{name: "zero among cold gaps", opts: Options{Models: []string{tiny}, Out: out, ColdGaps: []time.Duration{0, 0}},
			want: "profile: --cold-gaps 0s,0s: gap 0s: want gaps above 0"},
		{name: "no cold runs", opts: Options{Models: []string{tiny}, Out: out, ColdRuns: -2}, want: "profile: --cold-runs -2: want 1 or more"},
		{name: "no serving runs", opts: Options{Models: []string{tiny}, Out: out, Serving: true, ServingRuns: -1}, want: "profile: --serving-runs -1: want 1 or more"},
		{name: "held out without sweep", opts: Options{Models: []string{tiny}, Out: out, HeldOut: 3}, want: "add --sweep-widths"},
		{name: "nothing to sweep", opts: Options{Models: []string{linear}, Out: out, SweepWidths: true}, needORT: true,
			want: "--sweep-widths sweeps the widths of convolutions"},
		{name: "not a model", opts: Options{Models: []string{junk}, Out: out}, needORT: true, want: "profile: --model " + junk + ": profiler: " + junk},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.needORT {
				hiltest.RequireORT(t)
			}
			o := tt.opts
			fill(&o)
			err := run(&o)
			if code := cli.ExitCode(err); code != cli.ExitBadInput || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("exit status %d, error %v; want %d and %q", code, err, cli.ExitBadInput, tt.want)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("a failed profile wrote %s", out)
			}
		})
	}
}

// fill gives zero fields small defaults.
func fill(o *Options) {
	if o.Threads == 0 {
		o.Threads = 1
	}
	if o.Runs == 0 {
		o.Runs = 5
	}
	if o.Points == 0 {
		o.Points = 2
	}
	if o.ColdRuns == 0 {
		o.ColdRuns = 2
	}
	if o.ServingRuns == 0 {
		o.ServingRuns = 2
	}
}

// TestBadValues runs the command as typed: values the flags parse but the
// command cannot use end it with exit status 2 and one line saying why.
func TestBadValues(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{args: []string{"--cold-gaps", "-100ms"}, want: "profile: --cold-gaps -100ms: gap -100ms: want gaps above 0, or a single 0 (off)"},
		{args: []string{"--cold-gaps", "1ms,0"}, want: "profile: --cold-gaps 1ms,0s: gap 0s: want gaps above 0, or a single 0 (off)"},
		{args: []string{"--cold-runs", "-1"}, want: "profile: --cold-runs -1: want 1 or more"},
		{args: []string{"--serving", "--serving-runs", "0"}, want: "profile: --serving-runs 0: want 1 or more"},
		{args: []string{"--slowdown", "0.5"}, want: "profile: --slowdown 0.5: want 1 (the host as it is) to 1000"},
		{args: []string{"--slowdown", "4", "--sweep-widths"}, want: "profile: --slowdown and --sweep-widths: the latency predictor is fitted to this host, not to a device emulated on it; profile the emulated device without --sweep-widths"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "p.yaml")
			cmd := NewCmd()
			cmd.SetArgs(append([]string{"--model", "m.onnx", "--out", out}, tt.args...))
			cmd.SetOut(io.Discard)
			cmd.SetErr(io.Discard)
			err := cmd.Execute()
			if code := cli.ExitCode(err); code != cli.ExitBadInput || err.Error() != tt.want {
				t.Errorf("exit status %d, error %v; want %d and %q", code, err, cli.ExitBadInput, tt.want)
			}
		})
	}
}

func TestCommandLine(t *testing.T) {
	got := commandLine([]string{"/usr/bin/tandem", "profile", "--model", "my model.onnx", "--out", "it's.yaml"})
	want := `tandem profile --model 'my model.onnx' --out 'it'\''s.yaml'`
	if got != want {
		t.Errorf("commandLine = %s, want %s", got, want)
	}
	tests := []struct {
		opts Options
		want string
	}{
		{opts: Options{Models: []string{"a.onnx"}, Out: "p.yaml", Threads: 1, Runs: 200, Warmup: 20, ColdRuns: 40, ServingRuns: 200},
			want: "tandem profile --model a.onnx --threads 1 --runs 200 --warmup 20 --cold-gaps 0 --power 0s --out p.yaml"},
		{opts: Options{Models: []string{"a.onnx"}, Out: "p.yaml", Threads: 1, Runs: 200, Warmup: 20, ColdGaps: []time.Duration{0}, ColdRuns: 40, Power: 2 * time.Second},
			want: "tandem profile --model a.onnx --threads 1 --runs 200 --warmup 20 --cold-gaps 0 --power 2s --out p.yaml"},
		{opts: Options{Models: []string{"a.onnx"}, Out: "p.yaml", Threads: 4, Runs: 200, Warmup: 20,
			ColdGaps: []time.Duration{time.Millisecond, 100 * time.Millisecond, 1500 * time.Millisecond}, ColdRuns: 40, Serving: true, ServingRuns: 30},
			want: "tandem profile --model a.onnx --threads 4 --runs 200 --warmup 20 --cold-gaps 1ms,100ms,1.5s --cold-runs 40 --serving --serving-runs 30 --power 0s --out p.yaml"},
	}
	for _, tt := range tests {
		if got := tt.opts.rebuiltCommand(); got != tt.want {
			t.Errorf("rebuilt command %s\nwant %s", got, tt.want)
		}
	}
}

// --add-to measures more models into an existing profile of this host,
// keeping what it had, and refuses a profile of another host.
func TestAddTo(t *testing.T) {
	hiltest.RequireORT(t)
	dir := t.TempDir()
	tiny, resnet := tinyModels(t, dir)
	out := filepath.Join(dir, "board.yaml")
	base := Options{Models: []string{"a/edge=" + tiny}, Out: out, Threads: 1, Runs: 20, Warmup: 3, ColdRuns: 2, ServingRuns: 2,
		Points: 2, Variants: 1, SweepWidths: true, Seed: 1, Command: "tandem profile first"}
	if err := run(&base); err != nil {
		t.Fatal(err)
	}
	var summary bytes.Buffer
	add := Options{Models: []string{"b/edge=" + resnet}, Out: out, AddTo: out, Threads: 1, Runs: 5, Warmup: 1, ColdRuns: 2, ServingRuns: 2,
		Points: 2, Seed: 1, Command: "tandem profile second", Stdout: &summary}
	if err := run(&add); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(summary.String(), "b/edge") || strings.Contains(summary.String(), "a/edge") {
		t.Errorf("summary of the models added:\n%s", summary.String())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	d, err := profiles.DecodeDevice(out, b)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Models) != 2 || d.Models[0].Name != "a/edge" || d.Models[1].Name != "b/edge" || d.Predictor == nil ||
		!strings.HasPrefix(d.Source, "tandem profile first (measured on ") || !strings.Contains(d.Source, "; models b/edge added by tandem profile second (measured on ") {
		t.Errorf("profile of %d models, predictor %v, source %q", len(d.Models), d.Predictor != nil, d.Source)
	}
	if err := run(&add); err == nil || cli.ExitCode(err) != cli.ExitBadInput || !strings.Contains(err.Error(), `already has a model named "b/edge"`) {
		t.Errorf("adding a model twice: %v", err)
	}
	other := strings.Replace(string(b), "cpu: ", "cpu: Another ", 1)
	if err := os.WriteFile(out, []byte(other), 0o644); err != nil {
		t.Fatal(err)
	}
	add.Models = []string{"c/edge=" + tiny}
	if err := run(&add); err == nil || cli.ExitCode(err) != cli.ExitBadInput || !strings.Contains(err.Error(), "a profile holds one device's numbers") {
		t.Errorf("adding to another host's profile: %v", err)
	}
}
