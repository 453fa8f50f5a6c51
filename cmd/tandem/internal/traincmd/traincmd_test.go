package traincmd

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tandem-edge/tandem/cmd/tandem/internal/cli"
	"github.com/tandem-edge/tandem/dnn/onnx"
)

func TestFlags(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		check    func(o *Options) error
		wantExit int
	}{
		{"required", []string{"--arch", "vgg", "--dataset", "fashion-mnist", "--out", "m.onnx"}, func(o *Options) error {
			if o.Model.Arch != "vgg" || o.Model.Width != 1 || o.Model.Train.Epochs != 15 || o.Model.Train.BatchSize != 128 {
				return fmt.Errorf("defaults not applied: %+v", o.Model)
			}
			return nil
		}, 0},
		{"recipe", []string{"--arch", "resnet", "--dataset", "d.csv", "--out", "m.onnx", "--width", "0.5", "--epochs", "3",
			"--optimizer", "adam", "--lr", "0.01", "--no-flip"}, func(o *Options) error {
			tc := o.Model.Train
			if o.Model.Width != 0.5 || tc.Epochs != 3 || tc.Optimizer != "adam" || tc.LR != 0.01 || !tc.NoFlip {
				return fmt.Errorf("flags not bound: %+v", o.Model)
			}
			return nil
		}, 0},
		{"missing out", []string{"--arch", "vgg", "--dataset", "fashion-mnist"}, nil, cli.ExitBadInput},
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
				t.Fatalf("exit %d (%v), want %d", code, err, tt.wantExit)
			}
			if tt.check != nil {
				if err := tt.check(got); err != nil {
					t.Error(err)
				}
			}
		})
	}
}

func TestRunTrainsAndWritesONNX(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	for i := range 120 {
		fmt.Fprint(&b, i%2)
		for p := range 64 {
			v := 20
			if (p < 32) == (i%2 == 0) {
				v = 220
			}
			fmt.Fprintf(&b, ",%d", v)
		}
		b.WriteByte('\n')
	}
	csv := filepath.Join(dir, "d.csv")
	if err := os.WriteFile(csv, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "m.onnx")
	opts := &Options{Arch: "tiny", Dataset: csv, Out: out, Stdout: io.Discard, Stderr: io.Discard}
	opts.Model.Arch, opts.Model.Seed = "tiny", 1
	opts.Model.Train.Epochs, opts.Model.Train.BatchSize = 2, 16
	opts.Split.Val, opts.Split.Test, opts.Split.Seed = 0.1, 0.2, 1
	if err := Run(opts); err != nil {
		t.Fatal(err)
	}
	g, err := onnx.ReadFile(out)
	if err != nil {
		t.Fatalf("the written model does not decode: %v", err)
	}
	if g.Classes != 2 || g.Meta["dataset"] != csv || len(g.InputMean) != 1 {
		t.Errorf("model classes %d, meta %v, mean %v: want 2 classes, the dataset and a normalisation", g.Classes, g.Meta, g.InputMean)
	}

	opts.Dataset = filepath.Join(dir, "missing.csv")
	if err := Run(opts); cli.ExitCode(err) != cli.ExitBadInput {
		t.Errorf("missing dataset: %v, want exit 2", err)
	}
}
