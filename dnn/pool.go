package dnn

import "math"

// pool is MaxPool or AveragePool over kH×kW windows. Padding never wins a max
// and is excluded from an average: a window's divisor is the number of input
// values it covers (ONNX count_include_pad = 0). Samples run in parallel.
type pool struct {
	base
	isMax    bool
	c, h, w  int
	oh, ow   int
	planeIn  int
	planeOut int
	fast2x2  bool      // 2x2 windows, stride 2, no padding
	windows  [][4]int  // per output position: y0, y1, x0, x1 of the clipped window
	invCount []float32 // per output position: 1 / values covered
	argmax   []int32   // per output value: index of the max within its input plane

	inBackward bool // state of the pass in progress, read by do
}

func newPool(b base, in, out []int, isMax bool) *pool {
	n := b.node
	l := &pool{base: b, isMax: isMax, c: in[0], h: in[1], w: in[2], oh: out[1], ow: out[2]}
	sh, sw := n.stride()
	l.planeIn, l.planeOut = l.h*l.w, l.oh*l.ow
	l.fast2x2 = n.Kernel == [2]int{2, 2} && sh == 2 && sw == 2 && n.Pad == [4]int{}
	l.windows = make([][4]int, l.planeOut)
	l.invCount = make([]float32, l.planeOut)
	for oy := range l.oh {
		for ox := range l.ow {
			y0, x0 := oy*sh-n.Pad[0], ox*sw-n.Pad[1]
			y1, x1 := min(y0+n.Kernel[0], l.h), min(x0+n.Kernel[1], l.w)
			y0, x0 = max(y0, 0), max(x0, 0)
			q := oy*l.ow + ox
			l.windows[q] = [4]int{y0, y1, x0, x1}
			l.invCount[q] = 1 / float32((y1-y0)*(x1-x0))
		}
	}
	if isMax {
		l.argmax = make([]int32, b.net.maxBatch*l.c*l.planeOut)
	}
	return l
}

func (l *pool) forward(n int, _ bool) {
	l.inBackward = false
	parallel(l, n)
}

func (l *pool) backward(n int) {
	if l.dx(0) == nil {
		return
	}
	l.inBackward = true
	parallel(l, n)
}

// do pools (or back-propagates) the planes of sample s.
func (l *pool) do(s, _ int) {
	for p := s * l.c; p < (s+1)*l.c; p++ {
		switch {
		case l.inBackward:
			l.backwardPlane(p)
		case l.isMax && l.fast2x2:
			l.max2x2(p)
		default:
			l.forwardPlane(p)
		}
	}
}

// max2x2 compares within each row's pair first and then the two winners,
// turning each compare into a 0 or 1 index offset rather than a branch: on
// real activations a branch per compare mispredicts too often. Ties go to the
// first value in row order, as in forwardPlane.
func (l *pool) max2x2(p int) {
	src := l.x(0)[p*l.planeIn:][:l.planeIn]
	dst := l.y()[p*l.planeOut:][:l.planeOut]
	arg := l.argmax[p*l.planeOut:][:l.planeOut]
	for oy := range l.oh {
		i0 := 2 * oy * l.w
		d, a := dst[oy*l.ow:][:l.ow], arg[oy*l.ow:][:l.ow]
		r0, r1 := src[i0:][:2*len(d)], src[i0+l.w:][:2*len(d)]
		for ox := range d {
			j := 2 * ox
			t := j + b2i(r0[j+1] > r0[j])
			u := j + b2i(r1[j+1] > r1[j])
			at := i0 + t + b2i(r1[u] > r0[t])*(l.w+u-t)
			d[ox], a[ox] = src[at], int32(at)
		}
	}
}

func (l *pool) forwardPlane(p int) {
	src := l.x(0)[p*l.planeIn:][:l.planeIn]
	dst := l.y()[p*l.planeOut:][:l.planeOut]
	for q, win := range l.windows {
		if l.isMax {
			best, at := float32(math.Inf(-1)), win[0]*l.w+win[2]
			for iy := win[0]; iy < win[1]; iy++ {
				for ix := win[2]; ix < win[3]; ix++ {
					if v := src[iy*l.w+ix]; v > best {
						best, at = v, iy*l.w+ix
					}
				}
			}
			dst[q] = best
			l.argmax[p*l.planeOut+q] = int32(at)
			continue
		}
		var s float32
		for iy := win[0]; iy < win[1]; iy++ {
			for _, v := range src[iy*l.w+win[2] : iy*l.w+win[3]] {
				s += v
			}
		}
		dst[q] = s * l.invCount[q]
	}
}

func (l *pool) backwardPlane(p int) {
	dst := l.dx(0)[p*l.planeIn:][:l.planeIn]
	src := l.dy()[p*l.planeOut:][:l.planeOut]
	if !l.acc[0] {
		clear(dst)
	}
	if l.isMax {
		for q, d := range src {
			dst[l.argmax[p*l.planeOut+q]] += d
		}
		return
	}
	for q, win := range l.windows {
		d := src[q] * l.invCount[q]
		for iy := win[0]; iy < win[1]; iy++ {
			row := dst[iy*l.w+win[2] : iy*l.w+win[3]]
			for i := range row {
				row[i] += d
			}
		}
	}
}

// globalAvgPool averages each channel's plane to one value.
type globalAvgPool struct {
	base
	c, hw int
}

func (l *globalAvgPool) forward(n int, _ bool) {
	x, y := l.x(0), l.y()
	inv := 1 / float32(l.hw)
	for p := range n * l.c {
		var s float32
		for _, v := range x[p*l.hw:][:l.hw] {
			s += v
		}
		y[p] = s * inv
	}
}

func (l *globalAvgPool) backward(n int) {
	dy, dx := l.dy(), l.dx(0)
	if dx == nil {
		return
	}
	inv := 1 / float32(l.hw)
	for p := range n * l.c {
		d := dy[p] * inv
		row := dx[p*l.hw:][:l.hw]
		if l.acc[0] {
			for i := range row {
				row[i] += d
			}
		} else {
			for i := range row {
				row[i] = d
			}
		}
	}
}

// b2i is 1 for true and 0 for false; the compiler makes it a SETcc, not a
// branch.
func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
