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
		// One pass over x − pivot, float32 within a plane and float64 across
		// planes. The pivot (a value of the channel) keeps Σx² − (Σx)²/M from
		// cancelling catastrophically when the mean is far from zero.
		m := float64(n * l.hw)
		pivot := x[l.at(0, c)]
		var s, ss float64
		for smp := range n {
			a, b := moments(x[l.at(smp, c):][:l.hw], pivot)
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
	for smp := range n {
		off := l.at(smp, c)
		src, dst := x[off:off+l.hw], y[off:off+l.hw]
		if l.relu != 0 {
			for i, xv := range src {
				dst[i] = relu32(xv*a + b)
			}
			continue
		}
		for i, xv := range src {
			dst[i] = xv*a + b
		}
	}
}

// backwardChannel uses, with x̂ = (x − μ)/σ and M = N·H·W values per channel,
//
//	dScale = Σ dy·x̂,   dBias = Σ dy
//	dx = Scale/(σ·M) · (M·dy − Σ dy − x̂·Σ dy·x̂)   (training)
//	dx = Scale/σ · dy                              (inference)
func (l *batchNorm) backwardChannel(c int) {
	x, dy, dx, n := l.x(0), l.dy(), l.dx(0), l.n
	m := float64(n * l.hw)
	mu, is := l.mean[c], l.invStd[c]
	var sdy, sdyx float64
	for smp := range n {
		off := l.at(smp, c)
		xs, ds := x[off:off+l.hw], dy[off:off+l.hw]
		if l.relu != 0 {
			// Apply the fused ReLU's gradient on the way, into dy (this
			// layer's own gradient buffer, otherwise unused).
			dr, yr := l.net.grad[l.relu][off:off+l.hw], l.net.act[l.relu][off:off+l.hw]
			for i, v := range yr {
				ds[i] = reluGrad(dr[i], v)
			}
		}
		a, b := gradMoments(ds, xs, mu)
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
	for smp := range n {
		off := l.at(smp, c)
		xs, ds, dst := x[off:off+l.hw], dy[off:off+l.hw], dx[off:off+l.hw]
		if l.acc[0] {
			for i, d := range ds {
				dst[i] += k*d + k1 + k2*(xs[i]-mu)
			}
		} else {
			for i, d := range ds {
				dst[i] = k*d + k1 + k2*(xs[i]-mu)
			}
		}
	}
}

// at is the offset of the plane (or value) of sample s in channel c
// during the pass in progress.
func (l *batchNorm) at(s, c int) int {
	if l.planar {
		return (c*l.n + s) * l.hw
	}
	return s*l.c + c
}

// moments returns Σ(x − p) and Σ(x − p)². Four accumulators let the adds
// overlap instead of waiting on each other.
func moments(x []float32, p float32) (s, ss float32) {
	var s0, s1, s2, s3, q0, q1, q2, q3 float32
	i := 0
	for ; i+4 <= len(x); i += 4 {
		d0, d1, d2, d3 := x[i]-p, x[i+1]-p, x[i+2]-p, x[i+3]-p
		s0, s1, s2, s3 = s0+d0, s1+d1, s2+d2, s3+d3
		q0, q1, q2, q3 = q0+d0*d0, q1+d1*d1, q2+d2*d2, q3+d3*d3
	}
	for ; i < len(x); i++ {
		d := x[i] - p
		s0 += d
		q0 += d * d
	}
	return (s0 + s1) + (s2 + s3), (q0 + q1) + (q2 + q3)
}

// gradMoments returns Σ dy and Σ dy·(x − mu), with four accumulators each.
func gradMoments(dy, x []float32, mu float32) (s, sx float32) {
	x = x[:len(dy)]
	var s0, s1, s2, s3, q0, q1, q2, q3 float32
	i := 0
	for ; i+4 <= len(dy); i += 4 {
		s0, s1, s2, s3 = s0+dy[i], s1+dy[i+1], s2+dy[i+2], s3+dy[i+3]
		q0 += dy[i] * (x[i] - mu)
		q1 += dy[i+1] * (x[i+1] - mu)
		q2 += dy[i+2] * (x[i+2] - mu)
		q3 += dy[i+3] * (x[i+3] - mu)
	}
	for ; i < len(dy); i++ {
		s0 += dy[i]
		q0 += dy[i] * (x[i] - mu)
	}
	return (s0 + s1) + (s2 + s3), (q0 + q1) + (q2 + q3)
}
