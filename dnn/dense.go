package dnn

// dense is a fully connected layer on flat inputs,
//
//	Y[N, Out] = X[N, In] · Wᵀ + b
//	dW = dYᵀ · X,   db = Σₙ dY,   dX = dY · W
type dense struct {
	base
	in, out int
	wp, bp  *Param
}

func newDense(b base, in int) *dense {
	l := &dense{base: b, in: in, out: b.node.Out}
	l.wp = b.net.addParam(b.node, "W", b.node.W, true)
	if b.node.B != nil {
		l.bp = b.net.addParam(b.node, "B", b.node.B, false)
	}
	return l
}

func (l *dense) forward(n int, _ bool) {
	x, y := l.x(0), l.y()
	sgemm(false, true, n, l.out, l.in, 1, x, l.in, l.node.W.Data, l.in, 0, y, l.out)
	if l.bp != nil {
		for s := range n {
			row := y[s*l.out:][:l.out]
			for i, b := range l.bp.Value {
				row[i] += b
			}
		}
	}
}

func (l *dense) backward(n int) {
	x, dy, dx := l.x(0), l.dy(), l.dx(0)
	sgemm(true, false, l.out, l.in, n, 1, dy, l.out, x, l.in, 0, l.wp.Grad, l.in)
	if l.bp != nil {
		db := l.bp.Grad
		clear(db)
		for s := range n {
			for i, d := range dy[s*l.out:][:l.out] {
				db[i] += d
			}
		}
	}
	if dx != nil {
		var beta float32
		if l.acc[0] {
			beta = 1
		}
		sgemm(false, false, n, l.in, l.out, 1, dy, l.out, l.node.W.Data, l.in, beta, dx, l.in)
	}
}
