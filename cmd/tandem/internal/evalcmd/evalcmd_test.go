package evalcmd

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tandem-edge/tandem/cmd/tandem/internal/cli"
	"github.com/tandem-edge/tandem/hil"
	"github.com/tandem-edge/tandem/hil/hiltest"
)

func TestFlags(t *testing.T) {
	defaults := Options{Split: SplitTest, Seed: 1, Threads: 1, Batch: 32, LatencyRuns: 200}
	tests := []struct {
		name     string
		args     []string
		want     func(o *Options)
		wantExit int
	}{
		{name: "required only", args: []string{"--model", "m.onnx", "--dataset", "fashion-mnist"},
			want: func(o *Options) { o.Model, o.Dataset = "m.onnx", "fashion-mnist" }},
		{name: "everything", args: []string{"--model=m.onnx", "--dataset=./d.csv", "--split=all", "--seed=9", "--samples=100",
			"--threads=4", "--batch=8", "--latency-runs=50", "--json"},
			want: func(o *Options) {
				*o = Options{Model: "m.onnx", Dataset: "./d.csv", Split: SplitAll, Seed: 9, Samples: 100,
					Threads: 4, Batch: 8, LatencyRuns: 50, JSON: true}
			}},
		{name: "not a number", args: []string{"--model", "m.onnx", "--batch", "x"}, wantExit: cli.ExitBadInput},
		{name: "unknown flag", args: []string{"--nope"}, wantExit: cli.ExitBadInput},
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
			got.Out = nil
			if *got != want {
				t.Errorf("options %+v, want %+v", *got, want)
			}
		})
	}
}

// fixture writes an identity classifier over 1x2x2 images (logits = pixels)
// and datasets for it.
type fixture struct {
	model, csv, wideCSV, small, idxDir, wrongShape, junk string
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	dir := t.TempDir()
	f := fixture{
		model:      filepath.Join(dir, "identity.onnx"),
		csv:        filepath.Join(dir, "five.csv"),
		wideCSV:    filepath.Join(dir, "six-classes.csv"),
		small:      filepath.Join(dir, "one.csv"),
		idxDir:     filepath.Join(dir, "idx"),
		wrongShape: filepath.Join(dir, "big-images-idx3-ubyte"),
		junk:       filepath.Join(dir, "junk.onnx"),
	}
	model, err := hil.LinearModel([]int{1, 2, 2}, []float32{1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1}, make([]float32, 4), nil)
	if err != nil {
		t.Fatal(err)
	}
	write(t, f.model, model)
	write(t, f.junk, []byte("not a model"))
	// Four of five right: the third sample's largest pixel is not its label.
	write(t, f.csv, []byte("label,p0,p1,p2,p3\n0,255,0,0,0\n1,0,128,0,0\n2,0,0,0,255\n2,51,25,230,76\n3,0,0,0,180\n"))
	write(t, f.small, []byte("0,1,0,0,0\n"))
	write(t, f.wideCSV, []byte("5,1,0,0,0\n"))
	if err := os.Mkdir(f.idxDir, 0o755); err != nil {
		t.Fatal(err)
	}
	// Training images are all class 0; the t10k ones have their label's pixel lit.
	writeIDX(t, filepath.Join(f.idxDir, "train"), 20, 2, 2, func(i int) int { return 0 })
	writeIDX(t, filepath.Join(f.idxDir, "t10k"), 8, 2, 2, func(i int) int { return i % 4 })
	writeIDX(t, filepath.Join(dir, "big"), 3, 3, 3, func(i int) int { return 0 })
	return f
}

