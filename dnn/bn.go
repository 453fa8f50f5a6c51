package dnn

import "math"

// bnMomentum weighs a batch's statistics into the running ones, as PyTorch's
// default momentum does:
//
//	running = (1 − 0.1)·running + 0.1·batch
const bnMomentum = 0.1

// batchNorm normalises each channel c over the batch and spatial positions:
//
//	y = Scale[c]·(x − μ_c)/√(σ²_c + ε) + Bias[c]
//
// with the batch mean and (biased) variance in training and the running
// Mean and Var at inference. The running variance is fed the unbiased batch
// variance, as in PyTorch. Channels run in parallel.
type batchNorm struct {
	base
	c, hw        int
	planar       bool // feature maps, each channel one run; else flat features
	scale, bias  *Param
	mean, invStd []float32 // of the last Forward, per channel
	train        bool      // mode of the last Forward

	n          int // state of the pass in progress, read by do
	inBackward bool
}

func newBatchNorm(b base, in []int) *batchNorm {
	l := &batchNorm{base: b, c: in[0], hw: numel(in) / in[0], planar: len(in) == 3}
	l.scale = b.net.addParam(b.node, "Scale", b.node.Scale, false)
	l.bias = b.net.addParam(b.node, "Bias", b.node.Bias, false)
	l.mean, l.invStd = make([]float32, l.c), make([]float32, l.c)
	return l
}

func (l *batchNorm) forward(n int, train bool) {
	l.n, l.train, l.inBackward = n, train, false
	parallel(l, l.c)
}

func (l *batchNorm) backward(n int) {
	l.n, l.inBackward = n, true
	parallel(l, l.c)
}

func (l *batchNorm) do(c, _ int) {
	if l.inBackward {
		l.backwardChannel(c)
	} else {
		l.forwardChannel(c)
	}
}

func (l *batchNorm) forwardChannel(c int) {
	x, y, n := l.x(0), l.y(), l.n
	nd, eps := l.node, float64(l.node.eps())
	var mean, v float64
	if l.train {
		// One pass over x − pivot, float32 within a run and float64 across
		// runs. The pivot (a value of the channel) keeps Σx² − (Σx)²/M from
		// cancelling catastrophically when the mean is far from zero.
		m := float64(n * l.hw)
		first, _ := l.run(c, 0)
		pivot := x[first]
		var s, ss float64
		for r := range l.runs() {
			off, nv := l.run(c, r)
			a, b := moments(x[off:off+nv], pivot)
			s += float64(a)
			ss += float64(b)
		}
		shift := s / m
		mean = float64(pivot) + shift
		v = max(ss/m-shift*shift, 0)
		unbiased := v
		if m > 1 {
			unbiased = v * m / (m - 1)
		}
		nd.Mean.Data[c] = float32((1-bnMomentum)*float64(nd.Mean.Data[c]) + bnMomentum*mean)
		nd.Var.Data[c] = float32((1-bnMomentum)*float64(nd.Var.Data[c]) + bnMomentum*unbiased)
	} else {
		mean, v = float64(nd.Mean.Data[c]), float64(nd.Var.Data[c])
	}
	is := 1 / math.Sqrt(v+eps)
	l.mean[c], l.invStd[c] = float32(mean), float32(is)
	a := float32(is) * nd.Scale.Data[c]
	b := nd.Bias.Data[c] - float32(mean)*a
	if l.relu != 0 {
		y = l.net.act[l.relu]
	}
	for r := range l.runs() {
		off, nv := l.run(c, r)
		affine(y[off:off+nv], x[off:off+nv], a, b, l.relu != 0)
	}
}

// backwardChannel uses, with x̂ = (x − μ)/σ and M = N·H·W values per channel,
//
//	dScale = Σ dy·x̂,   dBias = Σ dy
//	dx = Scale/(σ·M) · (M·dy − Σ dy − x̂·Σ dy·x̂)   (training)
//	dx = Scale/σ · dy                              (inference)
func (l *batchNorm) backwardChannel(c int) {
	x, dy, dx, n := l.x(0), l.dy(), l.dx(0), l.n
	// With a fused ReLU, dy is the ReLU's output gradient, passed where its
	// output yr is above zero.
	var yr []float32
	if l.relu != 0 {
		dy, yr = l.net.grad[l.relu], l.net.act[l.relu]
	}
	m := float64(n * l.hw)
	mu, is := l.mean[c], l.invStd[c]
	var sdy, sdyx float64
	for r := range l.runs() {
		off, nv := l.run(c, r)
		a, b := gradMoments(dy[off:off+nv], window(yr, off, nv), x[off:off+nv], mu)
		sdy += float64(a)
		sdyx += float64(b)
	}
	sdyx *= float64(is)
	l.scale.Grad[c] = float32(sdyx)
	l.bias.Grad[c] = float32(sdy)
	if dx == nil {
		return
	}
	k := l.node.Scale.Data[c] * is
	var k1, k2 float32 // dx = k·dy + k1 + k2·(x − μ)
	if l.train {
		k1 = -k * float32(sdy/m)
		k2 = -k * is * float32(sdyx/m)
	}
	for r := range l.runs() {
		off, nv := l.run(c, r)
		bnGrad(dx[off:off+nv], dy[off:off+nv], window(yr, off, nv), x[off:off+nv], k, k1, k2, mu, l.acc[0])
	}
}

// window is y[off:off+n], or nil for a nil y.
func window(y []float32, off, n int) []float32 {
	if y == nil {
		return nil
	}
	return y[off : off+n]
}

// bnRun is how many values of a channel's feature maps are reduced in
// float32 before the sum moves on to float64.
const bnRun = 4096

// runs is the number of runs of a channel in the pass in progress: the
// values of one channel are contiguous for feature maps (see Net) and cut
// into runs of bnRun, and are one value per sample apart for flat features.
func (l *batchNorm) runs() int {
	if l.planar {
		return (l.n*l.hw + bnRun - 1) / bnRun
	}
	return l.n
}

// run is the offset and length of run r of channel c.
func (l *batchNorm) run(c, r int) (off, k int) {
	if !l.planar {
		return r*l.c + c, 1
	}
	m := l.n * l.hw
	return c*m + r*bnRun, min(bnRun, m-r*bnRun)
}
