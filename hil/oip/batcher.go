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

// lane is one model's queue.
type lane struct {
	in, out int      // values a sample; fixed
	m       *metrics // fixed
	jobs    []*job   // in arrival order; under batcher.mu
	samples int      // in jobs; under batcher.mu
}

// batcher runs a pool of servers on batches of queued jobs. Every server
// holds a copy of every model and is a goroutine of its own; each model has
// its FIFO queue (a lane). A batch is of one model and closes by the
// simulator's rule (deploy.Batching): at once when maxBatch samples of the
// model are queued, else when maxWait has passed since the oldest of them
// was queued, not since a server got to it. A free server takes the ready
// batch whose oldest job came first, as the simulator's cloud does, so that
// an idle pool waits for one window and then runs everything queued in it
// as one batch. No model copy is run by two goroutines, so models need no
// locking.
//
// The queue is bounded in samples over the models: a request is refused
// (errFull) when maxQueue samples wait already. A request of more than
// maxBatch samples joins its lane one batch's worth at a time, each part at
// the back when the one before is answered, so that it delays the requests
// that arrive meanwhile by one batch at most. A job whose context is done
// when its batch is made is dropped, not run: its client has stopped
// waiting.
type batcher struct {
	maxBatch int
	maxQueue int
	rule     deploy.Batching
	epoch    time.Time // the origin of the rule's times
	stop     chan struct{}
	loops    sync.WaitGroup
	samples  atomic.Int64 // queued and not yet taken, over the lanes

	mu        sync.Mutex // guards the lanes' queues and what follows
	lanes     []lane
	changed   chan struct{} // closed, and replaced, when a job is queued
	closed    bool
	closeOnce sync.Once
}

// newBatcher starts a server for each of servers: servers[s][k] is server
// s's copy of model k, and met[k] model k's metrics.
func newBatcher(servers [][]Model, maxBatch, maxQueue int, maxWait time.Duration, met []*metrics) *batcher {
	b := &batcher{maxBatch: max(maxBatch, 1), maxQueue: maxQueue,
		rule: deploy.Batching{MaxBatch: max(maxBatch, 1), MaxWait: maxWait}, epoch: time.Now(),
		stop: make(chan struct{}), changed: make(chan struct{})}
	b.lanes = make([]lane, len(met))
	for k := range b.lanes {
		b.lanes[k] = lane{in: servers[0][k].InputSize(), out: servers[0][k].OutputSize(), m: met[k]}
	}
	for _, models := range servers {
		b.loops.Go(func() { b.loop(models) })
	}
	return b
}

// full reports whether the queue holds its bound of samples, so that a
// server can refuse a request before reading its body.
func (b *batcher) full() bool { return b.samples.Load() >= int64(b.maxQueue) }

// queuedSamples is how many samples wait for a batch, over the models.
func (b *batcher) queuedSamples() int64 { return b.samples.Load() }

// submit queues the n samples of x for model k and waits for their result,
// or for ctx to be done (the result's err is then ctx's). It returns
// errFull at once when the queue is full, errClosed when the batcher is
// closed.
func (b *batcher) submit(ctx context.Context, k int, x []float32, n int) result {
	in, out := b.lanes[k].in, b.lanes[k].out
	var res result
	for off := 0; off < n; off += b.maxBatch {
		size := min(b.maxBatch, n-off)
		j := &job{ctx: ctx, x: x[off*in : (off+size)*in], n: size, queued: time.Now(), done: make(chan result, 1)}
		// Only a request's first part may be refused: the rest is owed.
		if err := b.enqueue(k, j, off == 0); err != nil {
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
			res.y = make([]float32, 0, n*out)
		}
		res.y = append(res.y, r.y...)
		res.queue += r.queue
		res.compute += r.compute
		res.batch = max(res.batch, r.batch)
	}
	return res
}

func (b *batcher) enqueue(k int, j *job, bounded bool) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return errClosed
	}
	// A request is admitted while fewer than maxQueue samples wait, so
	// the queue holds at most maxQueue samples and one request besides.
	if before := b.samples.Add(int64(j.n)) - int64(j.n); bounded && before >= int64(b.maxQueue) {
		b.samples.Add(-int64(j.n))
		return errFull
	}
	l := &b.lanes[k]
	l.jobs = append(l.jobs, j)
	l.samples += j.n
	l.m.queued.Inc()
	close(b.changed)
	b.changed = make(chan struct{})
	return nil
}

// close stops taking jobs, answers those still queued with errClosed and
// waits for the running batches to finish. Calls after the first wait for
// nothing.
func (b *batcher) close() {
	b.closeOnce.Do(func() {
		b.mu.Lock()
		b.closed = true
		// No job is queued from here on, and no server takes one: what is
		// queued is answered now, not after the batches that run.
		for k := range b.lanes {
			l := &b.lanes[k]
			for len(l.jobs) > 0 {
				j := b.pop(l)
				j.done <- result{err: errClosed}
			}
		}
		b.mu.Unlock()
		close(b.stop)
		b.loops.Wait()
	})
}

