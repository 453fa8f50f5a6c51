package oip

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tandem-edge/tandem/deploy"
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

// job is a request's samples, or a batch's worth of them, waiting for a
// batch.
type job struct {
	ctx    context.Context // the request's: done when its client has gone or its time is up
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

var (
	// errClosed answers requests that arrive while the server shuts down.
	errClosed = errors.New("the server is shutting down")
	// errFull answers requests that find the queue full.
	errFull = errors.New("the queue is full")
)

// batcher runs models on batches of queued jobs. Each model is a server of
// its own with one goroutine: it takes the oldest job and closes the batch
// by the simulator's rule (deploy.Batching): at once when maxBatch samples
// are queued, else when maxWait has passed since the oldest job was queued,
// not since the server got to it. No model is run by two goroutines, so
// models need no locking.
//
// The queue is bounded in samples: a request is refused (errFull) when
// maxQueue samples wait already. A request of more than maxBatch samples
// joins the queue one batch's worth at a time, each part at the back when
// the one before is answered, so that it delays the requests that arrive
// meanwhile by one batch at most. A job whose context is done when its
// batch is made is dropped, not run: its client has stopped waiting.
type batcher struct {
	maxBatch int
	maxQueue int
	rule     deploy.Batching
	epoch    time.Time // the origin of the rule's times
	in, out  int       // values a sample
	jobs     chan *job
	stop     chan struct{}
	loops    sync.WaitGroup
	m        *metrics
	samples  atomic.Int64 // queued and not yet taken by a loop

	mu        sync.RWMutex // held to send on jobs; Lock marks closed
	closed    bool
	closeOnce sync.Once
}

func newBatcher(models []Model, maxBatch, maxQueue int, maxWait time.Duration, met *metrics) *batcher {
	b := &batcher{maxBatch: max(maxBatch, 1), maxQueue: maxQueue,
		rule: deploy.Batching{MaxBatch: max(maxBatch, 1), MaxWait: maxWait}, epoch: time.Now(),
		in: models[0].InputSize(), out: models[0].OutputSize(),
		// Room for every job a bound of a usual size admits, and parts of
		// split requests besides; a send past that waits for room or its
		// context.
		jobs: make(chan *job, min(maxQueue, 1<<16)+1024), stop: make(chan struct{}), m: met}
	for _, m := range models {
		b.loops.Go(func() { b.loop(m) })
	}
	return b
}

// full reports whether the queue holds its bound of samples, so that a
// server can refuse a request before reading its body.
func (b *batcher) full() bool { return b.samples.Load() >= int64(b.maxQueue) }

// queuedSamples is how many samples wait for a batch.
func (b *batcher) queuedSamples() int64 { return b.samples.Load() }

// submit queues the n samples of x and waits for their result, or for ctx
// to be done (the result's err is then ctx's). It returns errFull at once
// when the queue is full, errClosed when the batcher is closed.
func (b *batcher) submit(ctx context.Context, x []float32, n int) result {
	var res result
	for off := 0; off < n; off += b.maxBatch {
		k := min(b.maxBatch, n-off)
		j := &job{ctx: ctx, x: x[off*b.in : (off+k)*b.in], n: k, queued: time.Now(), done: make(chan result, 1)}
		// Only a request's first part may be refused: the rest is owed.
		if err := b.enqueue(j, off == 0); err != nil {
			return result{err: err}
		}
		var r result
		select {
		case r = <-j.done:
		case <-ctx.Done():
			return result{err: ctx.Err()}
		}
		if r.err != nil {
			return r
		}
		if res.y == nil {
			res.y = make([]float32, 0, n*b.out)
		}
		res.y = append(res.y, r.y...)
		res.queue += r.queue
		res.compute += r.compute
		res.batch = max(res.batch, r.batch)
	}
	return res
}

func (b *batcher) enqueue(j *job, bounded bool) error {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.closed {
		return errClosed
	}
	// A request is admitted while fewer than maxQueue samples wait, so
	// the queue holds at most maxQueue samples and one request besides.
	if before := b.samples.Add(int64(j.n)) - int64(j.n); bounded && before >= int64(b.maxQueue) {
		b.samples.Add(-int64(j.n))
		return errFull
	}
	b.m.queued.Inc()
	select {
	case b.jobs <- j:
		return nil
	case <-j.ctx.Done():
		b.samples.Add(-int64(j.n))
		b.m.queued.Dec()
		return j.ctx.Err()
	}
}

// close stops taking jobs, answers those still queued with errClosed and
// waits for the running batches to finish. Calls after the first wait for
// nothing.
func (b *batcher) close() {
	b.closeOnce.Do(func() {
		b.mu.Lock()
		b.closed = true
		b.mu.Unlock()
		// No job is sent from here on. What is queued is answered now, not
		// after the batches that run; the loops take the rest.
		close(b.stop)
		b.drain()
		b.loops.Wait()
		b.drain()
	})
}

// take is a job leaving the queue.
func (b *batcher) take(j *job) {
	b.samples.Add(-int64(j.n))
	b.m.queued.Dec()
}

func (b *batcher) loop(m Model) {
	var batch []*job
	x := make([]float32, 0, b.maxBatch*b.in)
	y := make([]float32, b.maxBatch*b.out)
	var next *job // too big to join the batch before it: the next batch's first
	for {
		first := next
		next = nil
		if first == nil {
			select {
			case first = <-b.jobs:
			case <-b.stop:
				return
			}
			b.take(first)
		}
		if b.dropped(first) {
			continue
		}
		batch = append(batch[:0], first)
		size := first.n
		oldest := first.queued.Sub(b.epoch)
	fill:
		for size < b.maxBatch {
			var j *job
			select {
			case j = <-b.jobs: // queued already: the rule counts it
			default:
				n, until := b.rule.Take(size, oldest, time.Since(b.epoch))
				if n > 0 {
					break fill
				}
				timer := time.NewTimer(until - time.Since(b.epoch))
				select {
				case j = <-b.jobs:
					timer.Stop()
				case <-timer.C:
					break fill
				}
			}
			b.take(j)
			if b.dropped(j) {
				continue
			}
			if size+j.n > b.maxBatch {
				next = j
				break
			}
			batch = append(batch, j)
			size += j.n
		}
		b.run(m, batch, x, y)
	}
}

// dropped answers a job whose client has stopped waiting, and reports
// whether it did.
func (b *batcher) dropped(j *job) bool {
	err := j.ctx.Err()
	if err == nil {
		return false
	}
	reason := "cancelled"
	if errors.Is(err, context.DeadlineExceeded) {
		reason = "deadline"
	}
	b.m.dropped.WithLabelValues(reason).Inc()
	j.done <- result{err: err}
	return true
}

// run runs one batch of jobs on m and answers each, leaving out the jobs
// whose clients stopped waiting while the batch filled. x and y have room
// for maxBatch samples.
func (b *batcher) run(m Model, batch []*job, x, y []float32) {
	live := batch[:0]
	for _, j := range batch {
		if !b.dropped(j) {
			live = append(live, j)
		}
	}
	if len(live) == 0 {
		return
	}
	x, size := x[:0], 0
	start := time.Now()
	for _, j := range live {
		x = append(x, j.x...)
		size += j.n
		b.m.queueSeconds.Observe(start.Sub(j.queued).Seconds())
	}
	y = y[:size*b.out]
	err := m.Run(y, x, size)
	compute := time.Since(start)
	b.m.computeSeconds.Observe(compute.Seconds())
	b.m.batchSamples.Observe(float64(size))
	off := 0
	for _, j := range live {
		r := result{err: err, queue: start.Sub(j.queued), compute: compute, batch: size}
		if err == nil {
			// Each job gets its own copy: y is reused by the next batch.
			r.y = append([]float32(nil), y[off*b.out:(off+j.n)*b.out]...)
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
			b.take(j)
			j.done <- result{err: errClosed}
		default:
			return
		}
	}
}
