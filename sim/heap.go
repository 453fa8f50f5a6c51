package sim

// eventHeap is a 4-ary min-heap of events ordered by (at, seq). Four children
// per node halve the depth of a binary heap, and the children of a node are
// adjacent in memory, so the extra comparisons per level cost few cache
// misses.
//
// The engine peeks at the top, handles it, and then either replaces it with
// the first event the handler schedules (one sift-down) or pops it: most
// handlers schedule exactly one event, which turns a pop and a push into a
// single sift-down.
type eventHeap struct {
	ev []event
}

const heapArity = 4

func (h *eventHeap) len() int { return len(h.ev) }

// top returns the earliest event. Cost O(1).
func (h *eventHeap) top() event { return h.ev[0] }

// push adds e. Cost O(log₄ n).
func (h *eventHeap) push(e event) {
	h.ev = append(h.ev, e)
	ev := h.ev
	i := len(ev) - 1
	for i > 0 {
		p := (i - 1) / heapArity
		if !e.before(&ev[p]) {
			break
		}
		ev[i] = ev[p]
		i = p
	}
	ev[i] = e
}

// pop removes the earliest event. Cost O(4 log₄ n).
func (h *eventHeap) pop() {
	n := len(h.ev) - 1
	last := h.ev[n]
	h.ev = h.ev[:n]
	if n > 0 {
		h.siftDown(last)
	}
}

// replaceTop removes the earliest event and adds e. Cost O(4 log₄ n).
func (h *eventHeap) replaceTop(e event) { h.siftDown(e) }

// siftDown places e from the root down. It first moves the hole at the
// root down along the smallest children to a leaf, without comparing e,
// then sifts e up from there (Floyd's bottom-up heap): e is usually a
// far-future event (a device's next arrival, the heap's last element) that
// belongs near the leaves, so this saves a comparison per level.
func (h *eventHeap) siftDown(e event) {
	ev := h.ev
	n := len(ev)
	i := 0
	for {
		c := heapArity*i + 1
		if c >= n {
			break
		}
		m := c
		end := min(c+heapArity, n)
		for j := c + 1; j < end; j++ {
			if ev[j].before(&ev[m]) {
				m = j
			}
		}
		ev[i] = ev[m]
		i = m
	}
	for i > 0 {
		p := (i - 1) / heapArity
		if !e.before(&ev[p]) {
			break
		}
		ev[i] = ev[p]
		i = p
	}
	ev[i] = e
}
