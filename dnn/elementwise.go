package dnn

import "math"

// minParallel is the least number of values worth handing to the workers;
// below it, waking them costs more than the loop.
const minParallel = 1 << 15

// sampleSplit is the parallel state of an element-wise layer: the pass in
// progress covers n samples of size values, cut into units ranges.
type sampleSplit struct {
	n, size, units int
	inBackward     bool
}

func (s *sampleSplit) start(n, size int, backward bool) {
	s.n, s.size, s.inBackward = n, size, backward
	s.units = 1
	if n*size >= minParallel {
		s.units = n
	}
}

// valueRange is the range [lo, hi) of values that unit u covers.
func (s *sampleSplit) valueRange(u int) (lo, hi int) {
	a, b := span(u, s.units, s.n)
	return a * s.size, b * s.size
}

// relu is y = max(x, 0); its gradient passes where y > 0. A fused ReLU
// does nothing itself: its producer applies it (see Net.fuseReLUs).
type relu struct {
	base
	sampleSplit
	fused bool
}

func (l *relu) forward(n int, _ bool) {
	if l.fused {
		return
	}
	l.start(n, l.net.size[l.out], false)
	parallel(l, l.units)
}

func (l *relu) backward(n int) {
	if l.fused || l.dx(0) == nil {
		return
	}
	l.start(n, l.net.size[l.out], true)
	parallel(l, l.units)
}

// The ReLU loops work on the bits of float32s because a data-dependent
// branch per value mispredicts about half the time on real activations,
// which costs more than the arithmetic. For IEEE-754 bits b, b>>31 (signed)
// is all ones exactly when the sign is set, and a value y produced by the
// forward pass is positive exactly when its bits are not zero.
func (l *relu) do(u, _ int) {
	lo, hi := l.valueRange(u)
	y := l.y()[lo:hi]
	if !l.inBackward {
		for i, v := range l.x(0)[lo:hi] {
			y[i] = relu32(v)
		}
		return
	}
	dy, dx := l.dy()[lo:hi], l.dx(0)[lo:hi]
	if l.acc[0] {
		for i, v := range y {
			dx[i] += reluGrad(dy[i], v)
		}
		return
	}
	for i, v := range y {
		dx[i] = reluGrad(dy[i], v)
	}
}

// relu32 is max(v, 0), with -0 and negative NaNs mapped to 0.
func relu32(v float32) float32 {
	b := math.Float32bits(v)
	return math.Float32frombits(b &^ uint32(int32(b)>>31))
}

// reluGrad is d where y, a ReLU output, is above zero and 0 where it is
// zero.
func reluGrad(d, y float32) float32 {
	return math.Float32frombits(math.Float32bits(d) & positive(y))
}

// positive is all ones when y, a ReLU output, is above zero and zero when
// it is zero.
func positive(y float32) uint32 {
	b := math.Float32bits(y)
	return uint32(int32(b|-b) >> 31)
}

// add is the residual sum y = a + b.
type add struct {
	base
	sampleSplit
}

func (l *add) forward(n int, _ bool) {
	l.start(n, l.net.size[l.out], false)
	parallel(l, l.units)
}

func (l *add) backward(n int) {
	l.start(n, l.net.size[l.out], true)
	parallel(l, l.units)
}

func (l *add) do(u, _ int) {
	lo, hi := l.valueRange(u)
	if !l.inBackward {
		a, b := l.x(0)[lo:hi], l.x(1)[lo:hi]
		if l.relu != 0 {
			addReLU(l.net.act[l.relu][lo:hi], a, b)
			return
		}
		y := l.y()[lo:hi]
		for i := range y {
			y[i] = a[i] + b[i]
		}
		return
	}
	dy := l.dy()[lo:hi]
	if l.relu != 0 {
		// The ReLU's input gradient goes to this layer's own, otherwise
		// unused, gradient buffer, then on to both inputs.
		reluGradTo(dy, l.net.grad[l.relu][lo:hi], l.net.act[l.relu][lo:hi])
	}
	for i := range 2 {
		if dx := l.dx(i); dx != nil {
			store(dx[lo:hi], dy, l.acc[i])
		}
	}
}

// flatten reshapes [C, H, W] to [C·H·W]. Feature maps are stored channel
// first and flat buffers sample first (see Net), so it moves each plane to
// its sample's row.
type flatten struct{ base }

func (l *flatten) forward(n int, _ bool) {
	x, y := l.x(0), l.y()
	k := l.net.size[l.out]
	if !l.net.planar(l.in[0]) {
		copy(y[:n*k], x[:n*k])
		return
	}
	c := l.net.shape[l.in[0]][0]
	hw := k / c
	for s := range n {
		for ci := range c {
			copy(y[s*k+ci*hw:][:hw], x[(ci*n+s)*hw:][:hw])
		}
	}
}

func (l *flatten) backward(n int) {
	dx, dy := l.dx(0), l.dy()
	if dx == nil {
		return
	}
	k := l.net.size[l.out]
	if !l.net.planar(l.in[0]) {
		store(dx, dy[:n*k], l.acc[0])
		return
	}
	c := l.net.shape[l.in[0]][0]
	hw := k / c
	for s := range n {
		for ci := range c {
			store(dx[(ci*n+s)*hw:][:hw], dy[s*k+ci*hw:][:hw], l.acc[0])
		}
	}
}

// dropout is inverted dropout: in training each value is zeroed with
// probability Rate and the survivors are scaled by 1/(1 − Rate), so that
// inference is the identity. It runs on one goroutine, so that the mask
// sequence depends only on the seed.
type dropout struct {
	base
	mask  []float32
	train bool
}

func (l *dropout) forward(n int, train bool) {
	k := n * l.net.size[l.out]
	x, y := l.x(0)[:k], l.y()[:k]
	l.train = train && l.node.Rate > 0
	if !l.train {
		copy(y, x)
		return
	}
	keep := 1 - l.node.Rate
	scale := 1 / keep
	rng := l.net.rng
	for i, v := range x {
		m := float32(0)
		if rng.Float32() < keep {
			m = scale
		}
		l.mask[i] = m
		y[i] = v * m
	}
}

func (l *dropout) backward(n int) {
	dx := l.dx(0)
	if dx == nil {
		return
	}
	k := n * l.net.size[l.out]
	dy := l.dy()[:k]
	if !l.train {
		store(dx, dy, l.acc[0])
		return
	}
	dx = dx[:k]
	for i, d := range dy {
		if l.acc[0] {
			dx[i] += d * l.mask[i]
		} else {
			dx[i] = d * l.mask[i]
		}
	}
}
