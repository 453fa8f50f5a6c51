package dnn

// denseParts is how many blocks a large Dense layer's products are cut
// into, so that they run on all workers. A constant, not the worker count,
// so that the blocks, and with them every bit of the result, are the same
// on any machine.
const denseParts = 8

// dense is a fully connected layer on flat inputs,
//
//	Y[N, Out] = X[N, In] · Wᵀ + b
//	dW = dYᵀ · X,   db = Σₙ dY,   dX = dY · W
//
// Y and dX are cut into blocks of samples, dW into blocks of input
// columns; the blocks run in parallel.
type dense struct {
	base
	in, out int
	wp, bp  *Param

	// State of the pass in progress, read by do.
	n, parts   int
	inBackward bool
}

func newDense(b base, in int) *dense {
	l := &dense{base: b, in: in, out: b.node.Out}
	l.wp = b.net.addParam(b.node, "W", b.node.W, true)
	if b.node.B != nil {
		l.bp = b.net.addParam(b.node, "B", b.node.B, false)
	}
	return l
}

// split sets how many blocks the pass over n samples is cut into: one
// unless the product is worth waking the workers for.
func (l *dense) split(n int, backward bool) {
	l.n, l.inBackward, l.parts = n, backward, 1
	if n*l.in*l.out >= 1<<20 {
		l.parts = min(denseParts, n)
	}
}

func (l *dense) forward(n int, _ bool) {
	l.split(n, false)
	parallel(l, l.parts)
}

func (l *dense) backward(n int) {
	l.split(n, true)
	parallel(l, l.parts)
	if l.bp != nil {
		db, dy := l.bp.Grad, l.dy()
		clear(db)
		for s := range n {
			addTo(db, dy[s*l.out:][:l.out])
		}
	}
}

func (l *dense) do(u, _ int) {
	x, w, n := l.x(0), l.node.W.Data, l.n
	lo, hi := span(u, l.parts, n)
	if !l.inBackward {
		y := l.y()
		sgemm(false, true, hi-lo, l.out, l.in, 1, x[lo*l.in:], l.in, w, l.in, 0, y[lo*l.out:], l.out)
		if l.bp != nil {
			for s := lo; s < hi; s++ {
				addTo(y[s*l.out:][:l.out], l.bp.Value)
			}
		}
		return
	}
	dy, dx := l.dy(), l.dx(0)
	a, b := span(u, l.parts, l.in)
	sgemm(true, false, l.out, b-a, n, 1, dy, l.out, x[a:], l.in, 0, l.wp.Grad[a:], l.in)
	if dx != nil {
		var beta float32
		if l.acc[0] {
			beta = 1
		}
		sgemm(false, false, hi-lo, l.in, l.out, 1, dy[lo*l.out:], l.out, w, l.in, beta, dx[lo*l.in:], l.in)
	}
}
