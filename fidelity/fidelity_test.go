package fidelity

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/tandem-edge/tandem/agents/offload"
	"github.com/tandem-edge/tandem/deploy"
)

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		name string
		xs   []float64
		want float64
	}{
		{"one run", []float64{4}, 4},
		{"two runs: the mean of both", []float64{4, 1}, 2.5},
		{"three runs: the middle one", []float64{9, 1, 4}, 4},
		{"four runs: the mean of the middle two", []float64{10, 1, 3, 5}, 4},
		{"ties", []float64{2, 2, 7}, 2},
	} {
		in := append([]float64(nil), tc.xs...)
		if got := Median(tc.xs); got != tc.want {
			t.Errorf("%s: Median(%v) = %g, want %g", tc.name, in, got, tc.want)
		}
		for i := range in {
			if in[i] != tc.xs[i] {
				t.Errorf("%s: Median reordered its argument: %v", tc.name, tc.xs)
			}
		}
	}
	if got := Median(nil); !math.IsNaN(got) {
		t.Errorf("Median(nil) = %g, want NaN", got)
	}
}

func TestRelError(t *testing.T) {
	for _, tc := range []struct {
		name     string
		sim, hil float64
		want     *float64
	}{
		{"predicted more: positive", 12, 10, ptr(0.2)},
		{"predicted less: negative", 8, 10, ptr(-0.2)},
		{"exact", 10, 10, ptr(0.0)},
		{"nothing happened: none", 3, 0, nil},
		{"both zero: none", 0, 0, nil},
		{"infinite: none", math.Inf(1), 2, nil},
	} {
		got := RelError(tc.sim, tc.hil)
		switch {
		case got == nil && tc.want == nil:
		case got == nil || tc.want == nil || math.Abs(*got-*tc.want) > 1e-12:
			t.Errorf("%s: RelError(%g, %g) = %v, want %v", tc.name, tc.sim, tc.hil, show(got), show(tc.want))
		}
	}
}

func TestStagesMeans(t *testing.T) {
	ms := func(v float64) time.Duration { return time.Duration(v * 1e6) }
	var s Stages
	recs := []deploy.Record{
		{Decision: offload.Edge, EdgeQueue: ms(1), Edge: ms(4), Latency: ms(5)},
		{Decision: offload.Edge, EdgeQueue: ms(3), Edge: ms(6), Latency: ms(9)},
		{Decision: offload.Cloud, Edge: ms(5), Uplink: ms(10), CloudQueue: ms(2), Cloud: ms(20), Downlink: ms(1), Latency: ms(38)},
		{Decision: offload.Cloud, Edge: ms(5), Uplink: ms(30), CloudQueue: ms(4), Cloud: ms(40), Downlink: ms(3), Latency: ms(82)},
		// A failed request counts nowhere.
		{Decision: offload.Cloud, Edge: ms(100), Uplink: ms(100), Cloud: ms(100), Latency: ms(1000),
			Status: deploy.StatusFailed, Failure: deploy.FailureTimeout},
	}
	for i := range recs {
		if err := s.Record(&recs[i]); err != nil {
			t.Fatal(err)
		}
	}
	got := s.Means()
	want := StageMeans{Completed: 4, Offloaded: 2, EdgeQueueMS: 1, EdgeMS: 5,
		UplinkMS: 20, CloudQueueMS: 3, CloudMS: 30, DownlinkMS: 2, OffloadedLatencyMS: 60}
	if got != want {
		t.Errorf("Means() = %+v\nwant       %+v", got, want)
	}
	var empty Stages
	if got := empty.Means(); got != (StageMeans{}) {
		t.Errorf("an empty recorder's means: %+v, want zeros", got)
	}
	rec := deploy.Record{Decision: offload.Cloud, Edge: ms(1), Latency: ms(2)}
	if n := testing.AllocsPerRun(100, func() { s.Record(&rec) }); n != 0 {
		t.Errorf("Record allocates %g times a record, want 0", n)
	}
}

// summary is a synthetic summary with the figures a table reads.
func summary(mode string, acc, off, mean, p95 float64) *deploy.Summary {
	return &deploy.Summary{Scenario: "s", Mode: mode, Seed: 7, Requests: 10, Completed: 10, Failures: map[string]int64{},
		Accuracy: acc, OffloadRate: off, LatencyMS: deploy.LatencyMS{Mean: mean, P50: mean, P95: p95, P99: p95, Max: p95},
		ThroughputRPS: 100, Utilization: deploy.Utilization{Cloud: 0.5}}
}