// pop takes the job at the front of l out of the queue. b.mu is held.
func (b *batcher) pop(l *lane) *job {
	j := l.jobs[0]
	l.jobs[0] = nil
	l.jobs = l.jobs[1:]
	l.samples -= j.n
	b.samples.Add(-int64(j.n))
	l.m.queued.Dec()
	return j
}

// loop is one server: models[k] is its copy of model k.
func (b *batcher) loop(models []Model) {
	xs, ys := make([][]float32, len(models)), make([][]float32, len(models))
	for k := range models {
		xs[k] = make([]float32, 0, b.maxBatch*b.lanes[k].in)
		ys[k] = make([]float32, b.maxBatch*b.lanes[k].out)
	}
	var batch []*job
	for {
		var k int
		var ok bool
		if k, batch, ok = b.next(batch[:0]); !ok {
			return
		}
		b.run(&b.lanes[k], models[k], batch, xs[k], ys[k])
	}
}

// next waits for a ready batch, appends its jobs to batch and returns it
// with its model; false when the batcher is closed.
func (b *batcher) next(batch []*job) (int, []*job, bool) {
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	b.mu.Lock()
	for {
		if b.closed {
			b.mu.Unlock()
			return 0, batch, false
		}
		k, wake, waiting := b.ready(time.Since(b.epoch))
		if k >= 0 {
			batch = b.take(&b.lanes[k], batch)
			if len(batch) > 0 {
				b.mu.Unlock()
				return k, batch, true
			}
			continue // every job of it had been given up on
		}
		changed := b.changed
		b.mu.Unlock()
		var fire <-chan time.Time
		if waiting {
			d := wake - time.Since(b.epoch)
			if timer == nil {
				timer = time.NewTimer(d)
			} else {
				timer.Reset(d)
			}
			fire = timer.C
		}
		select {
		case <-changed:
		case <-fire:
		case <-b.stop:
		}
		b.mu.Lock()
	}
}

// ready returns the lane whose batch a free server takes at now, or -1
// and, when jobs wait for their window, when the first window closes.
// b.mu is held.
func (b *batcher) ready(now time.Duration) (k int, wake time.Duration, waiting bool) {
	k = -1
	var oldest time.Duration
	for i := range b.lanes {
		l := &b.lanes[i]
		for len(l.jobs) > 0 && b.dropped(l, l.jobs[0]) {
			b.pop(l)
		}
		if len(l.jobs) == 0 {
			continue
		}
		head := l.jobs[0].queued.Sub(b.epoch)
		n, until := b.rule.Take(l.samples, head, now)
		switch {
		case n == 0:
			if !waiting || until < wake {
				waiting, wake = true, until
			}
		case k < 0 || head < oldest:
			k, oldest = i, head
		}
	}
	return k, wake, waiting
}

// take moves up to maxBatch samples' worth of l's jobs, in order, into
// batch, answering those given up on instead. b.mu is held.
func (b *batcher) take(l *lane, batch []*job) []*job {
	size := 0
	for len(l.jobs) > 0 {
		j := l.jobs[0]
		live := !b.dropped(l, j)
		if live && size+j.n > b.maxBatch {
			break
		}
		b.pop(l)
		if live {
			batch = append(batch, j)
			size += j.n
		}
	}
	return batch
}

// dropped answers a job whose client has stopped waiting, and reports
// whether it did. Its caller takes it out of the queue.
func (b *batcher) dropped(l *lane, j *job) bool {
	err := j.ctx.Err()
	if err == nil {
		return false
	}
	reason := "cancelled"
	if errors.Is(err, context.DeadlineExceeded) {
		reason = "deadline"
	}
	l.m.dropped.WithLabelValues(reason).Inc()
	j.done <- result{err: err}
	return true
}

// run runs one batch of l's jobs on m and answers each. x and y have room
// for maxBatch samples.
func (b *batcher) run(l *lane, m Model, batch []*job, x, y []float32) {
	x, size := x[:0], 0
	start := time.Now()
	for _, j := range batch {
		x = append(x, j.x...)
		size += j.n
		l.m.queueSeconds.Observe(start.Sub(j.queued).Seconds())
	}
	y = y[:size*l.out]
	err := m.Run(y, x, size)
	compute := time.Since(start)
	l.m.computeSeconds.Observe(compute.Seconds())
	l.m.batchSamples.Observe(float64(size))
	off := 0
	for _, j := range batch {
		r := result{err: err, queue: start.Sub(j.queued), compute: compute, batch: size}
		if err == nil {
			// Each job gets its own copy: y is reused by the next batch.
			r.y = append([]float32(nil), y[off*l.out:(off+j.n)*l.out]...)
		}
		j.done <- r
		off += j.n
	}
}
