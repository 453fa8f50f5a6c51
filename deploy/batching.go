package deploy

import "time"

// Batching is a cloud server pool's dynamic batching rule. An idle server
// takes up to MaxBatch queued requests as one batch. While fewer than
// MaxBatch are queued it waits for more, until MaxWait after the oldest
// queued request reached the cloud; then it takes what is there. MaxBatch
// 1 (or MaxWait 0) serves requests as they come.
//
// The window opens when the oldest request reached the cloud, not when a
// server became free to take it: a request that queued behind busy servers
// has already waited, and is not held again.
type Batching struct {
	MaxBatch int
	MaxWait  time.Duration
}

// Take is the rule applied by an idle server at now, with queued requests
// waiting (counted in samples) of which the oldest reached the cloud at
// oldest. It returns how many to take now; when that is 0 and requests
// wait, the server is to look again at until, or sooner if more arrive.
func (b Batching) Take(queued int, oldest, now time.Duration) (n int, until time.Duration) {
	size := max(b.MaxBatch, 1)
	if queued <= 0 {
		return 0, 0
	}
	if queued >= size || b.MaxWait <= 0 {
		return min(queued, size), 0
	}
	if deadline := oldest + b.MaxWait; now < deadline {
		return 0, deadline
	}
	return queued, 0
}
