package profiles

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"gonum.org/v1/gonum/mat"
)

// maxSegments bounds the pieces of a kernel class's latency function: more
// would follow the noise of a shared machine rather than the kernel.
const maxSegments = 4

// samplesPerSegment is how many measured layers each piece needs.
const samplesPerSegment = 12

// FitOptions describe the device's ONNX Runtime to FitPredictor.
type FitOptions struct {
	ChannelBlock int           // NCHWc block; 0 when it runs no blocked kernels
	ChannelAlign int           // see Predictor.ChannelAlign
	Batches      []BatchFactor // see BatchFactors
}

// FitPredictor fits a Predictor to measured networks: probes (single-layer
// networks of a width sweep) and networks (whole models and pruned variants
// of them). In four steps:
//
//  1. The profiler inflates every node it times by about the same δ; over
//     all samples m, with Kₘ profiled nodes summing to Pₘ and unprofiled
//     latency Tₘ, least squares gives Tₘ − Pₘ ≈ c − δ·Kₘ (c, δ ≥ 0).
//  2. Each layer's own time is then tᵢ = max(0, pᵢ − δ·kᵢ), pᵢ the profiled
//     time of its kᵢ nodes.
//  3. Per kernel class, the knot latencies and β of f_k(F) + β·Bytes are
//     fitted to the tᵢ of its layers in all samples by weighted least
//     squares (see fitKernel): knots at F quantiles, weights 1/√tᵢ (between
//     absolute and relative error: big layers decide a network's latency,
//     small ones must still come out right), a negative β dropped, and
//     knots dropped until latency does not fall as FLOPs grow.
//  4. A layer runs a little differently inside a network than alone (its
//     input is warm in cache, layouts change between layers), so the sum of
//     the layers is calibrated against the networks' measured latency,
//     Tₘ ≈ c₀ + s·Σᵢ f̂ᵢ, by least squares weighted by 1/Tₘ², that is in
//     relative error; networks off by more than max(15%, 3 robust standard
//     deviations) are dropped and the rest refitted (the probes stand in
//     when fewer than two networks were measured). The stored kernel models
//     are s·f̂, and Overhead is c₀.
func FitPredictor(probes, networks []ModelSample, opts FitOptions) (*Predictor, error) {
	all := append(slices.Clip(probes), networks...)
	if len(all) == 0 {
		return nil, errors.New("profiles: fitting a predictor: no measured networks")
	}
	for si, s := range all {
		if len(s.Profiled) != len(s.Layers) || len(s.Nodes) != len(s.Layers) {
			return nil, fmt.Errorf("profiles: fitting a predictor: sample %d (%s): %d profiled times and %d node counts for %d layers",
				si, s.Name, len(s.Profiled), len(s.Nodes), len(s.Layers))
		}
		if s.Latency <= 0 {
			return nil, fmt.Errorf("profiles: fitting a predictor: sample %d (%s): latency %s, want > 0", si, s.Name, s.Latency)
		}
	}
	p := &Predictor{ChannelBlock: opts.ChannelBlock, ChannelAlign: opts.ChannelAlign, Batches: opts.Batches, Samples: len(all)}
	p.fitKernels(all, profilerInflation(all))

	calib := networks
	if len(calib) < 2 {
		calib = all
	}
	unscaled := p.clone()
	if err := p.calibrate(calib); err != nil {
		// An inflation estimate as large as every layer's own time is the
		// noise of a few short runs on a busy machine, not the profiler's
		// cost: keep the profiled times as they are.
		p.fitKernels(all, 0)
		unscaled = p.clone()
		if err := p.calibrate(calib); err != nil {
			return nil, err
		}
	}
	if kept := p.inliers(calib); len(kept) < len(calib) && len(kept) >= 2 {
		// A network measured while another process took the core reads
		// slow; refit without such outliers.
		p = unscaled
		if err := p.calibrate(kept); err != nil {
			return nil, err
		}
	}
	errs := make([]float64, len(calib))
	for i, s := range calib {
		errs[i] = math.Abs(float64(p.Predict(s.Layers, 1)-s.Latency)) / float64(s.Latency)
	}
	p.FitError = math.Round(median(errs)*1e4) / 1e4
	return p, nil
}

// fitKernels is steps 2 and 3 of FitPredictor: each kernel class's model,
// fitted to the layers' profiled times less delta a profiled node.
func (p *Predictor) fitKernels(all []ModelSample, delta float64) {
	lo := p.layout()
	rows := map[Kernel][]fitRow{}
	for _, s := range all {
		prevFusing := false
		for i := range s.Layers {
			l := &s.Layers[i]
			k := lo.kernelOf(l, prevFusing)
			prevFusing = fuses(k)
			if k == KernelFused {
				continue
			}
			t := max(0, float64(s.Profiled[i])-delta*float64(s.Nodes[i]))
			rows[k] = append(rows[k], fitRow{f: lo.effectiveFLOPs(l, k), bytes: float64(l.Bytes), y: t})
		}
	}
	p.Kernels = nil
	for _, k := range []Kernel{KernelConvNCHWc, KernelConvNCHWcIn, KernelConv, KernelGemm, KernelPoolNCHWc, KernelPool,
		KernelGlobalPool, KernelElementwise, KernelReshape} {
		if len(rows[k]) > 0 {
			p.Kernels = append(p.Kernels, fitKernel(k, rows[k]))
		}
	}
}

