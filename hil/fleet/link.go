package fleet

import (
	"context"
	"runtime"
	"sync"
	"time"

	"github.com/tandem-edge/tandem/profiles"
)

// shapedLink is one direction of one device's link, shaped in process: a
// transfer's delivery time comes from the link profile (a constant rate or
// the replayed capacity trace) exactly as the simulator computes it, and
// the sender waits for it. Transfers cross one at a time, in the order
// they join.
type shapedLink struct {
	link  profiles.Link
	half  time.Duration   // one-way propagation delay
	start time.Time       // the run's time zero
	ctx   context.Context // the run's: a cancelled run stops waiting

	mu     sync.Mutex
	freeAt time.Duration // when the last transfer ends, since start
	busy   time.Duration
}

// send transfers n bytes joining the link now and returns once they are
// delivered, with the time the transfer spent on the wire (not queued).
func (l *shapedLink) send(n int) (onWire time.Duration) {
	l.mu.Lock()
	joined := time.Since(l.start)
	begin := max(joined, l.freeAt)
	end := l.link.TransferEnd(begin, n)
	l.freeAt = end
	l.busy += end - begin
	l.mu.Unlock()
	waitUntil(l.ctx, l.start.Add(end+l.half))
	return end - begin
}

func (l *shapedLink) busyTime() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.busy
}

// waitUntil returns at t, at once when t has passed, or when ctx is done.
// Timers wake a few hundred microseconds late on a busy machine, which
// would add to every shaped transfer and every arrival: it sleeps to just
// short of t, then yields until t.
func waitUntil(ctx context.Context, t time.Time) {
	if d := time.Until(t) - spin; d > 0 {
		timer := time.NewTimer(d)
		select {
		case <-timer.C:
		case <-ctx.Done():
			timer.Stop()
			return
		}
	}
	for time.Now().Before(t) && ctx.Err() == nil {
		runtime.Gosched()
	}
}
