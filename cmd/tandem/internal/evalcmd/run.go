package evalcmd

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/olekukonko/tablewriter"

	"github.com/tandem-edge/tandem/cmd/tandem/internal/cli"
	"github.com/tandem-edge/tandem/dnn/data"
	"github.com/tandem-edge/tandem/hil"
)

// Report is what `tandem eval --json` prints.
type Report struct {
	Accuracy   float64   `json:"accuracy"`
	Samples    int       `json:"samples"`
	LatencyMS  LatencyMS `json:"latency_ms"`
	Threads    int       `json:"threads"`
	ORTVersion string    `json:"ort_version"`
	Model      string    `json:"model"`
	Dataset    string    `json:"dataset"`
}

// LatencyMS is per-image latency at batch 1, in milliseconds.
type LatencyMS struct {
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	Mean float64 `json:"mean"`
}

func (o *Options) validate() error {
	switch {
	case o.Model == "":
		return cli.BadInputf("eval: --model is required (see 'tandem eval --help')")
	case o.Dataset == "":
		return cli.BadInputf("eval: --dataset is required (see 'tandem eval --help')")
	case o.Split != SplitTest && o.Split != SplitAll:
		return cli.BadInputf("eval: --split %q: want %s or %s", o.Split, SplitTest, SplitAll)
	case o.Samples < 0:
		return cli.BadInputf("eval: --samples %d: want 0 (all) or more", o.Samples)
	case o.Threads < 1:
		return cli.BadInputf("eval: --threads %d: want 1 or more", o.Threads)
	case o.Batch < 1:
		return cli.BadInputf("eval: --batch %d: want 1 or more", o.Batch)
	case o.LatencyRuns < 1:
		return cli.BadInputf("eval: --latency-runs %d: want 1 or more", o.LatencyRuns)
	}
	return nil
}

func run(opts *Options) error {
	if err := opts.validate(); err != nil {
		return err
	}
	if _, err := os.Stat(opts.Model); err != nil {
		return cli.BadInputf("eval: --model: %v", err)
	}
	info, err := hil.InitORT()
	if err != nil {
		return err
	}
	sess, err := hil.Open(opts.Model, hil.Options{IntraOpThreads: opts.Threads})
	if err != nil {
		return cli.BadInput(err)
	}
	defer sess.Close()

	set, err := evalSet(opts, sess.SampleShape(), sess.OutputSize())
	if err != nil {
		return err
	}
	res, err := hil.Evaluate(sess, set, hil.EvalOptions{Batch: opts.Batch, LatencyRuns: opts.LatencyRuns})
	if err != nil {
		return err
	}
	l := res.Latency
	report := Report{
		Accuracy: res.Accuracy,
		Samples:  res.Samples,
		LatencyMS: LatencyMS{
			P50:  hil.Milliseconds(l.P50),
			P90:  hil.Milliseconds(l.P90),
			P99:  hil.Milliseconds(l.P99),
			Mean: hil.Milliseconds(l.Mean),
		},
		Threads:    opts.Threads,
		ORTVersion: info.Version,
		Model:      opts.Model,
		Dataset:    opts.Dataset,
	}
	out := opts.Out
	if out == nil {
		out = os.Stdout
	}
	if opts.JSON {
		return json.NewEncoder(out).Encode(report)
	}
	return writeTable(out, report, l.Runs)
}

// evalSet loads the samples to evaluate and checks they fit the model's
// input, whose shape also tells how to read a CSV file, and its outputs.
func evalSet(opts *Options, shape []int, outputs int) (*data.Set, error) {
	d, err := data.Load(opts.Dataset, data.Options{Shape: shape})
	if err != nil {
		return nil, cli.BadInput(fmt.Errorf("eval: %w", err))
	}
	var set *data.Set
	switch opts.Split {
	case SplitAll:
		set = d.All()
	case SplitTest:
		cfg := data.DefaultSplit
		cfg.Seed = opts.Seed
		sp, err := d.Split(cfg)
		if err != nil {
			return nil, err
		}
		set = sp.Test
	}
	if opts.Samples > 0 {
		set = set.First(opts.Samples)
	}
	if set.Len() == 0 {
		return nil, cli.BadInputf("eval: dataset %s is too small to hold out a test part: use --split all", opts.Dataset)
	}
	if err := data.CheckShape(set, shape); err != nil {
		return nil, cli.BadInput(fmt.Errorf("eval: %w", err))
	}
	if set.Classes > outputs {
		return nil, cli.BadInputf("eval: dataset %s has %d classes, model %s gives %d outputs", opts.Dataset, set.Classes, opts.Model, outputs)
	}
	return set, nil
}

func writeTable(w io.Writer, r Report, runs int) error {
	ms := func(v float64) string { return strconv.FormatFloat(v, 'g', 4, 64) }
	t := tablewriter.NewWriter(w)
	t.Header("measure", "value")
	rows := [][]string{
		{"model", r.Model},
		{"dataset", r.Dataset},
		{"samples", strconv.Itoa(r.Samples)},
		{"accuracy", strconv.FormatFloat(r.Accuracy, 'f', 4, 64)},
		{"latency p50 (ms)", ms(r.LatencyMS.P50)},
		{"latency p90 (ms)", ms(r.LatencyMS.P90)},
		{"latency p99 (ms)", ms(r.LatencyMS.P99)},
		{"latency mean (ms)", ms(r.LatencyMS.Mean)},
		{"latency runs", strconv.Itoa(runs)},
		{"threads", strconv.Itoa(r.Threads)},
		{"ONNX Runtime", r.ORTVersion},
	}
	if err := t.Bulk(rows); err != nil {
		return err
	}
	return t.Render()
}