// outlierCut is the smallest relative error that makes a network an
// outlier of the calibration, however tight the others fit.
const outlierCut = 0.15

// inliers returns the networks whose relative prediction error is within
// max(outlierCut, 3 robust standard deviations) of the median error.
func (p *Predictor) inliers(nets []ModelSample) []ModelSample {
	errs := make([]float64, len(nets))
	for i, n := range nets {
		errs[i] = float64(p.Predict(n.Layers, 1)-n.Latency) / float64(n.Latency)
	}
	med := median(errs)
	dev := make([]float64, len(errs))
	for i, e := range errs {
		dev[i] = math.Abs(e - med)
	}
	cut := max(outlierCut, 3*1.4826*median(dev))
	var kept []ModelSample
	for i, n := range nets {
		if dev[i] <= cut {
			kept = append(kept, n)
		}
	}
	return kept
}

// clone returns a deep copy of p's kernel models.
func (p *Predictor) clone() *Predictor {
	c := *p
	c.Kernels = slices.Clone(p.Kernels)
	for i := range c.Kernels {
		c.Kernels[i].Knots = slices.Clone(p.Kernels[i].Knots)
	}
	return &c
}

// calibrate is step 4 of FitPredictor.
func (p *Predictor) calibrate(nets []ModelSample) error {
	// Weighted least squares of T = c₀ + s·S, weights 1/T², by the normal
	// equations of two unknowns.
	var sw, ss, st, sss, sst float64
	for _, n := range nets {
		t := float64(n.Latency)
		s := float64(p.Predict(n.Layers, 1) - p.Overhead)
		w := 1 / (t * t)
		sw, ss, st, sss, sst = sw+w, ss+w*s, st+w*t, sss+w*s*s, sst+w*s*t
	}
	det := sw*sss - ss*ss
	var c0, scale float64
	if det > 0 {
		scale = (sw*sst - ss*st) / det
		c0 = (st - scale*ss) / sw
	}
	if det <= 0 || c0 < 0 || scale <= 0 {
		// Networks too alike, or too noisy, to tell a run's overhead from
		// its layers: all is layers, a line through the origin.
		c0, scale = 0, sst/sss
	}
	if !(scale > 0) || math.IsInf(scale, 0) {
		return errors.New("profiles: fitting a predictor: the layers' measured times do not explain the networks' latency")
	}
	p.Overhead = time.Duration(c0)
	for i := range p.Kernels {
		m := &p.Kernels[i]
		for j := range m.Knots {
			m.Knots[j].Latency = time.Duration(scale * float64(m.Knots[j].Latency))
		}
		m.NsPerByte = math.Round(m.NsPerByte*scale*1e6) / 1e6
	}
	return nil
}

