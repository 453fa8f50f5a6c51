// Package report owns what tandem hands to people: a report of a sweep or
// of one run (simulated or measured) as Markdown and as one self-contained
// HTML page with its SVG plots inline. It reads only the outputs of the other
// commands (results.jsonl, summary.json, requests.csv).
package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot/plotter"

	"github.com/tandem-edge/tandem/deploy"
	"github.com/tandem-edge/tandem/sweep"
)

// Report is a report ready to write.
type Report struct {
	Title  string
	Intro  string
	Tables []Table
	Plots  []Plot
}

// Table is a titled table of strings.
type Table struct {
	Title  string
	Header []string
	Rows   [][]string
}

// Plot is a titled SVG figure; File is its name when written beside the
// Markdown.
type Plot struct {
	Title string
	File  string
	SVG   []byte
}

// Build reads the outputs in dir, a sweep's (results.jsonl) or a run's
// (summary.json, with requests.csv when there is one), and makes the report.
func Build(dir string) (*Report, error) {
	if raw, err := os.ReadFile(filepath.Join(dir, sweep.ResultsJSONL)); err == nil {
		results, err := sweep.ReadJSONL(filepath.Join(dir, sweep.ResultsJSONL), bytes.NewReader(raw))
		if err != nil {
			return nil, err
		}
		return sweepReport(results)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	raw, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("report: %s holds neither %s (a sweep's) nor summary.json (a run's)", dir, sweep.ResultsJSONL)
	}
	if err != nil {
		return nil, err
	}
	var s deploy.Summary
	if err := json.Unmarshal(raw, &s); err != nil || (s.Mode != deploy.ModeSim && s.Mode != deploy.ModeHIL) {
		return nil, fmt.Errorf("report: %s: not a summary.json (%v)", filepath.Join(dir, "summary.json"), err)
	}
	return runReport(dir, &s)
}

// sweepReport tabulates every point, averaged over seeds, and plots the
// main figures against the first varied key, one line per combination of
// the others.
func sweepReport(results []sweep.Result) (*Report, error) {
	if len(results) == 0 {
		return nil, errors.New("report: the sweep has no results")
	}
	keys := make([]string, len(results[0].Values))
	for i, a := range results[0].Values {
		keys[i] = a.Key
	}
	// A point's figures over its seeds: sum, least and largest.
	type agg struct {
		values []string
		n      float64
		sum    []float64 // by deploy.Figures
		lo, hi []float64
	}
	var order []string
	groups := map[string]*agg{}
	for _, r := range results {
		vals := make([]string, len(r.Values))
		for i, a := range r.Values {
			vals[i] = a.Value
		}
		id := strings.Join(vals, "\x00")
		g := groups[id]
		if g == nil {
			g = &agg{values: vals, sum: make([]float64, len(deploy.Figures)), lo: make([]float64, len(deploy.Figures)), hi: make([]float64, len(deploy.Figures))}
			for i := range g.lo {
				g.lo[i], g.hi[i] = math.Inf(1), math.Inf(-1)
			}
			groups[id] = g
			order = append(order, id)
		}
		g.n++
		for i, f := range deploy.Figures {
			v := f.Of(r.Summary)
			g.sum[i] += v
			g.lo[i], g.hi[i] = min(g.lo[i], v), max(g.hi[i], v)
		}
	}
	mean := func(g *agg, figure string) float64 { return g.sum[deploy.FigureIndex(figure)] / g.n }
	seeds := len(results) / len(order)
	scenario := results[0].Summary.Scenario
	rep := &Report{
		Title: fmt.Sprintf("Sweep of %s: %d points", scenario, len(results)),
		Intro: fmt.Sprintf("Each point is a simulation of scenario %s with %s set as shown; figures are means over the %d seed(s) of each point%s.",
			scenario, strings.Join(keys, ", "), seeds, map[bool]string{true: ", and the bars on the plots span the least to the largest seed", false: ""}[seeds > 1]),
	}
	t := Table{Title: "Points", Header: append(slices.Clone(keys), "accuracy", "offload rate", "mean ms", "p95 ms", "p99 ms", "throughput rps", "cloud busy")}
	for _, id := range order {
		g := groups[id]
		t.Rows = append(t.Rows, append(slices.Clone(g.values), pct(mean(g, "accuracy")), pct(mean(g, "offload_rate")),
			f3(mean(g, "latency_mean_ms")), f3(mean(g, "latency_p95_ms")), f3(mean(g, "latency_p99_ms")),
			f1(mean(g, "throughput_rps")), pct(mean(g, "utilization_cloud"))))
	}
	rep.Tables = append(rep.Tables, t)

	// Lines: x is the first key, one line per value of the others.
	for _, fig := range []struct {
		title, figure string
		y             quantity
		file          string
	}{
		{"p95 latency", "latency_p95_ms", msOf("p95 latency"), "p95.svg"},
		{"mean latency", "latency_mean_ms", msOf("mean latency"), "mean.svg"},
		{"accuracy", "accuracy", fractionOf("accuracy"), "accuracy.svg"},
		{"offload rate", "offload_rate", fractionOf("offload rate"), "offload.svg"},
		{"cloud utilization", "utilization_cloud", fractionOf("cloud utilization"), "cloud.svg"},
	} {
		lines := map[string]*series{}
		var names []string
		numeric := true
		for i, id := range order {
			g := groups[id]
			x, err := strconv.ParseFloat(g.values[0], 64)
			if err != nil {
				numeric, x = false, float64(i)
			}
			var rest []string
			for j := 1; j < len(keys); j++ {
				rest = append(rest, keys[j]+"="+g.values[j])
			}
			name := strings.Join(rest, ", ")
			if lines[name] == nil {
				lines[name] = &series{name: name}
				names = append(names, name)
			}
			l := lines[name]
			l.xy = append(l.xy, plotter.XY{X: x, Y: mean(g, fig.figure)})
			if seeds > 1 {
				k := deploy.FigureIndex(fig.figure)
				l.lo, l.hi = append(l.lo, g.lo[k]), append(l.hi, g.hi[k])
			}
		}
		if !numeric {
			continue // a categorical first key: the table says it better
		}
		var ls []series
		for _, n := range names {
			ls = append(ls, *lines[n])
		}
		svg, err := lineSVG(keys[0], fig.y, ls)
		if err != nil {
			return nil, err
		}
		rep.Plots = append(rep.Plots, Plot{Title: fig.title + " against " + keys[0], File: fig.file, SVG: svg})
	}
	return rep, nil
}

