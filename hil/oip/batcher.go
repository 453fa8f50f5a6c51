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
	y   []float32
	err error
}

// errClosed answers requests that arrive while the server shuts down.
var errClosed = errors.New("the server is shutting down")

// batcher runs the model on batches of queued jobs: it takes the oldest job,
// adds jobs that arrive until the batch holds maxBatch samples or maxWait
// has passed since it started to fill, and runs them together. A job larger
// than maxBatch runs alone. One goroutine runs the model, so the model
// needs no locking.
type batcher struct {
	model    Model
	maxBatch int
	maxWait  time.Duration
	jobs     chan *job
	stop     chan struct{}
	stopped  chan struct{}
	m        *metrics

	mu     sync.RWMutex // held to send on jobs; Lock marks closed
	closed bool
}

func newBatcher(m Model, maxBatch int, maxWait time.Duration, met *metrics) *batcher {
	b := &batcher{model: m, maxBatch: max(maxBatch, 1), maxWait: maxWait,
		jobs: make(chan *job, 1024), stop: make(chan struct{}), stopped: make(chan struct{}), m: met}
	go b.loop()
	return b
}

// submit queues a job and waits for its result.
func (b *batcher) submit(x []float32, n int) ([]float32, error) {
	j := &job{x: x, n: n, queued: time.Now(), done: make(chan result, 1)}
	b.mu.RLock()
	if b.closed {
		b.mu.RUnlock()
		return nil, errClosed
	}
	b.m.queued.Inc()
	b.jobs <- j
	b.mu.RUnlock()
	r := <-j.done
	return r.y, r.err
}

// close stops taking jobs, answers those still queued with errClosed and
// waits for the running batch to finish.
func (b *batcher) close() {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	// No job is sent from here on: the loop drains what was.
	close(b.stop)
	<-b.stopped
}

func (b *batcher) loop() {
	defer close(b.stopped)
	var batch []*job
	var x, y []float32
	for {
		var first *job
		select {
		case first = <-b.jobs:
		case <-b.stop:
			b.drain()
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
						b.run(batch, size, &x, &y)
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
		b.run(batch, size, &x, &y)
	}
}

// run runs one batch of jobs holding size samples and answers each.
func (b *batcher) run(batch []*job, size int, x, y *[]float32) {
	in, out := b.model.InputSize(), b.model.OutputSize()
	*x = (*x)[:0]
	for _, j := range batch {
		*x = append(*x, j.x...)
		b.m.queued.Dec()
		b.m.queueSeconds.Observe(time.Since(j.queued).Seconds())
	}
	if cap(*y) < size*out {
		*y = make([]float32, size*out)
	}
	*y = (*y)[:size*out]
	start := time.Now()
	err := b.model.Run(*y, (*x)[:size*in], size)
	b.m.computeSeconds.Observe(time.Since(start).Seconds())
	b.m.batchSamples.Observe(float64(size))
	off := 0
	for _, j := range batch {
		if err != nil {
			j.done <- result{err: err}
			continue
		}
		// Each job gets its own copy: y is reused by the next batch.
		j.done <- result{y: append([]float32(nil), (*y)[off*out:(off+j.n)*out]...)}
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