func TestTable(t *testing.T) {
	sim := Run{Summary: summary("sim", 0.9, 0.2, 11, 20), Stages: StageMeans{Completed: 10, Offloaded: 2, EdgeMS: 5, UplinkMS: 3}}
	for _, tc := range []struct {
		name           string
		hil            []Run
		wantMean       float64 // the median of the real runs' means
		wantRel        float64 // and the mean's relative error
		wantIdentical  bool    // accuracy's flag
		wantMeanRuns   []float64
		wantUplinkHIL  float64
		wantUplinkNone bool
	}{
		{"one run", []Run{{Summary: summary("hil", 0.9, 0.2, 10, 20), Stages: StageMeans{EdgeMS: 4, UplinkMS: 2}}},
			10, 0.1, true, []float64{10}, 2, false},
		{"two runs: the mean of both", []Run{
			{Summary: summary("hil", 0.9, 0.2, 10, 20), Stages: StageMeans{EdgeMS: 4, UplinkMS: 2}},
			{Summary: summary("hil", 0.9, 0.2, 12, 20), Stages: StageMeans{EdgeMS: 4, UplinkMS: 4}},
		}, 11, 0, true, []float64{10, 12}, 3, false},
		{"three runs, one accuracy off", []Run{
			{Summary: summary("hil", 0.9, 0.2, 22, 20)},
			{Summary: summary("hil", 0.8, 0.2, 10, 20)},
			{Summary: summary("hil", 0.9, 0.2, 10, 20)},
		}, 10, 0.1, false, []float64{22, 10, 10}, 0, true},
	} {
		tb := NewTable(sim, tc.hil)
		mean := tb.row("latency_mean_ms")
		if mean.HIL != tc.wantMean || mean.Rel == nil || math.Abs(*mean.Rel-tc.wantRel) > 1e-12 {
			t.Errorf("%s: latency_mean_ms hil %g rel %v, want %g and %g", tc.name, mean.HIL, show(mean.Rel), tc.wantMean, tc.wantRel)
		}
		if !equal(mean.HILRuns, tc.wantMeanRuns) {
			t.Errorf("%s: latency_mean_ms runs %v, want %v", tc.name, mean.HILRuns, tc.wantMeanRuns)
		}
		if acc := tb.row("accuracy"); acc.Identical == nil || *acc.Identical != tc.wantIdentical {
			t.Errorf("%s: accuracy identical %v, want %v", tc.name, show(acc.Identical), tc.wantIdentical)
		}
		if off := tb.row("offload_rate"); off.Identical == nil || !*off.Identical {
			t.Errorf("%s: offload_rate not identical", tc.name)
		}
		if tb.row("latency_p95_ms").Identical != nil {
			t.Errorf("%s: a modelled figure has an identical flag", tc.name)
		}
		up := stage(t, tb, "uplink_ms")
		if up.HIL != tc.wantUplinkHIL || (up.Rel == nil) != tc.wantUplinkNone {
			t.Errorf("%s: uplink_ms hil %g rel %v, want %g (none: %v)", tc.name, up.HIL, show(up.Rel), tc.wantUplinkHIL, tc.wantUplinkNone)
		}
		if len(tb.Runs) != 1+len(tc.hil) || tb.Runs[0].Name != "sim" || tb.Runs[len(tc.hil)].Name != RunName(len(tc.hil)) {
			t.Errorf("%s: runs %+v", tc.name, tb.Runs)
		}
		if len(tb.Metrics) != len(Metrics) || len(tb.Stages) != len(stageFigures) {
			t.Errorf("%s: %d metrics and %d stages", tc.name, len(tb.Metrics), len(tb.Stages))
		}
	}
}

