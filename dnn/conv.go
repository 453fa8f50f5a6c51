package dnn

// colBudget bounds the im2col matrix, in float32 values. A convolution
// lowers as many samples at once as fit, so that one GEMM has many columns
// (which BLAS needs to run fast) while the matrix stays within a core's L2
// cache, where the GEMM reads it back, and the scratch memory independent
// of the batch size. (A variable so that tests can force a batch to be
// split.)
var colBudget = 1 << 17

// gradParts is the number of partial weight gradients a convolution's
// backward pass sums. It is a constant, not the worker count, so that the
// summation order, and with it every bit of the result, is the same on any
// machine.
const gradParts = 8

// workspace is one worker's scratch memory, shared by all layers of a Net
// (they run one at a time).
type workspace struct {
	col []float32
}

// conv is a 2-D convolution lowered to GEMM. Feature maps are stored
// channel first ([C][N][H·W], see Net), so for group g and a chunk of nb
// samples, with P = OH·OW output positions and K = C/G·kH·kW,
//
//	Y_g[Out/G, nb·P] = W_g[Out/G, K] · col[K, nb·P]
//	dW_gᵀ = col · dY_gᵀ,   dcol = W_gᵀ · dY_g  (then col2im into dX)
//
// where col holds the unrolled input patches (im2col) and Y_g, dY_g are
// column blocks of the output planes, read and written in place. A 1×1
// convolution of stride 1 without padding multiplies the input planes
// themselves. Chunks run in parallel, one worker each.
type conv struct {
	base
	c, h, w    int // input
	oc, oh, ow int // output
	groups     int
	cg, og     int // channels per group, in and out
	kh, kw     int
	sh, sw     int
	pt, pl     int  // top and left padding (bottom and right follow from the sizes)
	k, p       int  // rows of col (cg·kH·kW) and output positions per sample
	chunk      int  // samples lowered together
	direct     bool // 1×1, stride 1, no padding: col would be the input itself
	shifted    bool // stride 1, output as large as the input: see shiftRow
	center     int  // shifted: the row of col that is the input itself (offset (pT, pL)), or -1
	wp, bp     *Param

	// State of the pass in progress, read by do.
	n, chunks  int
	inBackward bool
	dwPart     [][]float32 // per part: each group's K×Out/G weight gradient, transposed, then Out bias gradient
}

