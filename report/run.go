package report

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"gonum.org/v1/plot/plotter"

	"github.com/tandem-edge/tandem/deploy"
)

// runReport reports one run: its summary, the trivial policies' runs beside
// it when baselines.json is there, and, from requests.csv, the latency
// distribution of the requests each side answered and the mean time of each
// stage.
func runReport(dir string, s *deploy.Summary) (*Report, error) {
	what := "Simulation"
	if s.Mode == deploy.ModeHIL {
		what = "Hardware-in-the-loop run"
	}
	rep := &Report{
		Title: fmt.Sprintf("%s of %s", what, s.Scenario),
		Intro: fmt.Sprintf("Seed %d, %d requests: %d completed, %d failed.", s.Seed, s.Requests, s.Completed, s.Failed),
	}
	rep.Tables = append(rep.Tables, Table{Title: "Summary", Header: []string{"figure", "value"}, Rows: [][]string{
		{"accuracy", pct(s.Accuracy)}, {"offload rate", pct(s.OffloadRate)},
		{"latency mean / p50 / p95 / p99 / max (ms)", fmt.Sprintf("%s / %s / %s / %s / %s", f3(s.LatencyMS.Mean), f3(s.LatencyMS.P50), f3(s.LatencyMS.P95), f3(s.LatencyMS.P99), f3(s.LatencyMS.Max))},
		{"throughput (req/s)", f1(s.ThroughputRPS)},
		{"utilization edge / uplink / cloud", fmt.Sprintf("%s / %s / %s", pct(s.Utilization.Edge), pct(s.Utilization.Uplink), pct(s.Utilization.Cloud))},
	}})
	for _, c := range s.Clouds {
		sum := &rep.Tables[len(rep.Tables)-1]
		sum.Rows = append(sum.Rows, []string{"cloud pool " + c.Name + ": servers, utilization", strconv.Itoa(c.Servers) + ", " + pct(c.Utilization)})
	}
	if e := s.Energy; e != nil {
		sum := &rep.Tables[len(rep.Tables)-1]
		sum.Rows = append(sum.Rows,
			[]string{"energy per request above idle (mJ)", f3(e.PerRequestMJ)},
			[]string{"device power mean / max (W)", f3(e.MeanPowerW) + " / " + f3(e.MaxPowerW)})
		if e.BatteryHours > 0 {
			sum.Rows = append(sum.Rows, []string{"battery life mean / first flat (h)", f1(e.BatteryHours) + " / " + f1(e.BatteryHoursMin)})
		}
	}
	bt, err := baselinesTable(dir, s)
	if err != nil {
		return nil, err
	}
	if bt != nil {
		rep.Tables = append(rep.Tables, *bt)
	}
	f, err := os.Open(filepath.Join(dir, "requests.csv"))
	if errors.Is(err, fs.ErrNotExist) {
		return rep, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	lat, stages, err := readRequests(filepath.Join(dir, "requests.csv"), f)
	if err != nil {
		return nil, err
	}
	t := Table{Title: "Mean time per stage (ms), completed requests", Header: []string{"answered by", "requests", "edge", "uplink", "cloud queue", "cloud", "downlink", "latency"}}
	var lines []series
	for _, side := range []string{"edge", "cloud"} {
		st := stages[side]
		if st == nil || st.n == 0 {
			continue
		}
		row := []string{side, strconv.Itoa(st.n)}
		for _, v := range st.sum {
			row = append(row, f3(v/float64(st.n)))
		}
		t.Rows = append(t.Rows, row)
		lines = append(lines, series{name: "answered at the " + side, xy: cdf(lat[side])})
	}
	rep.Tables = append(rep.Tables, t)
	if len(lines) > 0 {
		svg, err := lineSVG("latency (ms)", fractionOf("fraction of requests at most"), lines)
		if err != nil {
			return nil, err
		}
		rep.Plots = append(rep.Plots, Plot{Title: "latency distribution", File: "latency.svg", SVG: svg})
	}
	return rep, nil
}

// stageSums are a side's request count and summed stage times.
type stageSums struct {
	n   int
	sum [6]float64 // edge, uplink, cloud queue, cloud, downlink, latency
}

var stageColumns = []string{"edge_ms", "uplink_ms", "cloud_queue_ms", "cloud_ms", "downlink_ms", "latency_ms"}

// readRequests reads requests.csv: each completed request's latency and
// stage times, by the side that answered it.
func readRequests(name string, r io.Reader) (map[string][]float64, map[string]*stageSums, error) {
	cr := csv.NewReader(r)
	header, err := cr.Read()
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[h] = i
	}
	for _, c := range append([]string{"decision", "status"}, stageColumns...) {
		if _, ok := col[c]; !ok {
			return nil, nil, fmt.Errorf("%s: no column %q: not a requests.csv", name, c)
		}
	}
	lat := map[string][]float64{}
	stages := map[string]*stageSums{}
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", name, err)
		}
		if rec[col["status"]] != "ok" {
			continue
		}
		side := rec[col["decision"]]
		st := stages[side]
		if st == nil {
			st = &stageSums{}
			stages[side] = st
		}
		st.n++
		var latency float64
		for i, c := range stageColumns {
			v, err := strconv.ParseFloat(rec[col[c]], 64)
			if err != nil {
				return nil, nil, fmt.Errorf("%s:%d: %s: %v", name, line, c, err)
			}
			st.sum[i] += v
			latency = v // latency_ms comes last
		}
		lat[side] = append(lat[side], latency)
	}
	return lat, stages, nil
}

// cdf samples the empirical distribution of xs at up to 200 points.
func cdf(xs []float64) plotter.XYs {
	slices.Sort(xs)
	n := len(xs)
	step := max(n/200, 1)
	var out plotter.XYs
	for i := step - 1; i < n; i += step {
		out = append(out, plotter.XY{X: xs[i], Y: float64(i+1) / float64(n)})
	}
	if len(out) == 0 || out[len(out)-1].Y != 1 {
		out = append(out, plotter.XY{X: xs[n-1], Y: 1})
	}
	return out
}