// profilerInflation is step 1 of FitPredictor: δ in nanoseconds.
func profilerInflation(samples []ModelSample) float64 {
	// Least squares of y = c₀ − δ·K by the normal equations of two unknowns.
	var n, sk, sy, skk, sky float64
	for _, s := range samples {
		var p time.Duration
		var k int
		for i := range s.Layers {
			p += s.Profiled[i]
			k += s.Nodes[i]
		}
		y, x := float64(s.Latency-p), float64(k)
		n, sk, sy, skk, sky = n+1, sk+x, sy+y, skk+x*x, sky+x*y
	}
	det := n*skk - sk*sk
	if det <= 0 {
		return 0 // all alike: nothing to tell inflation from overhead
	}
	slope := (n*sky - sk*sy) / det
	if c := (sy - slope*sk) / n; c < 0 { // no negative overhead: through the origin
		slope = sky / skk
	}
	return max(0, -slope)
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

type fitRow struct{ f, bytes, y float64 }

// knotSpacing is the least ratio between neighbouring knots' FLOPs: knots
// closer than that make the least-squares problem ill-conditioned (two
// near-equal columns), and their values swing wildly.
const knotSpacing = 1.5

// fitKernel is step 3 of FitPredictor for one class. Latency must not fall
// as FLOPs grow: a knot whose fitted value is below its left neighbour's
// is dropped and the rest refitted, down to a constant.
func fitKernel(k Kernel, rows []fitRow) KernelModel {
	m := KernelModel{Kernel: k, Samples: len(rows)}
	knots := placeKnots(rows)
	for len(knots) > 1 {
		coef, perByte, ok := fitHat(rows, knots)
		if !ok {
			knots = slices.Delete(knots, len(knots)-2, len(knots)-1)
			continue
		}
		if j := firstFall(coef); j > 0 {
			// Drop an inner knot: the first and the last span the data.
			if j == len(knots)-1 {
				j--
			}
			if j == 0 {
				break // two knots, falling: a constant
			}
			knots = slices.Delete(knots, j, j+1)
			continue
		}
		m.Knots = make([]Knot, len(knots))
		for j, f := range knots {
			// The first knot may come out below zero when the first piece
			// is steep; a layer never takes negative time.
			m.Knots[j] = Knot{FLOPs: int64(f), Latency: time.Duration(max(0, coef[j]))}
		}
		m.NsPerByte = math.Round(perByte*1e6) / 1e6
		return m
	}
	// One FLOP count, or no rising fit: a constant, the weighted mean.
	var sw, swy float64
	for _, r := range rows {
		w := weight(r.y)
		sw, swy = sw+w, swy+w*r.y
	}
	m.Knots = []Knot{{FLOPs: int64(math.Round(rows[0].f)), Latency: time.Duration(swy / sw)}}
	return m
}

// placeKnots puts up to maxSegments+1 knots at quantiles of the rows'
// FLOPs, samplesPerSegment rows a piece, the first and last at the least
// and most, each at least knotSpacing times the one before.
func placeKnots(rows []fitRow) []float64 {
	fs := make([]float64, len(rows))
	for i, r := range rows {
		fs[i] = math.Round(r.f)
	}
	slices.Sort(fs)
	segs := min(maxSegments, max(1, len(rows)/samplesPerSegment))
	knots := []float64{fs[0]}
	for j := 1; j <= segs; j++ {
		f := fs[(len(fs)-1)*j/segs]
		if last := knots[len(knots)-1]; f > last && (last <= 0 || f >= knotSpacing*last) {
			knots = append(knots, f)
		}
	}
	if top := fs[len(fs)-1]; top > knots[len(knots)-1] { // the last knot spans the data
		if len(knots) == 1 {
			knots = append(knots, top)
		} else {
			knots[len(knots)-1] = top
		}
	}
	return knots
}

// firstFall returns the first knot whose value is below its left
// neighbour's, or -1.
func firstFall(coef []float64) int {
	for j := 1; j < len(coef); j++ {
		if coef[j] < coef[j-1] {
			return j
		}
	}
	return -1
}

// fitHat fits the knot values and β by solveHat, dropping β when it comes
// out negative.
func fitHat(rows []fitRow, knots []float64) (coef []float64, perByte float64, ok bool) {
	if c, ok := solveHat(rows, knots, true); ok && c[len(knots)] >= 0 {
		return c[:len(knots)], c[len(knots)], true
	}
	c, ok := solveHat(rows, knots, false)
	return c, 0, ok
}

func weight(y float64) float64 { return 1 / math.Sqrt(max(y, 1000)) }

// solveHat fits the knot values (and β when withBytes) by weighted least
// squares over the hat-function basis of knots: a row's F between knots a
// and b contributes (b−F)/(b−a) to a's column and (F−a)/(b−a) to b's,
// extended linearly past either end.
func solveHat(rows []fitRow, knots []float64, withBytes bool) ([]float64, bool) {
	cols := len(knots)
	if withBytes {
		cols++
	}
	if len(rows) < cols {
		return nil, false
	}
	a := mat.NewDense(len(rows), cols, nil)
	y := mat.NewVecDense(len(rows), nil)
	for i, r := range rows {
		w := weight(r.y)
		j := 0
		for j < len(knots)-2 && r.f > knots[j+1] {
			j++
		}
		t := (r.f - knots[j]) / (knots[j+1] - knots[j])
		a.Set(i, j, w*(1-t))
		a.Set(i, j+1, w*t)
		if withBytes {
			a.Set(i, cols-1, w*r.bytes/1e3) // per kB keeps the columns' scales alike
		}
		y.SetVec(i, w*r.y)
	}
	var x mat.VecDense
	if err := x.SolveVec(a, y); err != nil {
		return nil, false
	}
	coef := make([]float64, cols)
	for j := range cols {
		coef[j] = x.AtVec(j)
		if math.IsNaN(coef[j]) || math.IsInf(coef[j], 0) {
			return nil, false
		}
	}
	if withBytes {
		coef[cols-1] /= 1e3
	}
	return coef, true
}

// BatchFactors are the median over models of their batch curves relative
// to batch 1, T(b)/T(1), at each size that every model with a curve
// measured; sizes 1 and below are left out.
func BatchFactors(models []Model) []BatchFactor {
	ratios := map[int][]float64{}
	curves := 0
	for _, m := range models {
		if len(m.Batches) == 0 || m.Latency <= 0 {
			continue
		}
		curves++
		for _, b := range m.Batches {
			if b.Size > 1 {
				ratios[b.Size] = append(ratios[b.Size], float64(b.Latency)/float64(m.Latency))
			}
		}
	}
	var out []BatchFactor
	for size, r := range ratios {
		if len(r) < curves {
			continue
		}
		out = append(out, BatchFactor{Size: size, Factor: math.Round(median(r)*1e4) / 1e4})
	}
	slices.SortFunc(out, func(a, b BatchFactor) int { return a.Size - b.Size })
	return out
}
