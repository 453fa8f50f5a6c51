package report

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tandem-edge/tandem/deploy"
	"github.com/tandem-edge/tandem/sweep"
)

func TestSweepReport(t *testing.T) {
	spec, err := sweep.Decode("s.yaml", []byte("scenario: builtin:threshold\nrequests: 500\nseeds: [1, 2]\nvary:\n  workload.rate: [5, 10]\n  cloud.servers: [1, 2]\n"))
	if err != nil {
		t.Fatal(err)
	}
	results, err := sweep.Run(spec, sweep.All, nil)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var b bytes.Buffer
	if err := sweep.WriteJSONL(&b, results); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, sweep.ResultsJSONL), b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	rep, err := Build(dir)
	if err != nil {
		t.Fatal(err)
	}
	md := string(rep.Markdown())
	for _, want := range []string{"# Sweep of threshold: 8 points", "| workload.rate | cloud.servers | accuracy |", "\n| 10 | 2 | ", "![p95 latency against workload.rate](p95.svg)"} {
		if !strings.Contains(md, want) {
			t.Errorf("report.md lacks %q:\n%s", want, md)
		}
	}
	// Two seeds a point: four rows.
	if rows := strings.Count(md, "\n| 5 |") + strings.Count(md, "\n| 10 |"); rows != 4 {
		t.Errorf("%d table rows, want 4 (points averaged over seeds)", rows)
	}
	html, err := rep.HTML()
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(html), "<svg"); n != len(rep.Plots) || n != 5 {
		t.Errorf("report.html has %d inline SVGs, %d plots, want 5", n, len(rep.Plots))
	}
	if strings.Contains(string(html), "<?xml") {
		t.Error("report.html carries an XML prologue inside the page")
	}
}

const summary = `{"scenario":"mine","mode":"hil","seed":1,"requests":4,"completed":3,"failed":1,"accuracy":0.6667,"offload_rate":0.3333,
"latency_ms":{"mean":5,"p50":1,"p95":12,"p99":12,"max":12},"throughput_rps":3,"utilization":{"edge":0.1,"uplink":0.2,"cloud":0.3},"events":0,"wall_seconds":1}`

const requests = `id,device,sample,arrival_ms,decision,edge_ms,uplink_ms,cloud_queue_ms,cloud_ms,latency_ms,correct,status,edge_queue_ms,downlink_ms,batch
0,0,5,0,edge,1,0,0,0,1,true,ok,0,0,0
1,0,6,10,edge,2,0,0,0,2,false,ok,0,0,0
2,1,7,20,cloud,1,6,1,2,12,true,ok,0,2,1
3,1,8,30,cloud,1,0,0,0,3,false,failed,0,0,0
`

func TestRunReport(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "summary.json"), []byte(summary), 0o644)
	os.WriteFile(filepath.Join(dir, "requests.csv"), []byte(requests), 0o644)
	rep, err := Build(dir)
	if err != nil {
		t.Fatal(err)
	}
	md := string(rep.Markdown())
	for _, want := range []string{"# Hardware-in-the-loop run of mine", "| edge | 2 | 1.500 | 0.000 |", "| cloud | 1 | 1.000 | 6.000 | 1.000 | 2.000 | 2.000 | 12.000 |"} {
		if !strings.Contains(md, want) {
			t.Errorf("report.md lacks %q:\n%s", want, md)
		}
	}
	if len(rep.Plots) != 1 {
		t.Errorf("%d plots, want the latency distribution", len(rep.Plots))
	}
}

// A run that has its baselines beside it is reported beside them.
func TestRunReportWithBaselines(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "summary.json"), []byte(summary), 0o644)
	base := `{"scenario": "mine", "seed": 1, "policy": "learned", "baselines": [
	  {"policy": "cloud-only", "summary": {"mode": "sim", "requests": 4, "completed": 4, "accuracy": 0.75,
	    "accuracy_over_completed": 0.75, "accuracy_over_requests": 0.75, "offload_rate": 1, "latency_ms": {"mean": 20, "p95": 30, "p99": 40}},
	   "paired": {"a_right_b_wrong": 12, "samples_a_better": 12, "difference": -0.25, "difference_low": -0.5, "difference_high": 0, "p": 1}}],
	  "notes": ["no edge-only baseline: why"]}`
	os.WriteFile(filepath.Join(dir, "baselines.json"), []byte(base), 0o644)
	rep, err := Build(dir)
	if err != nil {
		t.Fatal(err)
	}
	md := string(rep.Markdown())
	for _, want := range []string{"## Beside the trivial policies", "| cloud-only | 75.000% / 75.000% | 100.00% | 0 | 20.000 / 30.000 / 40.000 | -25.000 points (95% interval -50.000 to +0.000); McNemar p = 1 |", "note: no edge-only baseline: why"} {
		if !strings.Contains(md, want) {
			t.Errorf("report.md lacks %q:\n%s", want, md)
		}
	}
	os.WriteFile(filepath.Join(dir, "baselines.json"), []byte(`{"baselines": [{"policy": "x"}]}`), 0o644)
	if _, err := Build(dir); err == nil || !strings.Contains(err.Error(), "baseline 0 (x) has no summary") {
		t.Errorf("a baseline without its summary: %v", err)
	}
}

