package fleet

import (
	"context"
	"runtime"
	"sync"
	"time"

	"github.com/tandem-edge/tandem/deploy"
	"github.com/tandem-edge/tandem/profiles"
)

// shapedLink is one direction of one device's link, shaped in process: the
// simulator's link rule (deploy.Link) on the wall clock. A transfer's
// delivery time comes from the link profile exactly as the simulator
// computes it, and the sender waits for it.
type shapedLink struct {
	start time.Time       // the run's time zero
	ctx   context.Context // the run's: a cancelled run stops waiting
	spin  time.Duration   // the run's: see waitUntil

	mu   sync.Mutex
	link deploy.Link
}

func newShapedLink(p profiles.Link, rtt time.Duration) *shapedLink {
	return &shapedLink{link: deploy.NewLink(p, rtt)}
}

// send transfers n bytes joining the link now and returns once they are
// delivered.
func (l *shapedLink) send(n int) error {
	l.mu.Lock()
	tr, err := l.link.Send(time.Since(l.start), n)
	l.mu.Unlock()
	if err != nil {
		return err
	}
	waitUntil(l.ctx, l.start.Add(tr.Delivered), l.spin)
	return nil
}

// note adds a transfer of n bytes joining now to the link rule without
// waiting for it: the estimate of a link the kernel shapes.
func (l *shapedLink) note(n int) (deploy.Transfer, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.link.Send(time.Since(l.start), n)
}

func (l *shapedLink) busyTime() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.link.Busy()
}

// backlog is how long the link stays busy with the transfers queued on it.
func (l *shapedLink) backlog() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.link.Backlog(time.Since(l.start))
}

// meanMbps is the link profile's mean rate.
func (l *shapedLink) meanMbps() float64 { return l.link.Profile().MeanMbps() }

// waitUntil returns at t, at once when t has passed, or when ctx is done.
// Timers wake a few hundred microseconds late on a busy machine, which
// would add to every shaped transfer and every arrival: it sleeps to spin
// short of t, then yields until t.
func waitUntil(ctx context.Context, t time.Time, spin time.Duration) {
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
