package dnn

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// maxWorkers caps the goroutines a layer is split over; each one costs a
// Net a private im2col workspace.
const maxWorkers = 16

// task is work split into independent units, run by one of several
// workers; slot (0 ≤ slot < numWorkers) names the worker, so that a unit may
// use per-worker scratch memory. Units must not depend on which worker runs
// them or in what order: every reduction across units is done afterwards in
// unit order, which keeps results independent of the number of workers.
type task interface {
	do(unit, slot int)
}

// workerPool is a fixed set of goroutines shared by every Net of the
// process. The caller of run works as slot 0. A run that finds the pool busy
// (another Net running on another goroutine) does its units itself, so
// concurrent Nets never wait on each other.
type workerPool struct {
	n     int
	mu    sync.Mutex
	wake  []chan struct{}
	wg    sync.WaitGroup
	t     task
	next  atomic.Int64
	units int64
}

var (
	poolOnce   sync.Once
	sharedPool *workerPool
)

// numWorkers is the number of worker slots, fixed at the first call:
// GOMAXPROCS capped at maxWorkers.
func numWorkers() int { return workers().n }

func workers() *workerPool {
	poolOnce.Do(func() {
		p := &workerPool{n: max(1, min(runtime.GOMAXPROCS(0), maxWorkers))}
		for slot := 1; slot < p.n; slot++ {
			c := make(chan struct{})
			p.wake = append(p.wake, c)
			go func() {
				for range c {
					p.loop(slot)
					p.wg.Done()
				}
			}()
		}
		sharedPool = p
	})
	return sharedPool
}

// parallel runs units 0..units-1 of t and returns when all are done.
func parallel(t task, units int) {
	p := workers()
	if units <= 1 || p.n == 1 || !p.mu.TryLock() {
		for i := range units {
			t.do(i, 0)
		}
		return
	}
	defer p.mu.Unlock()
	p.t, p.units = t, int64(units)
	p.next.Store(0)
	helpers := min(p.n, units) - 1
	p.wg.Add(helpers)
	for _, c := range p.wake[:helpers] {
		c <- struct{}{}
	}
	p.loop(0)
	p.wg.Wait()
	p.t = nil
}

func (p *workerPool) loop(slot int) {
	for {
		i := p.next.Add(1) - 1
		if i >= p.units {
			return
		}
		p.t.do(int(i), slot)
	}
}

// span splits n items into parts near-equal ranges and returns range i.
func span(i, parts, n int) (lo, hi int) {
	return i * n / parts, (i + 1) * n / parts
}
