package report

import (
	"bytes"
	"fmt"
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// series is one line of a plot: its points and, when the point is a mean
// over several runs (a sweep's seeds), the least and largest of them.
type series struct {
	name   string
	xy     plotter.XYs
	lo, hi []float64 // per point; nil when every point is one run
}

// quantity is what an axis shows: its label and the values it can take,
// which bound the axis however the data are spread.
type quantity struct {
	label    string
	min, max float64
}

// fractionOf and msOf are the quantities of a fraction and of a time in
// milliseconds, labelled.
func fractionOf(label string) quantity { return quantity{label: label, min: 0, max: 1} }
func msOf(label string) quantity       { return quantity{label: label + " (ms)", min: 0, max: math.Inf(1)} }

// Plot size: the plot itself, and a strip below it per legend entry, so
// that no legend covers data.
const (
	plotWidth   = 7 * vg.Inch
	plotHeight  = 3.6 * vg.Inch
	legendEntry = 0.25 * vg.Inch
)

// lineSVG draws series as lines with points, the spread of each point as
// an error bar, and returns the plot as SVG. The title is left to the page
// around it; the legend is drawn below the axes.
func lineSVG(xLabel string, y quantity, lines []series) ([]byte, error) {
	p := plot.New()
	p.X.Label.Text = xLabel
	p.Y.Label.Text = y.label
	p.X.Tick.Marker = distinctTicks{}
	p.Y.Tick.Marker = distinctTicks{}
	p.Add(plotter.NewGrid())
	var args []any
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, s := range lines {
		if len(s.xy) == 0 {
			continue
		}
		args = append(args, s.name, s.xy)
		for i, pt := range s.xy {
			l, h := pt.Y, pt.Y
			if s.lo != nil {
				l, h = s.lo[i], s.hi[i]
			}
			lo, hi = min(lo, l), max(hi, h)
		}
	}
	if len(args) == 0 {
		return nil, fmt.Errorf("report: plot of %s has no points", y.label)
	}
	if err := plotutil.AddLinePoints(p, args...); err != nil {
		return nil, err
	}
	drawn := 0 // plotutil colours the lines it draws in turn
	for _, s := range lines {
		if len(s.xy) == 0 {
			continue
		}
		if s.lo != nil {
			bars, err := plotter.NewYErrorBars(spread{s})
			if err != nil {
				return nil, err
			}
			bars.LineStyle.Color = plotutil.Color(drawn)
			p.Add(bars)
		}
		drawn++
	}
	p.Y.Min, p.Y.Max = yRange(lo, hi, y)
	legend := p.Legend
	p.Legend = plot.NewLegend()
	entries := 0
	if len(args) > 2 {
		entries = len(args) / 2
	}

	height := plotHeight + vg.Length(entries)*legendEntry
	c := vgsvg.New(plotWidth, height)
	dc := draw.New(c)
	top := draw.Crop(dc, 0, 0, vg.Length(entries)*legendEntry, 0)
	p.Draw(top)
	if entries > 0 {
		strip := draw.Crop(dc, 0.9*vg.Inch, 0, 0, -plotHeight)
		legend.Top, legend.Left = true, true
		legend.Draw(strip)
	}
	var b bytes.Buffer
	if _, err := c.WriteTo(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// yRange pads the data's range by a tenth each way, but never past what
// the quantity can be.
func yRange(lo, hi float64, q quantity) (float64, float64) {
	pad := 0.1 * (hi - lo)
	if pad == 0 {
		pad = 0.05 * max(math.Abs(hi), 1e-9)
	}
	return max(lo-pad, q.min), min(hi+pad, q.max)
}

// spread is a series as plotter.YErrorBars reads it: the distance from
// each point down to the least run and up to the largest.
type spread struct{ s series }

func (e spread) Len() int                    { return len(e.s.xy) }
func (e spread) XY(i int) (float64, float64) { return e.s.xy[i].X, e.s.xy[i].Y }
func (e spread) YError(i int) (float64, float64) {
	return e.s.xy[i].Y - e.s.lo[i], e.s.hi[i] - e.s.xy[i].Y
}

// distinctTicks are gonum's default ticks labelled with as many decimals
// as it takes for no two labels to read alike: rounded to gonum's
// precision, ticks 0.05 apart can read 22.8, 22.8, 22.9.
type distinctTicks struct{}

func (distinctTicks) Ticks(min, max float64) []plot.Tick {
	ticks := plot.DefaultTicks{}.Ticks(min, max)
	for decimals := 0; decimals <= 10; decimals++ {
		seen := map[string]bool{}
		ok := true
		for _, t := range ticks {
			if t.Label == "" {
				continue
			}
			l := strconv.FormatFloat(t.Value, 'f', decimals, 64)
			if seen[l] {
				ok = false
				break
			}
			seen[l] = true
		}
		if ok {
			for i := range ticks {
				if ticks[i].Label != "" {
					ticks[i].Label = strconv.FormatFloat(ticks[i].Value, 'f', decimals, 64)
				}
			}
			return ticks
		}
	}
	return ticks
}
