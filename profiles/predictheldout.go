package profiles

import (
	"math"
	"slices"
	"time"
)

// HeldOut summarises the predictions for networks a predictor was not
// fitted to against their measured latency.
type HeldOut struct {
	Networks    int     `yaml:"networks"`     // randomly pruned variants of the profiled models
	Within10    float64 `yaml:"within_10pct"` // fraction predicted within ±10% of measured
	MedianError float64 `yaml:"median_error"` // median |predicted − measured| / measured
	Seed        uint64  `yaml:"seed"`         // drew the variants' widths
}

// HeldOutRow is one held-out network.
type HeldOutRow struct {
	Name                string
	Measured, Predicted time.Duration // batch 1
	Error               float64       // (Predicted − Measured) / Measured
}

// EvaluateHeldOut predicts each of nets at batch 1 and compares the
// prediction with its measured Latency; only Layers, Latency and Name of
// the samples are read. It returns the rows and their summary, Seed left 0.
func (p *Predictor) EvaluateHeldOut(nets []ModelSample) ([]HeldOutRow, HeldOut) {
	rows := make([]HeldOutRow, len(nets))
	errs := make([]float64, len(nets))
	within := 0
	for i, n := range nets {
		r := HeldOutRow{Name: n.Name, Measured: n.Latency, Predicted: p.Predict(n.Layers, 1)}
		if n.Latency > 0 {
			r.Error = float64(r.Predicted-r.Measured) / float64(r.Measured)
		}
		errs[i] = math.Abs(r.Error)
		if errs[i] <= 0.10 {
			within++
		}
		rows[i] = r
	}
	h := HeldOut{Networks: len(nets)}
	if len(nets) > 0 {
		slices.Sort(errs)
		h.Within10 = math.Round(1e4*float64(within)/float64(len(nets))) / 1e4
		h.MedianError = math.Round(1e4*median(errs)) / 1e4
	}
	return rows, h
}
