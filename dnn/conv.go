package dnn

// colBudget bounds the im2col matrix, in float32 values. A convolution
// lowers as many samples at once as fit, so that one GEMM has many columns
// (which BLAS needs to run fast) while the matrix stays cache-sized and the
// scratch memory independent of the batch size. (A variable so that tests
// can force a batch to be split.)
var colBudget = 1 << 20

// gradParts is the number of partial weight gradients a convolution's
// backward pass sums. It is a constant, not the worker count, so that the
// summation order, and with it every bit of the result, is the same on any
// machine.
const gradParts = 8

// workspace is one worker's scratch memory, shared by all layers of a Net
// (they run one at a time).
type workspace struct {
	col, tmp []float32
}

// conv is a 2-D convolution lowered to GEMM. For group g and a chunk of nb
// samples, with P = OH·OW output positions and K = C/G·kH·kW,
//
//	Y_g[Out/G, nb·P] = W_g[Out/G, K] · col[K, nb·P]
//	dW_g = dY_g · colᵀ,   dcol = W_gᵀ · dY_g  (then col2im into dX)
//
// where col holds the unrolled input patches (im2col). Chunks run in
// parallel, one worker each.
type conv struct {
	base
	c, h, w    int // input
	oc, oh, ow int // output
	groups     int
	cg, og     int // channels per group, in and out
	kh, kw     int
	sh, sw     int
	pt, pl     int // top and left padding (bottom and right follow from the sizes)
	k, p       int // rows of col (cg·kH·kW) and output positions per sample
	chunk      int // samples lowered together
	wp, bp     *Param

	// State of the pass in progress, read by do.
	n, chunks  int
	inBackward bool
	dwPart     [][]float32 // per part: Out·K weight gradient, then Out bias gradient
}

func newConv(b base, in, out []int) *conv {
	n := b.node
	l := &conv{base: b, c: in[0], h: in[1], w: in[2], oc: out[0], oh: out[1], ow: out[2],
		groups: n.groups(), kh: n.Kernel[0], kw: n.Kernel[1], pt: n.Pad[0], pl: n.Pad[1]}
	l.sh, l.sw = n.stride()
	l.cg, l.og = l.c/l.groups, l.oc/l.groups
	l.k, l.p = l.cg*l.kh*l.kw, l.oh*l.ow
	l.chunk = max(1, min(b.net.maxBatch, colBudget/(l.k*l.p)))
	b.net.needScratch(l.k*l.chunk*l.p, l.og*l.chunk*l.p)
	l.wp = b.net.addParam(n, "W", n.W, true)
	if n.B != nil {
		l.bp = b.net.addParam(n, "B", n.B, false)
	}
	return l
}

func (l *conv) forward(n int, _ bool) {
	l.n, l.inBackward = n, false
	l.chunks = (n + l.chunk - 1) / l.chunk
	parallel(l, l.chunks)
}

func (l *conv) backward(n int) {
	l.n, l.inBackward = n, true
	l.chunks = (n + l.chunk - 1) / l.chunk
	parts := min(l.chunks, gradParts)
	if l.dwPart == nil {
		l.dwPart = make([][]float32, gradParts)
		for i := range l.dwPart {
			l.dwPart[i] = make([]float32, len(l.node.W.Data)+l.oc)
		}
	}
	parallel(l, parts)
	// Sum the parts in order: the result does not depend on which worker
	// computed which part.
	dw := l.wp.Grad
	copy(dw, l.dwPart[0])
	for _, part := range l.dwPart[1:parts] {
		for i, v := range part[:len(dw)] {
			dw[i] += v
		}
	}
	if l.bp != nil {
		db := l.bp.Grad
		clear(db)
		for _, part := range l.dwPart[:parts] {
			for i, v := range part[len(dw):] {
				db[i] += v
			}
		}
	}
}

func (l *conv) do(unit, slot int) {
	ws := &l.net.ws[slot]
	if !l.inBackward {
		l.forwardChunk(ws, unit)
		return
	}
	parts := min(l.chunks, gradParts)
	lo, hi := span(unit, parts, l.chunks)
	part := l.dwPart[unit]
	for ch := lo; ch < hi; ch++ {
		l.backwardChunk(ws, ch, part, ch > lo)
	}
}

func (l *conv) forwardChunk(ws *workspace, ch int) {
	x, y, wt := l.x(0), l.y(), l.node.W.Data
	s0 := ch * l.chunk
	nb := min(l.chunk, l.n-s0)
	cols := nb * l.p
	col := ws.col[:l.k*cols]
	for g := range l.groups {
		l.im2col(col, x, s0, nb, g)
		w := wt[g*l.og*l.k : (g+1)*l.og*l.k]
		if nb == 1 {
			// One sample: the GEMM result already is the NCHW output.
			dst := y[s0*l.oc*l.p+g*l.og*l.p:]
			sgemm(false, false, l.og, cols, l.k, 1, w, l.k, col, cols, 0, dst, cols)
			continue
		}
		tmp := ws.tmp[:l.og*cols]
		sgemm(false, false, l.og, cols, l.k, 1, w, l.k, col, cols, 0, tmp, cols)
		for s := range nb {
			for o := range l.og {
				copy(y[((s0+s)*l.oc+g*l.og+o)*l.p:][:l.p], tmp[o*cols+s*l.p:][:l.p])
			}
		}
	}
	if l.bp != nil {
		for s := s0; s < s0+nb; s++ {
			for o, bv := range l.bp.Value {
				row := y[(s*l.oc+o)*l.p:][:l.p]
				for i := range row {
					row[i] += bv
				}
			}
		}
	}
}

