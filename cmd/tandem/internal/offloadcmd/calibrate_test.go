package offloadcmd

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/tandem-edge/tandem/agents/offload"
	"github.com/tandem-edge/tandem/cmd/tandem/internal/cli"
)

func TestRunCalibrate(t *testing.T) {
	dir := buildBundle(t)
	run := func(jsonOut bool) string {
		t.Helper()
		var stdout, stderr bytes.Buffer
		err := RunCalibrate(&CalibrateOptions{Bundle: dir, Train: quick, Splits: 3, Holdout: 0.5, Workers: 2, JSON: jsonOut,
			Stdout: &stdout, Stderr: &stderr})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(stderr.String(), "split 3 of 3 trained and judged") {
			t.Errorf("no progress on stderr:\n%s", stderr.String())
		}
		return stdout.String()
	}
	var rep struct {
		Bundle  string `json:"bundle"`
		Samples int    `json:"samples"`
		GEMM    string `json:"gemm"`
		Rule    string `json:"threshold_rule"`
		Met     *int   `json:"met"`
		Splits  []struct {
			Trained int  `json:"trained"`
			HeldOut int  `json:"held_out"`
			Lead    *int `json:"lead"`
			Met     bool `json:"met"`
		} `json:"splits"`
	}
	out := run(true)
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("--json: %v\n%s", err, out)
	}
	if rep.Bundle != "thirds" || rep.Samples < 10 || rep.GEMM == "" || rep.Rule != offload.ParityTarget(offload.DefaultConfidence, 0) || rep.Met == nil || len(rep.Splits) != 3 {
		t.Fatalf("--json: %s", out)
	}
	met := 0
	for _, s := range rep.Splits {
		if s.Trained+s.HeldOut != rep.Samples || s.Lead == nil {
			t.Errorf("split %+v of %d samples", s, rep.Samples)
		}
		if s.Met {
			met++
		}
	}
	if met != *rep.Met {
		t.Errorf("met %d, the splits say %d", *rep.Met, met)
	}
	// The table says the same, with the share met beside what the rule asks.
	table := run(false)
	for _, want := range []string{"bundle thirds, ", "target met on ", "of 3 held-out parts", "the rule asks it of a share 0.95 of resamples"} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
}

func TestRunCalibrateBadInput(t *testing.T) {
	ok := CalibrateOptions{Bundle: "builtin:fashion", Train: quick, Splits: 2, Holdout: 0.5, Workers: 1}
	cases := []struct {
		name string
		edit func(*CalibrateOptions)
		want string
	}{
		{"no splits", func(o *CalibrateOptions) { o.Splits = 0 }, "--splits 0"},
		{"holdout of all", func(o *CalibrateOptions) { o.Holdout = 1 }, "--holdout 1"},
		{"no workers", func(o *CalibrateOptions) { o.Workers = 0 }, "--workers 0"},
		{"confidence below parity", func(o *CalibrateOptions) { o.Train.Confidence = 0.4 }, "confidence 0.4"},
		{"unknown bundle", func(o *CalibrateOptions) { o.Bundle = "builtin:nope" }, `no built-in bundle "nope"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			opts := ok
			tc.edit(&opts)
			opts.Stdout, opts.Stderr = io.Discard, io.Discard
			err := RunCalibrate(&opts)
			if cli.ExitCode(err) != cli.ExitBadInput || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("RunCalibrate: %v (exit %d), want exit %d and an error containing %q", err, cli.ExitCode(err), cli.ExitBadInput, tc.want)
			}
		})
	}
}
