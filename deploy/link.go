package deploy

import (
	"fmt"
	"time"

	"github.com/tandem-edge/tandem/profiles"
)

// Link is one direction of one device's link: transfers cross it one at a
// time in the order they join, and each is delivered half a round trip
// after its last byte leaves.
//
// A transfer's time on the link depends only on when it starts, so its
// start and end are known the moment it joins (the Lindley recursion):
//
//	start     = max(joined, end of the transfer before it)
//	end       = profile.TransferEnd(start, bytes)
//	delivered = end + RTT/2
//
// and a driver needs no queue for the link: the simulator schedules one
// event at the delivery, a wall-clock driver sleeps until it.
type Link struct {
	profile   profiles.Link
	half      time.Duration // one-way propagation delay
	freeAt    time.Duration // when the last transfer that joined ends
	busy      time.Duration // total time on the wire
	transfers int64
}

// NewLink returns the link of profile p with round-trip time rtt.
func NewLink(p profiles.Link, rtt time.Duration) Link {
	return Link{profile: p, half: rtt / 2}
}

// Transfer is when one transfer started, ended and was delivered.
type Transfer struct {
	Start, End, Delivered time.Duration
}

// OnWire is the time the transfer held the link, not counting its wait for
// the transfers before it.
func (t Transfer) OnWire() time.Duration { return t.End - t.Start }

// Send queues a transfer of n bytes that joins the link at joined, which
// must not be before an earlier call's joined.
func (l *Link) Send(joined time.Duration, n int) (Transfer, error) {
	start := max(joined, l.freeAt)
	end := l.profile.TransferEnd(start, n)
	if end < start {
		return Transfer{}, fmt.Errorf("deploy: link %q ended a %d-byte transfer at %v, before it started at %v", l.profile.Name(), n, end, start)
	}
	l.freeAt = end
	l.busy += end - start
	l.transfers++
	return Transfer{Start: start, End: end, Delivered: end + l.half}, nil
}

// Backlog is how long after now the link stays busy with the transfers
// that have joined it: what a transfer joining now waits before it starts.
func (l *Link) Backlog(now time.Duration) time.Duration { return max(l.freeAt-now, 0) }

// Busy is the link's total time on the wire so far.
func (l *Link) Busy() time.Duration { return l.busy }

// Transfers is how many transfers have joined the link.
func (l *Link) Transfers() int64 { return l.transfers }

// Half is the link's one-way propagation delay, half its round trip.
func (l *Link) Half() time.Duration { return l.half }

// Profile is the link's capacity profile.
func (l *Link) Profile() profiles.Link { return l.profile }
