package profiler

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"slices"

	"github.com/tandem-edge/tandem/dnn"
	"github.com/tandem-edge/tandem/dnn/onnx"
	"github.com/tandem-edge/tandem/profiles"
)

// Measurement is one model file measured for a device profile.
type Measurement struct {
	Profile profiles.Model // the entry of the device profile
	Timing  *Timing
	Layers  *LayerProfile

	// Graph is the model as dnn/onnx decodes it, and Sample its measurement
	// for profiles.FitPredictor; both nil when dnn/onnx cannot read the
	// file (DecodeErr says why), which leaves FLOPs and bytes out of the
	// profile's layers.
	Graph     *dnn.Graph
	Sample    *profiles.ModelSample
	DecodeErr error
}

// MeasureFile measures the ONNX model in the file path (see TimeModel),
// charges its profile to its layers (see MapTrace) and returns the device
// profile entry for it, under name. Layers carry FLOPs and bytes from
// dnn.Graph.Cost when dnn/onnx reads the file. With opts.ColdGaps and
// opts.Serving it also times the model's cold latency curve and its serving
// path (see TimeCold and TimeServing).
func MeasureFile(name, path string, opts Options) (*Measurement, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("profiler: model: %w", err)
	}
	sum := sha256.Sum256(b)
	layers, err := ReadModelLayers(path)
	if err != nil {
		return nil, err
	}
	t, err := TimeModel(path, opts)
	if err != nil {
		return nil, err
	}
	lp, err := MapTrace(t.Trace, layers, t.Latency.P50)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	pm := &Measurement{Timing: t, Layers: lp}
	m := profiles.Model{
		Name:             name,
		SHA256:           hex.EncodeToString(sum[:]),
		Latency:          t.Latency.P50,
		Spread:           TrimmedCV(t.Latency.Times),
		ProfilerOverhead: roundTo(t.ProfilerOverhead(), 1e3),
	}
	// A file the digest cannot read still has its own sha256 to be matched by.
	m.GraphSHA256, _ = onnx.GraphDigest(b)
	if len(t.Batches) > 1 {
		for _, bt := range t.Batches {
			m.Batches = append(m.Batches, profiles.BatchPoint{Size: bt.Size, Latency: bt.Latency.P50})
		}
	}
	cost := map[string]dnn.LayerCost{}
	if pm.Graph, pm.DecodeErr = onnx.ReadFile(path); pm.DecodeErr == nil {
		costs, err := pm.Graph.Cost()
		if err != nil {
			return nil, fmt.Errorf("profiler: %s: %w", path, err)
		}
		for _, c := range costs {
			cost[c.Name] = c
		}
		if pm.Sample, err = ModelSampleOf(path, pm.Graph, t); err != nil {
			return nil, err
		}
		pm.Sample.Name = name
	}
	for _, l := range lp.Layers {
		c := cost[l.Name]
		m.Layers = append(m.Layers, profiles.Layer{Name: l.Name, Op: l.Op, FLOPs: c.FLOPs, Bytes: c.Bytes,
			Latency: l.Latency, Spread: l.Spread})
	}
	if err := measurePaths(&m, path, t.Threads, opts); err != nil {
		return nil, err
	}
	pm.Profile = m
	return pm, nil
}

// measurePaths adds to m what opts ask for beyond the back-to-back timing:
// the cold latency at each gap (see TimeCold) and the serving path over
// each protocol (see TimeServing), on the threads the model was timed on.
func measurePaths(m *profiles.Model, path string, threads int, opts Options) error {
	coldRuns := opts.ColdRuns
	if coldRuns == 0 {
		coldRuns = defaultColdRuns
	}
	gaps := slices.Compact(slices.Sorted(slices.Values(opts.ColdGaps)))
	if len(gaps) > 0 {
		opts.progress(path, "cold: %d runs after each idle gap of %v, on %d thread(s)", coldRuns, gaps, threads)
		cold, err := TimeCold(path, threads, gaps, coldRuns)
		if err != nil {
			return err
		}
		m.Cold = cold
		opts.progress(path, "cold median %s (warm %s)", FormatCold(cold), FormatMs(m.Latency))
	}
	if opts.Serving {
		runs := opts.ServingRuns
		if runs == 0 {
			runs = 200
		}
		// The serving path's cold curve at the model's gaps, so that the
		// two subtract (profiles.Model.ServingOverheadAfter).
		after := ""
		if len(gaps) > 0 {
			after = fmt.Sprintf(", then %d after each idle gap of %v", coldRuns, gaps)
		}
		for _, protocol := range []string{profiles.ProtocolBinary, profiles.ProtocolJSON} {
			opts.progress(path, "serving over %s: %d requests one after another to tandem's server on loopback%s, on %d thread(s)",
				protocol, runs, after, threads)
			sv, err := TimeServing(path, threads, protocol, runs, gaps, coldRuns)
			if err != nil {
				return err
			}
			m.Serving = append(m.Serving, sv)
			over, _ := m.ServingOverhead(protocol)
			opts.progress(path, "serving median %v over %s, %v over the bare model's %v", sv.Latency, protocol, over, m.Latency)
			if len(sv.Cold) > 0 {
				opts.progress(path, "serving after idling %s", FormatCold(sv.Cold))
			}
		}
	}
	return nil
}

// roundTo rounds x to 1/per, so that profiles do not print float noise.
func roundTo(x, per float64) float64 {
	if per <= 0 {
		return x
	}
	return float64(int64(x*per+0.5)) / per
}