// backwardChunk adds (or, unless acc, writes) the chunk's weight and bias
// gradients into part and writes its input gradient.
func (l *conv) backwardChunk(ws *workspace, ch int, part []float32, acc bool) {
	x, dy, dx, wt := l.x(0), l.dy(), l.dx(0), l.node.W.Data
	s0 := ch * l.chunk
	nb := min(l.chunk, l.n-s0)
	cols := nb * l.p
	col := ws.col[:l.k*cols]
	if dx != nil && !l.acc[0] {
		clear(dx[s0*l.c*l.h*l.w : (s0+nb)*l.c*l.h*l.w])
	}
	var beta float32
	if acc {
		beta = 1
	}
	nw := len(wt)
	for g := range l.groups {
		var d []float32
		if nb == 1 {
			d = dy[s0*l.oc*l.p+g*l.og*l.p:][:l.og*l.p]
		} else {
			d = ws.tmp[:l.og*cols]
			for s := range nb {
				for o := range l.og {
					copy(d[o*cols+s*l.p:][:l.p], dy[((s0+s)*l.oc+g*l.og+o)*l.p:][:l.p])
				}
			}
		}
		l.im2col(col, x, s0, nb, g)
		sgemm(false, true, l.og, l.k, cols, 1, d, cols, col, cols, beta, part[g*l.og*l.k:(g+1)*l.og*l.k], l.k)
		if l.bp != nil {
			db := part[nw+g*l.og : nw+(g+1)*l.og]
			for o := range l.og {
				var sum float32
				for _, v := range d[o*cols:][:cols] {
					sum += v
				}
				if acc {
					db[o] += sum
				} else {
					db[o] = sum
				}
			}
		}
		if dx != nil {
			// col is spent: reuse it for dcol.
			w := wt[g*l.og*l.k : (g+1)*l.og*l.k]
			sgemm(true, false, l.k, cols, l.og, 1, w, l.k, d, cols, 0, col, cols)
			l.col2im(dx, col, s0, nb, g)
		}
	}
}

// im2col unrolls the patches of group g of samples s0..s0+nb-1 into col,
// row r = (ci·kH + i)·kW + j, column s·P + oy·OW + ox, zero where the
// patch overlaps the padding.
func (l *conv) im2col(col, x []float32, s0, nb, g int) {
	cols := nb * l.p
	hw := l.h * l.w
	for ci := range l.cg {
		for i := range l.kh {
			for j := range l.kw {
				row := col[((ci*l.kh+i)*l.kw+j)*cols:][:cols]
				lo, hi := l.validX(j)
				for s := range nb {
					src := x[((s0+s)*l.c+g*l.cg+ci)*hw:][:hw]
					dst := row[s*l.p:][:l.p]
					for oy := range l.oh {
						iy := oy*l.sh - l.pt + i
						d := dst[oy*l.ow:][:l.ow]
						if iy < 0 || iy >= l.h || lo >= hi {
							clear(d)
							continue
						}
						clear(d[:lo])
						clear(d[hi:])
						r := src[iy*l.w:][:l.w]
						ix := lo*l.sw - l.pl + j
						if l.sw == 1 {
							copy(d[lo:hi], r[ix:])
							continue
						}
						for ox := lo; ox < hi; ox++ {
							d[ox] = r[ix]
							ix += l.sw
						}
					}
				}
			}
		}
	}
}

// col2im adds the patch gradients in dcol back onto dx; it is the transpose
// of im2col.
func (l *conv) col2im(dx, dcol []float32, s0, nb, g int) {
	cols := nb * l.p
	hw := l.h * l.w
	for ci := range l.cg {
		for i := range l.kh {
			for j := range l.kw {
				row := dcol[((ci*l.kh+i)*l.kw+j)*cols:][:cols]
				lo, hi := l.validX(j)
				if lo >= hi {
					continue
				}
				for s := range nb {
					dst := dx[((s0+s)*l.c+g*l.cg+ci)*hw:][:hw]
					src := row[s*l.p:][:l.p]
					for oy := range l.oh {
						iy := oy*l.sh - l.pt + i
						if iy < 0 || iy >= l.h {
							continue
						}
						d := src[oy*l.ow:][lo:hi]
						ix := lo*l.sw - l.pl + j
						if l.sw == 1 {
							addTo(dst[iy*l.w+ix:][:len(d)], d)
							continue
						}
						r := dst[iy*l.w:][:l.w]
						for _, v := range d {
							r[ix] += v
							ix += l.sw
						}
					}
				}
			}
		}
	}
}

// validX is the range [lo, hi) of output columns whose input column for
// kernel column j lies inside the image.
func (l *conv) validX(j int) (lo, hi int) {
	// ix = ox·sW − pL + j must satisfy 0 <= ix < W.
	off := j - l.pl
	if off < 0 {
		lo = (-off + l.sw - 1) / l.sw
	}
	if l.w-1-off >= 0 {
		hi = (l.w-1-off)/l.sw + 1
	}
	hi = min(hi, l.ow)
	lo = min(lo, hi)
	return lo, hi
}

// addTo sets dst[i] += src[i].
func addTo(dst, src []float32) {
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] += v
	}
}
