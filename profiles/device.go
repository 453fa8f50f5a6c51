package profiles

import (
	"fmt"
	"sort"
	"time"
)

// Device is a device profile: how long models take on one device class.
type Device struct {
	Name   string  `yaml:"name"`
	Source string  `yaml:"source"` // where the numbers come from: a measurement command and host, or cited benchmarks
	Host   Host    `yaml:"host"`
	Models []Model `yaml:"models"`
	// Predictor predicts the latency of networks never measured on the
	// device; nil when the profile was measured without a width sweep.
	Predictor *Predictor `yaml:"predictor,omitempty"`
	// Power is what the device draws in watts; nil when the profile says
	// nothing of power (then no run on it reports energy).
	Power *Power `yaml:"power,omitempty"`
}

// Host says what machine and runtime a profile was measured on.
type Host struct {
	CPU        string `yaml:"cpu,omitempty"`
	Cores      int    `yaml:"cores,omitempty"`
	MemoryMB   int    `yaml:"memory_mb,omitempty"`
	OS         string `yaml:"os,omitempty"`
	Arch       string `yaml:"arch,omitempty"`
	Runtime    string `yaml:"runtime,omitempty"`     // e.g. "onnxruntime 1.30.0"
	Threads    int    `yaml:"threads,omitempty"`     // intra-op threads used
	MeasuredAt string `yaml:"measured_at,omitempty"` // RFC 3339 date of the measurement
	// Slowdown, when above 1, makes the profile an emulated device: this
	// host with every run stretched Slowdown times (tandem profile
	// --slowdown), as hil run stretches the runs of a device with this
	// profile. 0 or 1: the host as it is.
	Slowdown float64 `yaml:"slowdown,omitempty"`
}

// Model is the profile of one model on the device.
type Model struct {
	Name   string `yaml:"name"`             // the model's name (bundle-relative, e.g. "fashion/edge")
	SHA256 string `yaml:"sha256,omitempty"` // of the ONNX file measured; ties the profile to one model
	// GraphSHA256 is the measured file's onnx.GraphDigest: the model without
	// its weights. A file with other weights and this digest (the same
	// network fine-tuned again) does the same arithmetic on the same
	// shapes, and a scenario uses this profile for it.
	GraphSHA256 string        `yaml:"graph_sha256,omitempty"`
	Latency     time.Duration `yaml:"latency"`           // whole model at batch 1, median, measured without the profiler
	Spread      float64       `yaml:"spread,omitempty"`  // coefficient of variation of the batch-1 latency across runs
	Batches     []BatchPoint  `yaml:"batches,omitempty"` // whole-model latency against batch size, ascending sizes
	Layers      []Layer       `yaml:"layers,omitempty"`  // per-layer latency at batch 1

	// ProfilerOverhead is how much slower a batch-1 run was with ONNX
	// Runtime's profiler on (median over median); Layers are rescaled to
	// Latency, which removes it.
	ProfilerOverhead float64 `yaml:"profiler_overhead,omitempty"`

	// Cold is the batch-1 latency of runs spaced apart, at ascending
	// gaps; empty when not measured (see LatencyAt).
	Cold []ColdLatency `yaml:"cold,omitempty"`
	// Serving is the model's serving path per wire protocol; empty when
	// not measured (see ServingOverhead).
	Serving []Serving `yaml:"serving,omitempty"`
}

// BatchPoint is the whole-model latency of one batch.
type BatchPoint struct {
	Size    int           `yaml:"size"`
	Latency time.Duration `yaml:"latency"`
}

// Layer is one layer's share of a model's latency.
type Layer struct {
	Name    string        `yaml:"name"`
	Op      string        `yaml:"op,omitempty"`
	FLOPs   int64         `yaml:"flops,omitempty"`
	Bytes   int64         `yaml:"bytes,omitempty"`
	Latency time.Duration `yaml:"latency"`          // may be 0: fused into another layer's kernel, or under the profiler's 1us
	Spread  float64       `yaml:"spread,omitempty"` // coefficient of variation of the layer's time across profiled runs
}

// Model returns the profile of the model whose SHA-256 or name is key.
func (d *Device) Model(key string) (*Model, error) {
	for i := range d.Models {
		if d.Models[i].SHA256 == key || d.Models[i].Name == key {
			return &d.Models[i], nil
		}
	}
	return nil, fmt.Errorf("profiles: device %q has no profile of model %q", d.Name, key)
}

// BatchLatency is the latency of a batch of b samples, interpolated linearly
// between measured batch sizes and extrapolated from the last two beyond the
// largest; with no batch curve, b runs of the batch-1 latency.
func (m *Model) BatchLatency(b int) time.Duration {
	if b <= 1 || len(m.Batches) == 0 {
		if len(m.Batches) == 0 {
			return time.Duration(b) * m.Latency
		}
		return m.Latency
	}
	pts := m.Batches
	i := sort.Search(len(pts), func(i int) bool { return pts[i].Size >= b })
	switch {
	case i < len(pts) && pts[i].Size == b:
		return pts[i].Latency
	case len(pts) == 1:
		return time.Duration(float64(pts[0].Latency) * float64(b) / float64(pts[0].Size))
	case i == 0:
		i = 1
	case i == len(pts):
		i = len(pts) - 1
	}
	lo, hi := pts[i-1], pts[i]
	f := float64(b-lo.Size) / float64(hi.Size-lo.Size)
	return lo.Latency + time.Duration(f*float64(hi.Latency-lo.Latency))
}