func write(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// writeIDX writes PREFIX-images-idx3-ubyte and PREFIX-labels-idx1-ubyte: n
// images of h×w, image i lighting only pixel label(i).
func writeIDX(t *testing.T, prefix string, n, h, w int, label func(int) int) {
	t.Helper()
	var img, lab bytes.Buffer
	binary.Write(&img, binary.BigEndian, []uint32{0x803, uint32(n), uint32(h), uint32(w)})
	binary.Write(&lab, binary.BigEndian, []uint32{0x801, uint32(n)})
	for i := range n {
		pix := make([]byte, h*w)
		pix[label(i)] = 255
		img.Write(pix)
		lab.WriteByte(byte(label(i)))
	}
	write(t, prefix+"-images-idx3-ubyte", img.Bytes())
	write(t, prefix+"-labels-idx1-ubyte", lab.Bytes())
}

func TestRunJSON(t *testing.T) {
	hiltest.RequireORT(t)
	f := newFixture(t)
	tests := []struct {
		name     string
		opts     Options
		accuracy float64
		samples  int
	}{
		{name: "csv, every sample", opts: Options{Dataset: f.csv, Split: SplitAll}, accuracy: 0.8, samples: 5},
		{name: "csv, first two", opts: Options{Dataset: f.csv, Split: SplitAll, Samples: 2}, accuracy: 1, samples: 2},
		{name: "idx folder, official test part", opts: Options{Dataset: f.idxDir, Split: SplitTest}, accuracy: 1, samples: 8},
		{name: "idx folder, everything", opts: Options{Dataset: f.idxDir, Split: SplitAll, Batch: 3}, accuracy: 1, samples: 28},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			o := tt.opts
			o.Model, o.JSON, o.Out = f.model, true, &out
			fillDefaults(&o)
			if err := run(&o); err != nil {
				t.Fatal(err)
			}
			dec := json.NewDecoder(&out)
			var raw map[string]json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				t.Fatalf("%v in %q", err, out.String())
			}
			if dec.More() {
				t.Error("more than one JSON value")
			}
			keys := make([]string, 0, len(raw))
			for k := range raw {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			if want := []string{"accuracy", "dataset", "latency_ms", "model", "ort_version", "samples", "threads"}; !slices.Equal(keys, want) {
				t.Errorf("keys %v, want %v", keys, want)
			}
			var r Report
			if err := json.Unmarshal(mustMarshal(t, raw), &r); err != nil {
				t.Fatal(err)
			}
			l := r.LatencyMS
			if r.Accuracy != tt.accuracy || r.Samples != tt.samples || r.Threads != 1 || r.Model != f.model || r.Dataset != o.Dataset ||
				!strings.HasPrefix(r.ORTVersion, "1.") || !(0 < l.P50 && l.P50 <= l.P90 && l.P90 <= l.P99 && l.Mean > 0) {
				t.Errorf("report %+v, want accuracy %g on %d samples", r, tt.accuracy, tt.samples)
			}
		})
	}
}

func TestRunTable(t *testing.T) {
	hiltest.RequireORT(t)
	f := newFixture(t)
	var out bytes.Buffer
	o := Options{Model: f.model, Dataset: f.csv, Split: SplitAll, Out: &out}
	fillDefaults(&o)
	if err := run(&o); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"accuracy", "0.8000", "latency p99 (ms)", "ONNX Runtime", f.csv} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table does not show %q:\n%s", want, out.String())
		}
	}
}

func TestRunErrors(t *testing.T) {
	f := newFixture(t)
	missing := filepath.Join(t.TempDir(), "missing.onnx")
	tests := []struct {
		name    string
		opts    Options
		needORT bool
		want    string
	}{
		{name: "no model", opts: Options{Dataset: f.csv}, want: "eval: --model is required"},
		{name: "no dataset", opts: Options{Model: f.model}, want: "eval: --dataset is required"},
		{name: "bad split", opts: Options{Model: f.model, Dataset: f.csv, Split: "train"}, want: `--split "train": want test or all`},
		{name: "zero batch", opts: Options{Model: f.model, Dataset: f.csv, Batch: -1}, want: "--batch -1: want 1 or more"},
		{name: "zero threads", opts: Options{Model: f.model, Dataset: f.csv, Threads: -2}, want: "--threads -2"},
		{name: "missing model", opts: Options{Model: missing, Dataset: f.csv}, want: "eval: --model: stat " + missing + ": no such file"},
		{name: "not a model", opts: Options{Model: f.junk, Dataset: f.csv}, needORT: true, want: "hil: " + f.junk + ":"},
		{name: "no such dataset", opts: Options{Model: f.model, Dataset: "cifar"}, needORT: true, want: `dataset "cifar" is neither a built-in`},
		{name: "shape mismatch", opts: Options{Model: f.model, Dataset: f.wrongShape, Split: SplitAll}, needORT: true,
			want: "has samples 1x3x3, model expects 1x2x2"},
		{name: "more classes than outputs", opts: Options{Model: f.model, Dataset: f.wideCSV, Split: SplitAll}, needORT: true,
			want: "has 6 classes, model " + f.model + " gives 4 outputs"},
		{name: "too small to split", opts: Options{Model: f.model, Dataset: f.small}, needORT: true, want: "too small to hold out a test part: use --split all"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.needORT {
				hiltest.RequireORT(t)
			}
			o := tt.opts
			o.Out = io.Discard
			fillDefaults(&o)
			err := run(&o)
			if code := cli.ExitCode(err); code != cli.ExitBadInput || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("exit status %d, error %v; want %d and %q", code, err, cli.ExitBadInput, tt.want)
			}
		})
	}
}

// fillDefaults gives zero fields the flags' defaults.
func fillDefaults(o *Options) {
	if o.Split == "" {
		o.Split = SplitTest
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.Threads == 0 {
		o.Threads = 1
	}
	if o.Batch == 0 {
		o.Batch = 32
	}
	if o.LatencyRuns == 0 {
		o.LatencyRuns = 20
	}
}

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