func pct(v float64) string { return strconv.FormatFloat(100*v, 'f', 2, 64) + "%" }
func f3(v float64) string  { return strconv.FormatFloat(v, 'f', 3, 64) }
func f1(v float64) string  { return strconv.FormatFloat(v, 'f', 1, 64) }

// Markdown renders the report; its plots are referenced by file name.
func (r *Report) Markdown() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# %s\n\n%s\n", r.Title, r.Intro)
	for _, t := range r.Tables {
		fmt.Fprintf(&b, "\n## %s\n\n| %s |\n|%s\n", t.Title, strings.Join(t.Header, " | "), strings.Repeat(" --- |", len(t.Header)))
		for _, row := range t.Rows {
			fmt.Fprintf(&b, "| %s |\n", strings.Join(row, " | "))
		}
	}
	for _, p := range r.Plots {
		fmt.Fprintf(&b, "\n## %s\n\n![%s](%s)\n", p.Title, p.Title, p.File)
	}
	return b.Bytes()
}

var page = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}}</title>
<style>body{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:right}
th{background:#f4f4f4}figure{margin:2em 0}figure svg{width:100%;height:auto}</style></head><body>
<h1>{{.Title}}</h1><p>{{.Intro}}</p>
{{range .Tables}}<h2>{{.Title}}</h2><table><tr>{{range .Header}}<th>{{.}}</th>{{end}}</tr>
{{range .Rows}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>
{{end}}</table>{{end}}
{{range .Plots}}<figure><figcaption><h2>{{.Title}}</h2></figcaption>{{.Inline}}</figure>
{{end}}</body></html>
`))

// HTML renders the report as one page, its plots inline.
func (r *Report) HTML() ([]byte, error) {
	type plotView struct {
		Title  string
		Inline template.HTML
	}
	view := struct {
		Title, Intro string
		Tables       []Table
		Plots        []plotView
	}{Title: r.Title, Intro: r.Intro, Tables: r.Tables}
	for _, p := range r.Plots {
		// The SVG is gonum/plot's own output, not user input: it goes in
		// as markup, minus its XML prologue.
		svg := p.SVG
		if i := bytes.Index(svg, []byte("<svg")); i > 0 {
			svg = svg[i:]
		}
		view.Plots = append(view.Plots, plotView{Title: p.Title, Inline: template.HTML(svg)})
	}
	var b bytes.Buffer
	if err := page.Execute(&b, view); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