// TestTableParts lines up each edge group and cloud pool by name, whatever
// their order in the real runs, and leaves out one a real run lacks.
func TestTableParts(t *testing.T) {
	group := func(name string, acc, mean float64) deploy.GroupSummary {
		g := deploy.GroupSummary{Name: name, AccuracyOverRequests: acc, OffloadRate: 0.2}
		g.LatencyMS.Mean = mean
		return g
	}
	sim := summary("sim", 0.9, 0.2, 11, 20)
	sim.Groups = []deploy.GroupSummary{group("campus", 0.9, 2), group("remote", 0.8, 10), group("lost", 0.5, 1)}
	sim.Clouds = []deploy.PoolSummary{{Name: "near", Utilization: 0.1}, {Name: "far", Utilization: 0.3}}
	var hil []Run
	for k, mean := range []float64{4, 2.5} {
		h := summary("hil", 0.9, 0.2, 12, 20)
		h.Groups = []deploy.GroupSummary{group("remote", 0.8, 11), group("campus", 0.9-0.1*float64(k), mean)}
		if k == 0 {
			h.Groups = append(h.Groups, group("lost", 0.5, 1))
		}
		h.Clouds = []deploy.PoolSummary{{Name: "far", Utilization: 0.2}, {Name: "near", Utilization: 0.2}}
		hil = append(hil, Run{Summary: h})
	}
	tb := NewTable(Run{Summary: sim}, hil)
	rows := map[string]Row{}
	for _, r := range tb.Parts {
		rows[r.Metric] = r
	}
	if len(tb.Parts) != 2*len(groupFigures)+2 {
		t.Errorf("%d part rows, want the two groups every run has and the two pools", len(tb.Parts))
	}
	if r := rows["group campus: latency_mean_ms"]; r.HIL != 3.25 || r.Rel == nil || math.Abs(*r.Rel-(2-3.25)/3.25) > 1e-12 {
		t.Errorf("campus mean %+v", r)
	}
	if r := rows["group campus: accuracy_over_requests"]; r.Identical == nil || *r.Identical {
		t.Errorf("campus accuracy %+v: want it flagged as differing", r)
	}
	if r := rows["group remote: offload_rate"]; r.Identical == nil || !*r.Identical {
		t.Errorf("remote offload rate %+v", r)
	}
	if r := rows["cloud far: utilization"]; r.HIL != 0.2 || r.Sim != 0.3 {
		t.Errorf("pool far %+v", r)
	}
	if _, ok := rows["group lost: latency_mean_ms"]; ok {
		t.Error("a group one real run lacks has a row")
	}
	if md := string((&Report{Runs: 2, Scenarios: []*Table{tb}}).Markdown()); !strings.Contains(md, "| group remote: latency_mean_ms | 10.00 | 11.00 |") {
		t.Errorf("the Markdown lacks the groups' table:\n%s", md)
	}
}

func TestCheck(t *testing.T) {
	sim := Run{Summary: summary("sim", 0.9, 0.2, 11, 20)}
	for _, tc := range []struct {
		name       string
		hil        *deploy.Summary
		bound      float64
		wantWithin *bool
		wantMissed []string // what each missed line holds
	}{
		{"no bound", summary("hil", 0.8, 0.2, 5, 20), 0, nil, nil},
		{"within", summary("hil", 0.9, 0.2, 10.5, 20), 0.05, ptr(true), nil},
		{"mean beyond", summary("hil", 0.9, 0.2, 10, 20), 0.05, ptr(false), []string{"s: latency_mean_ms: sim 11.00 against hil 10.00 (the median of 1 real run) is +10.0% off, beyond the ±5% bound"}},
		{"accuracy differs", summary("hil", 0.8, 0.2, 11, 20), 0.5, ptr(false), []string{"s: accuracy:"}},
		{"p95 and p99 beyond", summary("hil", 0.9, 0.2, 11, 40), 0.1, ptr(false), []string{"latency_p95_ms", "latency_p99_ms"}},
	} {
		tb := NewTable(sim, []Run{{Summary: tc.hil}})
		missed := tb.Check(tc.bound)
		if len(missed) != len(tc.wantMissed) {
			t.Errorf("%s: missed %q, want %d lines", tc.name, missed, len(tc.wantMissed))
			continue
		}
		for i, m := range missed {
			if !strings.Contains(m, tc.wantMissed[i]) {
				t.Errorf("%s: missed line %q, want it to hold %q", tc.name, m, tc.wantMissed[i])
			}
		}
		if got := tb.Headline.Within; (got == nil) != (tc.wantWithin == nil) || got != nil && *got != *tc.wantWithin {
			t.Errorf("%s: within %v, want %v", tc.name, show(got), show(tc.wantWithin))
		}
		if tc.bound > 0 && tb.row("latency_p50_ms").Within != nil {
			t.Errorf("%s: the bound checked p50", tc.name)
		}
		if tb.Check(0); tb.Headline.Within != nil || tb.row("accuracy").Within != nil {
			t.Errorf("%s: a check with no bound left an earlier one's marks", tc.name)
		}
	}
}

