package profiles

import (
	"testing"
	"time"
)

func TestShift(t *testing.T) {
	tr := mustTrace(t, "steps", "seconds,mbps\n0,8\n1,2\n2,2\n3,4\n") // 8, 2, 2, 4 Mbit/s a second each: period 4s
	cases := []struct {
		name   string
		by     time.Duration
		offset time.Duration // the offset Shift keeps, within one period; 0: tr itself
	}{
		{"zero", 0, 0},
		{"inside the period", 1500 * ms, 1500 * ms},
		{"a whole period", 4 * time.Second, 0},
		{"past one period", 9 * time.Second, time.Second},
		{"negative", -500 * ms, 3500 * ms},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := Shift(tr, tc.by)
			if tc.offset == 0 {
				if l != Link(tr) {
					t.Fatalf("Shift(%v) = %s, want the trace itself", tc.by, l.Name())
				}
				return
			}
			if got := l.(interface{ Offset() time.Duration }).Offset(); got != tc.offset {
				t.Errorf("offset %v, want %v", got, tc.offset)
			}
			if l.MeanMbps() != tr.MeanMbps() {
				t.Errorf("mean %g Mbps, want the trace's %g", l.MeanMbps(), tr.MeanMbps())
			}
			for _, start := range []time.Duration{0, 250 * ms, 2 * time.Second, 11 * time.Second} {
				for _, n := range []int{0, 1, 1000, 2_000_000} {
					want := tr.TransferEnd(start+tc.offset, n) - tc.offset
					if got := l.TransferEnd(start, n); got != want {
						t.Errorf("TransferEnd(%v, %d) = %v, want %v", start, n, got, want)
					}
				}
			}
		})
	}
	// The capacity at run time 0 is the trace's at the offset: 1 Mbit takes
	// 125 ms at 8 Mbit/s, 500 ms at 2.
	if got := Shift(tr, 1500*ms).TransferEnd(0, 125_000); got != 500*ms {
		t.Errorf("1 Mbit from 1.5s into the trace took %v, want 500ms", got)
	}
	c := Constant(10)
	if Shift(c, time.Second) != c {
		t.Error("a constant link shifted is not itself")
	}
}
