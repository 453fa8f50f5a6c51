package profiles

import (
	"fmt"
	"sort"
	"time"
)

// Predictor predicts a network's latency on the profiled device from its
// layers alone, for networks that were never measured (the compressor's
// candidate pruned models). It is fitted by FitPredictor from measurements
// (single-layer probes swept over channel widths, and whole networks: the
// profiled models and pruned variants of them), in the manner of
// Neurosurgeon's per-layer regressions and nn-Meter's kernel predictors,
// and stored in the device profile.
//
// Each layer is first classed as the ONNX Runtime kernel it runs as (see
// Kernel): a BatchNormalization, activation or sum right after a
// convolution costs nothing of its own, and a convolution's kernel depends
// on its channel counts. The latency is then
//
//	T = Overhead + Σᵢ max(0, f_k(i)(Fᵢ) + β_k(i)·Bytesᵢ)
//
// where f_k is the piecewise-linear function through the knots of kernel
// class k (extended past the last knot along the last segment), Fᵢ the
// layer's FLOPs — for a blocked convolution, counted with its channels
// rounded up to whole blocks, as the kernel computes the padding too (see
// layout.effectiveFLOPs) — and β_k a cost per byte of weights and output. A
// class the fit had no layers of borrows a kindred class's model (another
// convolution's, the other pooling's) or costs nothing. At batch b > 1, T
// is multiplied by the batch factor interpolated from Batches.
//
// One prediction walks the layers once with no allocation: well under a
// microsecond for the zoo's networks (see BenchmarkPredict).
type Predictor struct {
	// ChannelBlock is ONNX Runtime's NCHWc channel block B on the device
	// (16 with AVX-512, 8 with AVX2); 0 when it runs no blocked kernels.
	ChannelBlock int `yaml:"channel_block"`

	// ChannelAlign is the channel alignment A below which ONNX Runtime does
	// not pad a convolution's input to whole blocks (see Kernel).
	ChannelAlign int `yaml:"channel_align"`

	// Overhead is the time of a run beyond its layers' kernels.
	Overhead time.Duration `yaml:"overhead"`

	// Kernels are the per-class latency models.
	Kernels []KernelModel `yaml:"kernels"`

	// Batches are whole-model latency at batch b over latency at batch 1,
	// ascending sizes, from the profiled models' batch curves; none means
	// b runs of batch 1.
	Batches []BatchFactor `yaml:"batches,omitempty"`

	// Samples is how many measured networks the fit used; FitError is the
	// median relative error of its predictions for them, |T̂ − T| / T.
	Samples  int     `yaml:"samples"`
	FitError float64 `yaml:"fit_error"`

	// HeldOut is how the predictor fared on networks it was not fitted
	// to, when that was measured (tandem profile --held-out).
	HeldOut *HeldOut `yaml:"held_out,omitempty"`
}

// KernelModel is the latency of one kernel class against the FLOPs and
// bytes of a layer.
type KernelModel struct {
	Kernel    Kernel  `yaml:"kernel"`
	Samples   int     `yaml:"samples"`     // measured layers it was fitted to
	Knots     []Knot  `yaml:"knots"`       // ascending FLOPs
	NsPerByte float64 `yaml:"ns_per_byte"` // β: nanoseconds per byte of weights and output
}

// Knot is one point of a piecewise-linear latency function.
type Knot struct {
	FLOPs   int64         `yaml:"flops"`
	Latency time.Duration `yaml:"latency"`
}

// BatchFactor scales the batch-1 prediction to a batch of Size samples.
type BatchFactor struct {
	Size   int     `yaml:"size"`
	Factor float64 `yaml:"factor"`
}

// Predict returns the predicted latency of a network of the given layers,
// in execution order, at batch size batch (values below 1 mean 1); see
// Predictor for the formula. It allocates nothing.
func (p *Predictor) Predict(layers []LayerSpec, batch int) time.Duration {
	return p.PredictLayers(nil, layers, batch)
}