func newConv(b base, in, out []int) *conv {
	n := b.node
	l := &conv{base: b, c: in[0], h: in[1], w: in[2], oc: out[0], oh: out[1], ow: out[2],
		groups: n.groups(), kh: n.Kernel[0], kw: n.Kernel[1], pt: n.Pad[0], pl: n.Pad[1]}
	l.sh, l.sw = n.stride()
	l.cg, l.og = l.c/l.groups, l.oc/l.groups
	l.k, l.p = l.cg*l.kh*l.kw, l.oh*l.ow
	l.chunk = max(1, min(b.net.maxBatch, colBudget/(l.k*l.p)))
	l.direct = l.kh == 1 && l.kw == 1 && l.sh == 1 && l.sw == 1 && n.Pad == [4]int{}
	l.shifted = l.sh == 1 && l.sw == 1 && l.oh == l.h && l.ow == l.w
	l.center = -1
	if l.shifted && l.pt < l.kh && l.pl < l.kw {
		l.center = l.pt*l.kw + l.pl
	}
	if !l.direct {
		b.net.needScratch(l.k * l.chunk * l.p)
	}
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
	dw, sum := l.wp.Grad, l.dwPart[0]
	for _, part := range l.dwPart[1:parts] {
		addTo(sum, part)
	}
	// Each group's block of the parts is dW_gᵀ (see backwardChunk).
	for g := range l.groups {
		src, dst := sum[g*l.og*l.k:][:l.og*l.k], dw[g*l.og*l.k:][:l.og*l.k]
		for r := range l.k {
			for o, v := range src[r*l.og:][:l.og] {
				dst[o*l.k+r] = v
			}
		}
	}
	if l.bp != nil {
		copy(l.bp.Grad, sum[len(dw):])
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

// lower returns the GEMM operand col of group g for samples s0..s0+nb-1
// and its row stride: the input planes themselves for a direct
// convolution, else the patches unrolled into ws.
func (l *conv) lower(ws *workspace, s0, nb, g int) ([]float32, int) {
	x := l.x(0)
	if l.direct {
		return x[(g*l.cg*l.n+s0)*l.p:], l.n * l.p
	}
	col := ws.col[:l.k*nb*l.p]
	l.im2col(col, x, s0, nb, g)
	return col, nb * l.p
}

func (l *conv) forwardChunk(ws *workspace, ch int) {
	y, wt, n := l.y(), l.node.W.Data, l.n
	s0 := ch * l.chunk
	nb := min(l.chunk, n-s0)
	cols := nb * l.p
	for g := range l.groups {
		col, ld := l.lower(ws, s0, nb, g)
		w := wt[g*l.og*l.k : (g+1)*l.og*l.k]
		sgemm(false, false, l.og, cols, l.k, 1, w, l.k, col, ld, 0, y[(g*l.og*n+s0)*l.p:], n*l.p)
	}
	if l.bp != nil {
		for o, bv := range l.bp.Value {
			row := y[(o*n+s0)*l.p:][:cols]
			for i := range row {
				row[i] += bv
			}
		}
	}
}

// backwardChunk adds (or, unless acc, writes) the chunk's weight and bias
// gradients into part and writes its input gradient.
func (l *conv) backwardChunk(ws *workspace, ch int, part []float32, acc bool) {
	dy, dx, wt, n := l.dy(), l.dx(0), l.node.W.Data, l.n
	s0 := ch * l.chunk
	nb := min(l.chunk, n-s0)
	cols, ldy, hw := nb*l.p, n*l.p, l.h*l.w
	// col2im adds onto dx, which therefore starts at zero, unless the
	// centre offset's patch gradients can be written first (see col2im).
	set := !l.acc[0] && l.center >= 0
	if dx != nil && !l.acc[0] && !l.direct && !set {
		for c := range l.c {
			clear(dx[(c*n+s0)*hw:][:nb*hw])
		}
	}
	var beta float32
	if acc {
		beta = 1
	}
	nw := len(wt)
	for g := range l.groups {
		d := dy[(g*l.og*n+s0)*l.p:]
		col, ld := l.lower(ws, s0, nb, g)
		// dW_gᵀ = col · dY_gᵀ: with the many rows of col as the GEMM's rows,
		// BLAS runs this product about a fifth faster than dY_g · colᵀ.
		sgemm(false, true, l.k, l.og, cols, 1, col, ld, d, ldy, beta, part[g*l.og*l.k:(g+1)*l.og*l.k], l.og)
		if l.bp != nil {
			db := part[nw+g*l.og : nw+(g+1)*l.og]
			for o := range l.og {
				sum := sum32(d[o*ldy:][:cols])
				if acc {
					db[o] += sum
				} else {
					db[o] = sum
				}
			}
		}
		if dx == nil {
			continue
		}
		w := wt[g*l.og*l.k : (g+1)*l.og*l.k]
		if l.direct {
			var b float32
			if l.acc[0] {
				b = 1
			}
			sgemm(true, false, l.k, cols, l.og, 1, w, l.k, d, ldy, b, dx[(g*l.cg*n+s0)*hw:], n*hw)
			continue
		}
		// col is spent: reuse it for dcol.
		dcol := ws.col[:l.k*cols]
		sgemm(true, false, l.k, cols, l.og, 1, w, l.k, d, ldy, 0, dcol, cols)
		l.col2im(dx, dcol, s0, nb, g, set)
	}
}

// im2col unrolls the patches of group g of samples s0..s0+nb-1 into col,
// row r = (ci·kH + i)·kW + j, column s·P + oy·OW + ox, zero where the
// patch overlaps the padding.
func (l *conv) im2col(col, x []float32, s0, nb, g int) {
	cols := nb * l.p
	hw := l.h * l.w
	for ci := range l.cg {
		plane := (g*l.cg + ci) * l.n
		for i := range l.kh {
			for j := range l.kw {
				row := col[((ci*l.kh+i)*l.kw+j)*cols:][:cols]
				if l.shifted {
					l.shiftRow(row, x[plane*hw:][:l.n*hw], s0, nb, i, j)
					continue
				}
				lo, hi := l.validX(j)
				ix := lo*l.sw - l.pl + j
				for s := range nb {
					src := x[(plane+s0+s)*hw:][:hw]
					dst := row[s*l.p:][:l.p]
					for oy := range l.oh {
						iy := oy*l.sh - l.pt + i
						d := dst[oy*l.ow:][:l.ow]
						if iy < 0 || iy >= l.h || lo >= hi {
							clear(d)
							continue
						}
						for ox := range lo {
							d[ox] = 0
						}
						for ox := hi; ox < len(d); ox++ {
							d[ox] = 0
						}
						r := src[iy*l.w+ix:]
						if l.sw == 1 {
							copy(d[lo:hi], r)
							continue
						}
						gather(d[lo:hi], r, l.sw)
					}
				}
			}
		}
	}
}

// shiftRow is im2col's row for kernel offset (i, j) when the stride is 1
// and the output as large as the input. Then output position t of a plane
// reads input position t + (i−pT)·W + j − pL, and since a channel's planes
// lie one after another (see Net), the row for the whole chunk is one copy
// of the channel src shifted; only the values that wrapped around a row or
// plane edge are zeroed afterwards.
func (l *conv) shiftRow(row, src []float32, s0, nb, i, j int) {
	at := s0*l.p + (i-l.pt)*l.w + j - l.pl
	// When a plane is smaller than the kernel's reach, the shift can
	// exceed the row: then nothing is copied.
	a := min(max(0, -at), len(row))
	b := max(a, min(len(row), len(src)-at))
	clear(row[:a])
	if a < b {
		copy(row[a:b], src[a+at:b+at])
	}
	clear(row[b:])
	l.zeroWrapped(row, nb, i, j)
}

// zeroWrapped zeroes, in each of the nb planes of row, the positions whose
// input for kernel offset (i, j) lies in the padding.
func (l *conv) zeroWrapped(row []float32, nb, i, j int) {
	lo, hi := l.validX(j)
	oyLo, oyHi := l.rowsFor(i)
	if lo >= hi || oyLo >= oyHi {
		clear(row)
		return
	}
	if oyLo > 0 || oyHi < l.oh {
		for s := range nb {
			d := row[s*l.p:][:l.p]
			clear(d[:oyLo*l.ow])
			clear(d[oyHi*l.ow:])
		}
	}
	// The columns, over all rows of all planes at once (rows already
	// cleared included: cheaper than skipping them).
	ow := l.ow
	switch {
	case lo == 0 && hi == ow:
	case lo == 1 && hi == ow:
		for t := 0; t < len(row); t += ow {
			row[t] = 0
		}
	case lo == 0 && hi == ow-1:
		for t := ow - 1; t < len(row); t += ow {
			row[t] = 0
		}
	default:
		for t := 0; t < len(row); t += ow {
			r := row[t : t+ow]
			clear(r[:lo])
			clear(r[hi:])
		}
	}
}

// rowsFor is the range [lo, hi) of output rows whose input row for kernel
// row i lies inside the image, for stride 1.
func (l *conv) rowsFor(i int) (lo, hi int) {
	lo, hi = max(0, l.pt-i), min(l.oh, l.h+l.pt-i)
	return lo, max(lo, hi)
}

// col2im adds the patch gradients in dcol back onto dx; it is the transpose
// of im2col. With set, the chunk's planes of dx are written rather than
// added to: the centre offset's row, which maps each position onto itself,
// is copied first and the others added, which spares clearing dx. It
// overwrites dcol.
func (l *conv) col2im(dx, dcol []float32, s0, nb, g int, set bool) {
	cols := nb * l.p
	hw := l.h * l.w
	for ci := range l.cg {
		plane := (g*l.cg + ci) * l.n
		if set {
			copy(dx[(plane+s0)*hw:][:cols], dcol[(ci*l.kh*l.kw+l.center)*cols:][:cols])
		}
		for i := range l.kh {
			for j := range l.kw {
				if set && i*l.kw+j == l.center {
					continue
				}
				row := dcol[((ci*l.kh+i)*l.kw+j)*cols:][:cols]
				if l.shifted {
					l.unshiftRow(dx[(plane+s0)*hw:][:cols], row, nb, i, j)
					continue
				}
				lo, hi := l.validX(j)
				if lo >= hi {
					continue
				}
				ix := lo*l.sw - l.pl + j
				for s := range nb {
					dst := dx[(plane+s0+s)*hw:][:hw]
					src := row[s*l.p:][:l.p]
					for oy := range l.oh {
						iy := oy*l.sh - l.pt + i
						if iy < 0 || iy >= l.h {
							continue
						}
						d := src[oy*l.ow:][lo:hi]
						r := dst[iy*l.w+ix:]
						if l.sw == 1 {
							addTo(r[:len(d)], d)
							continue
						}
						scatterAdd(r, d, l.sw)
					}
				}
			}
		}
	}
}

// unshiftRow is the transpose of shiftRow onto the chunk's planes dst of
// one channel. The gradients of wrapped-around positions are zeroed in row
// first, so that the whole row is one vector add; it never touches
// another chunk's planes, which another worker may be writing.
func (l *conv) unshiftRow(dst, row []float32, nb, i, j int) {
	l.zeroWrapped(row, nb, i, j)
	at := (i-l.pt)*l.w + j - l.pl
	a, b := max(0, -at), min(len(row), len(dst)-at)
	if a < b {
		addTo(dst[a+at:b+at], row[a:b])
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

// gather sets dst[t] = src[t·stride]. Inlined into im2col's loops it
// would have its counters spilled to the stack.
//
//go:noinline
func gather(dst, src []float32, stride int) {
	if len(dst) == 0 {
		return
	}
	src = src[:(len(dst)-1)*stride+1]
	for t := range dst {
		dst[t] = src[t*stride]
	}
}

// scatterAdd adds src[t] to dst[t·stride].
//
//go:noinline
func scatterAdd(dst, src []float32, stride int) {
	if len(src) == 0 {
		return
	}
	dst = dst[:(len(src)-1)*stride+1]
	for t, v := range src {
		dst[t*stride] += v
	}
}
