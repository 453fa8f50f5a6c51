package deploy

import (
	"testing"
	"time"

	"github.com/tandem-edge/tandem/profiles"
)

// TestLinkFIFO checks the Lindley recursion on a 1 Mbit/s link with a 20 ms
// round trip: 1250 bytes take 10 ms on the wire; a transfer that joins
// while another is on the wire starts when it ends.
func TestLinkFIFO(t *testing.T) {
	ms := time.Millisecond
	l := NewLink(profiles.Constant(1), 20*ms)
	for _, tc := range []struct {
		joined time.Duration
		want   Transfer
	}{
		{0, Transfer{Start: 0, End: 10 * ms, Delivered: 20 * ms}},
		{5 * ms, Transfer{Start: 10 * ms, End: 20 * ms, Delivered: 30 * ms}},
		{40 * ms, Transfer{Start: 40 * ms, End: 50 * ms, Delivered: 60 * ms}},
	} {
		got, err := l.Send(tc.joined, 1250)
		if err != nil || got != tc.want {
			t.Fatalf("Send(%v, 1250) = %+v, %v; want %+v", tc.joined, got, err, tc.want)
		}
		if got.OnWire() != 10*ms {
			t.Errorf("OnWire = %v, want 10ms", got.OnWire())
		}
	}
	if l.Busy() != 30*ms || l.Transfers() != 3 {
		t.Errorf("busy %v over %d transfers, want 30ms over 3", l.Busy(), l.Transfers())
	}
}
