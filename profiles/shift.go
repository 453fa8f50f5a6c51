package profiles

import (
	"time"
)

// Periodic is a link whose capacity repeats with a period, such as a Trace.
type Periodic interface {
	Link
	Period() time.Duration
}

// Shift returns link l started at offset by into its own time line: a
// transfer at run time t sees the capacity l has at t+by. A periodic link's
// offset is taken modulo its period; a link whose capacity does not vary
// with time is returned as it is, as is any link when by is 0.
func Shift(l Link, by time.Duration) Link {
	p, ok := l.(Periodic)
	if !ok {
		return l
	}
	if period := p.Period(); period > 0 {
		by %= period
		if by < 0 {
			by += period
		}
	}
	if by == 0 {
		return l
	}
	return &shifted{Periodic: p, by: by}
}

type shifted struct {
	Periodic
	by time.Duration
}

func (s *shifted) Name() string { return s.Periodic.Name() + " from " + s.by.String() }

// Offset is how far into the underlying link's time line this link starts.
func (s *shifted) Offset() time.Duration { return s.by }

func (s *shifted) TransferEnd(t time.Duration, n int) time.Duration {
	return s.Periodic.TransferEnd(t+s.by, n) - s.by
}
