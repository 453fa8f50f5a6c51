package report

import (
	"bytes"
	"fmt"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// series is one line of a plot.
type series struct {
	name string
	xy   plotter.XYs
}

// lineSVG draws series as lines with points and returns the plot as SVG.
func lineSVG(title, xLabel, yLabel string, lines []series) ([]byte, error) {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = xLabel
	p.Y.Label.Text = yLabel
	p.Add(plotter.NewGrid())
	var args []any
	for _, s := range lines {
		if len(s.xy) == 0 {
			continue
		}
		args = append(args, s.name, s.xy)
	}
	if len(args) == 0 {
		return nil, fmt.Errorf("report: plot %q has no points", title)
	}
	if err := plotutil.AddLinePoints(p, args...); err != nil {
		return nil, err
	}
	if len(lines) == 1 {
		p.Legend.Top = true
		p.Legend = plot.NewLegend() // one line needs no legend
	}
	wt, err := p.WriterTo(6*vg.Inch, 3.5*vg.Inch, "svg")
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if _, err := wt.WriteTo(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
