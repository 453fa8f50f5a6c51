package sim

import (
	"fmt"
	"time"

	"github.com/tandem-edge/tandem/profiles"
)

// fifoLink is one direction of one device's link: transfers cross it one at
// a time in the order they join it, and each arrives half a round trip after
// its last byte leaves.
//
// A transfer's time on the link depends only on when it starts, so its start
// and end are known the moment it joins (the Lindley recursion):
//
//	start     = max(joined, end of the transfer before it)
//	end       = Link.TransferEnd(start, bytes)
//	delivered = end + RTT/2
//
// and the link needs no queue and no event of its own: the delivery is the
// one event a transfer costs.
type fifoLink struct {
	link      profiles.Link
	half      time.Duration // one-way propagation delay
	freeAt    time.Duration // when the last queued transfer ends
	busy      time.Duration // total transfer time
	transfers int64
}

// send queues a transfer of n bytes that joins the link at now and returns
// when it is delivered.
func (l *fifoLink) send(now time.Duration, n int) (time.Duration, error) {
	start := max(now, l.freeAt)
	end := l.link.TransferEnd(start, n)
	if end < start {
		return 0, fmt.Errorf("sim: link %q ended a %d-byte transfer at %v, before it started at %v", l.link.Name(), n, end, start)
	}
	l.freeAt = end
	l.busy += end - start
	l.transfers++
	return end + l.half, nil
}