func TestBuildErrors(t *testing.T) {
	empty := t.TempDir()
	badSummary := t.TempDir()
	os.WriteFile(filepath.Join(badSummary, "summary.json"), []byte(`{"mode":"guess"}`), 0o644)
	badCSV := t.TempDir()
	os.WriteFile(filepath.Join(badCSV, "summary.json"), []byte(summary), 0o644)
	os.WriteFile(filepath.Join(badCSV, "requests.csv"), []byte("id,latency\n1,2\n"), 0o644)
	for _, tc := range []struct{ dir, want string }{
		{empty, "holds neither results.jsonl"},
		{badSummary, "not a summary.json"},
		{badCSV, `no column "decision": not a requests.csv`},
	} {
		if _, err := Build(tc.dir); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Build(%s): %v, want %q", tc.dir, err, tc.want)
		}
	}
}

// TestDistinctTicks checks tick labels on ranges narrow enough that
// gonum's own labels repeat once rounded.
func TestDistinctTicks(t *testing.T) {
	for _, r := range [][2]float64{{22.78, 22.93}, {4.97, 5.12}, {0.9371, 0.9386}, {0, 1}, {1000, 5000}} {
		seen := map[string]bool{}
		n := 0
		for _, tk := range (distinctTicks{}).Ticks(r[0], r[1]) {
			if tk.Label == "" {
				continue
			}
			n++
			if seen[tk.Label] {
				t.Errorf("range %v: label %q twice", r, tk.Label)
			}
			seen[tk.Label] = true
			if v, err := strconv.ParseFloat(tk.Label, 64); err != nil || math.Abs(v-tk.Value) > 1e-9*max(1, math.Abs(tk.Value)) && math.Abs(v-tk.Value) > 0.5*(r[1]-r[0])/10 {
				t.Errorf("range %v: label %q for a tick at %v", r, tk.Label, tk.Value)
			}
		}
		if n < 2 {
			t.Errorf("range %v: %d labelled ticks", r, n)
		}
	}
}

// TestYRange checks that a fraction's axis stays within [0, 1] and a
// time's above 0, however the data are spread.
func TestYRange(t *testing.T) {
	for _, tc := range []struct {
		lo, hi   float64
		q        quantity
		min, max float64
	}{
		{0.93, 1, fractionOf("accuracy"), 0.923, 1},
		{0, 0.2, fractionOf("offload rate"), 0, 0.22},
		{0.5, 0.5, fractionOf("x"), 0.475, 0.525},
		{1, 30, msOf("p95"), 0, 32.9},
	} {
		lo, hi := yRange(tc.lo, tc.hi, tc.q)
		if math.Abs(lo-tc.min) > 1e-9 || math.Abs(hi-tc.max) > 1e-9 {
			t.Errorf("yRange(%v, %v, %s) = %v, %v; want %v, %v", tc.lo, tc.hi, tc.q.label, lo, hi, tc.min, tc.max)
		}
	}
}

// A baselines.json of any content gives a table or an error, never a panic.
func FuzzBaselinesFrom(f *testing.F) {
	f.Add([]byte(`{"policy": "learned", "baselines": [{"policy": "cloud-only", "summary": {"latency_ms": {"mean": 2}}, "paired": {"difference": -0.1}}], "notes": ["n"]}`))
	f.Add([]byte(`{"baselines": [{"policy": "edge-only"}]}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		tab, err := baselinesFrom("baselines.json", raw, &deploy.Summary{})
		if err == nil && (tab == nil || len(tab.Rows) == 0) {
			t.Fatalf("no error and no table from %q", raw)
		}
	})
}