// PredictLayers is Predict that also writes each layer's predicted share
// into dst[i] when dst is not nil; it panics if dst is shorter than layers.
// The shares sum to the total less Overhead.
func (p *Predictor) PredictLayers(dst []time.Duration, layers []LayerSpec, batch int) time.Duration {
	if dst != nil && len(dst) < len(layers) {
		panic(fmt.Sprintf("profiles: PredictLayers: dst holds %d layers, want %d", len(dst), len(layers)))
	}
	scale := p.batchFactor(batch)
	total := float64(p.Overhead) * scale
	lo := p.layout()
	prevFusing := false
	for i := range layers {
		l := &layers[i]
		k := lo.kernelOf(l, prevFusing)
		prevFusing = fuses(k)
		var t float64
		if k != KernelFused {
			if m := p.model(k); m != nil {
				t = m.predict(lo.effectiveFLOPs(l, k), l.Bytes) * scale
			}
		}
		if dst != nil {
			dst[i] = time.Duration(t)
		}
		total += t
	}
	return time.Duration(total)
}

func (p *Predictor) layout() layout { return layout{block: p.ChannelBlock, align: p.ChannelAlign} }

// predict is max(0, f_k(F) + β·Bytes) in nanoseconds.
func (m *KernelModel) predict(flops float64, bytes int64) float64 {
	return max(0, m.at(flops)+m.NsPerByte*float64(bytes))
}

// model returns the model of kernel class k; a convolution class the fit
// had no samples of borrows another convolution class's model.
func (p *Predictor) model(k Kernel) *KernelModel {
	for _, want := range fallbacks(k) {
		for i := range p.Kernels {
			if p.Kernels[i].Kernel == want {
				return &p.Kernels[i]
			}
		}
	}
	return nil
}

// fallbacks lists the classes whose model stands for k, best first.
func fallbacks(k Kernel) []Kernel {
	switch k {
	case KernelConvNCHWc:
		return []Kernel{KernelConvNCHWc, KernelConvNCHWcIn, KernelConv}
	case KernelConvNCHWcIn:
		return []Kernel{KernelConvNCHWcIn, KernelConvNCHWc, KernelConv}
	case KernelConv:
		return []Kernel{KernelConv, KernelConvNCHWc, KernelConvNCHWcIn}
	case KernelPoolNCHWc:
		return []Kernel{KernelPoolNCHWc, KernelPool}
	case KernelPool:
		return []Kernel{KernelPool, KernelPoolNCHWc}
	}
	return []Kernel{k}
}

// at evaluates the piecewise-linear function of m at f FLOPs:
//
//	f_k(F) = Lⱼ + (F − Fⱼ)·(Lⱼ₊₁ − Lⱼ)/(Fⱼ₊₁ − Fⱼ)
//
// on the segment [Fⱼ, Fⱼ₊₁] that holds F, the first or last segment beyond
// the knots; a single knot is a constant.
func (m *KernelModel) at(f float64) float64 {
	k := m.Knots
	switch len(k) {
	case 0:
		return 0
	case 1:
		return float64(k[0].Latency)
	}
	j := 0
	for j < len(k)-2 && f > float64(k[j+1].FLOPs) {
		j++
	}
	a, b := k[j], k[j+1]
	return float64(a.Latency) + (f-float64(a.FLOPs))*float64(b.Latency-a.Latency)/float64(b.FLOPs-a.FLOPs)
}

// batchFactor interpolates Batches linearly in the batch size, and
// extrapolates from the last two points; with no points it is b.
func (p *Predictor) batchFactor(b int) float64 {
	if b <= 1 {
		return 1
	}
	pts := p.Batches
	if len(pts) == 0 {
		return float64(b)
	}
	i := sort.Search(len(pts), func(i int) bool { return pts[i].Size >= b })
	switch {
	case i < len(pts) && pts[i].Size == b:
		return pts[i].Factor
	case len(pts) == 1:
		return pts[0].Factor * float64(b) / float64(pts[0].Size)
	case i == 0:
		i = 1
	case i == len(pts):
		i = len(pts) - 1
	}
	lo, hi := pts[i-1], pts[i]
	return lo.Factor + float64(b-lo.Size)*(hi.Factor-lo.Factor)/float64(hi.Size-lo.Size)
}

// ErrNoPredictor is returned by Device.Predict for a profile without a
// predictor section.
var ErrNoPredictor = fmt.Errorf("profiles: the device profile has no predictor (measure one with tandem profile --sweep-widths)")

// Predict predicts a network's latency on d with d's predictor; see
// Predictor.Predict.
func (d *Device) Predict(layers []LayerSpec, batch int) (time.Duration, error) {
	if d.Predictor == nil {
		return 0, fmt.Errorf("%w: device %q", ErrNoPredictor, d.Name)
	}
	return d.Predictor.Predict(layers, batch), nil
}
