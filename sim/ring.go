package sim

// ring is a FIFO queue of request indices in a power-of-two ring buffer that
// doubles when full; it never shrinks, so a stage's queue allocates only
// while it reaches a new peak length.
type ring struct {
	buf  []int32
	head int
	n    int
}

func (r *ring) len() int { return r.n }

func (r *ring) push(v int32) {
	if r.n == len(r.buf) {
		r.grow()
	}
	r.buf[(r.head+r.n)&(len(r.buf)-1)] = v
	r.n++
}

// front returns the oldest entry; the ring must not be empty.
func (r *ring) front() int32 { return r.buf[r.head] }

// pop removes and returns the oldest entry; the ring must not be empty.
func (r *ring) pop() int32 {
	v := r.buf[r.head]
	r.head = (r.head + 1) & (len(r.buf) - 1)
	r.n--
	return v
}

func (r *ring) grow() {
	buf := make([]int32, max(8, 2*len(r.buf)))
	for i := range r.n {
		buf[i] = r.buf[(r.head+i)&(len(r.buf)-1)]
	}
	r.buf, r.head = buf, 0
}
