package oip

import (
	"errors"
	"sync"
	"time"
)

// Model is what the server runs: a model of one float32 input and one
// float32 output, both with the batch first. Run is called from one
// goroutine at a time. hil.Session implements it.
type Model interface {
	// Run runs a batch of n samples: x holds n·InputSize() values and dst
	// receives n·OutputSize().
	Run(dst, x []float32, n int) error
	InputSize() int
	OutputSize() int
}

// job is one request's samples waiting for a batch.
type job struct {
	x      []float32
	n      int
	queued time.Time
	done   chan result
}

type result struct {
	y       []float32
	err     error
	queue   time.Duration // queued until its batch started
	compute time.Duration // the batch's run
	batch   int           // samples in the batch
}

// errClosed answers requests that arrive while the server shuts down.
var errClosed = errors.New("the server is shutting down")

// batcher runs models on batches of queued jobs. Each model is a server of
// its own with one goroutine: it takes the oldest job, adds jobs that arrive
// until the batch holds maxBatch samples or maxWait has passed since it
// started to fill, and runs them together. A job larger than maxBatch runs
// alone. No model is run by two goroutines, so models need no locking.
type batcher struct {
	maxBatch int
	maxWait  time.Duration
	jobs     chan *job
	stop     chan struct{}
	loops    sync.WaitGroup
	m        *metrics

	mu     sync.RWMutex // held to send on jobs; Lock marks closed
	closed bool
}

func newBatcher(models []Model, maxBatch int, maxWait time.Duration, met *metrics) *batcher {
	b := &batcher{maxBatch: max(maxBatch, 1), maxWait: maxWait,
		jobs: make(chan *job, 1024), stop: make(chan struct{}), m: met}
	for _, m := range models {
		b.loops.Go(func() { b.loop(m) })
	}
	return b
}

// submit queues a job and waits for its result.
func (b *batcher) submit(x []float32, n int) result {
	j := &job{x: x, n: n, queued: time.Now(), done: make(chan result, 1)}
	b.mu.RLock()
	if b.closed {
		b.mu.RUnlock()
		return result{err: errClosed}
	}
	b.m.queued.Inc()
	b.jobs <- j
	b.mu.RUnlock()
	r := <-j.done
	return r
}

// close stops taking jobs, answers those still queued with errClosed and
// waits for the running batch to finish.
func (b *batcher) close() {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	// No job is sent from here on: the loop drains what was.
	close(b.stop)
	b.loops.Wait()
	b.drain()
}

func (b *batcher) loop(m Model) {
	var batch []*job
	var x, y []float32
	for {
		var first *job
		select {
		case first = <-b.jobs:
		case <-b.stop:
			return
		}
		batch = append(batch[:0], first)
		size := first.n
		if size < b.maxBatch && b.maxWait > 0 {
			timer := time.NewTimer(b.maxWait)
		fill:
			for size < b.maxBatch {
				select {
				case j := <-b.jobs:
					if size+j.n > b.maxBatch {
						// Too big to join: run what there is, then it.
						b.run(m, batch, size, &x, &y)
						batch, size = append(batch[:0], j), j.n
						break fill
					}
					batch = append(batch, j)
					size += j.n
				case <-timer.C:
					break fill
				}
			}
			timer.Stop()
		}
		b.run(m, batch, size, &x, &y)
	}
}

// run runs one batch of jobs holding size samples on m and answers each.
func (b *batcher) run(m Model, batch []*job, size int, x, y *[]float32) {
	in, out := m.InputSize(), m.OutputSize()
	*x = (*x)[:0]
	start := time.Now()
	for _, j := range batch {
		*x = append(*x, j.x...)
		b.m.queued.Dec()
		b.m.queueSeconds.Observe(start.Sub(j.queued).Seconds())
	}
	if cap(*y) < size*out {
		*y = make([]float32, size*out)
	}
	*y = (*y)[:size*out]
	err := m.Run(*y, (*x)[:size*in], size)
	compute := time.Since(start)
	b.m.computeSeconds.Observe(compute.Seconds())
	b.m.batchSamples.Observe(float64(size))
	off := 0
	for _, j := range batch {
		r := result{err: err, queue: start.Sub(j.queued), compute: compute, batch: size}
		if err == nil {
			// Each job gets its own copy: y is reused by the next batch.
			r.y = append([]float32(nil), (*y)[off*out:(off+j.n)*out]...)
		}
		j.done <- r
		off += j.n
	}
}

// drain answers every queued job with errClosed.
func (b *batcher) drain() {
	for {
		select {
		case j := <-b.jobs:
			b.m.queued.Dec()
			j.done <- result{err: errClosed}
		default:
			return
		}
	}
}