func TestReport(t *testing.T) {
	sim := Run{Summary: summary("sim", 0.9, 0.2, 11, 20), Stages: StageMeans{EdgeMS: 5}}
	tb := NewTable(sim, []Run{{Summary: summary("hil", 0.9, 0.2, 10, 22)}, {Summary: summary("hil", 0.9, 0.2, 10, 18)}})
	tb.Ref = "builtin:s"
	r := &Report{Command: "tandem validate builtin:s --runs 2", RelError: RelErrorDefinition, MaxError: 0.05, Runs: 2, Scenarios: []*Table{tb}}
	if missed := r.Check(); len(missed) != 1 || !strings.Contains(missed[0], "latency_mean_ms") {
		t.Errorf("missed %q, want the mean alone", missed)
	}
	raw, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var back struct {
		RelError  string  `json:"rel_error"`
		MaxError  float64 `json:"max_error"`
		Scenarios []struct {
			Scenario string `json:"scenario"`
			Metrics  []struct {
				Metric    string    `json:"metric"`
				HILRuns   []float64 `json:"hil_runs"`
				Rel       *float64  `json:"rel_error"`
				Identical *bool     `json:"identical"`
			} `json:"metrics"`
			Summary struct {
				Worst  string `json:"worst_metric"`
				Within *bool  `json:"within"`
			} `json:"summary"`
		} `json:"scenarios"`
	}
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	if back.RelError == "" || back.MaxError != 0.05 || len(back.Scenarios) != 1 || len(back.Scenarios[0].Metrics) != len(Metrics) {
		t.Fatalf("fidelity.json: %s", raw)
	}
	s := back.Scenarios[0]
	if s.Metrics[0].Metric != "accuracy" || s.Metrics[0].Identical == nil || !*s.Metrics[0].Identical || len(s.Metrics[0].HILRuns) != 2 {
		t.Errorf("accuracy row: %+v", s.Metrics[0])
	}
	if s.Summary.Worst != "latency_mean_ms" || s.Summary.Within == nil || *s.Summary.Within {
		t.Errorf("summary: %+v", s.Summary)
	}

	md := string(r.Markdown())
	for _, want := range []string{
		"(sim − hil) / hil",
		"`tandem validate builtin:s --runs 2`",
		"| scenario | mean error | p95 error | p99 error | worst \\|error\\| | within ±5% |",
		"| s | +10.0% | +0.0% | +0.0% | +10.0% (latency_mean_ms) | no |",
		"| latency_mean_ms | 11.00 | 10.00 | 10.00, 10.00 | +10.0% (missed) |",
		"| accuracy | 0.9000 | 0.9000 | 0.9000, 0.9000 | identical |",
		"| edge_ms | 5.000 | 0 | 0, 0 | — |",
		"| hil-2 | 10 | 0 | 0 | 0.00 |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("Markdown lacks %q:\n%s", want, md)
		}
	}
	if !bytes.Contains(r.Markdown(), r.SummaryMarkdown()) {
		t.Error("Markdown lacks the summary table")
	}
	if strings.Contains(md, "another machine") {
		t.Errorf("Markdown warns of another machine's profiles without any:\n%s", md)
	}
	// A table whose profiles come from another machine says so, in the
	// summary and under its scenario.
	r.Host, tb.OtherHosts = "AMD EPYC, 2 cores, amd64", []string{"edge-cpu-1t: Intel(R) Xeon(R) Processor, 2 cores, amd64"}
	md = string(r.Markdown())
	for _, want := range []string{
		"Host: AMD EPYC, 2 cores, amd64",
		"Profiles measured on another machine than this one: s.",
		"Profiles measured on another machine: edge-cpu-1t: Intel(R) Xeon(R) Processor, 2 cores, amd64.",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("Markdown lacks %q:\n%s", want, md)
		}
	}
}

func TestNum(t *testing.T) {
	for v, want := range map[float64]string{0: "0", 0.875: "0.8750", 12.345: "12.35", 1234.5: "1234", 123456: "123456", 0.000123: "0.000123", -2.5: "-2.500"} {
		if got := num(v); got != want {
			t.Errorf("num(%g) = %q, want %q", v, got, want)
		}
	}
}

func stage(t *testing.T, tb *Table, name string) Row {
	t.Helper()
	for _, r := range tb.Stages {
		if r.Metric == name {
			return r
		}
	}
	t.Fatalf("no stage %s", name)
	return Row{}
}

func equal(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func ptr[T any](v T) *T { return &v }

func show[T any](p *T) any {
	if p == nil {
		return "nil"
	}
	return *p
}
