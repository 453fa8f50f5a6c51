package profiles

import (
	"math"
	"strings"
	"testing"
	"time"
)

// FuzzTrace checks that parsing never panics, that errors are one line
// naming the file, and that an accepted trace answers TransferEnd sanely:
// never before the start, later for more bytes, and exactly one period later
// for a start one period later.
func FuzzTrace(f *testing.F) {
	for _, s := range []string{
		"1\n", "0\n0\n5\n5\n5\n10\n", "1\n1000\n", "0\n",
		"seconds,mbps\n0,8\n1,0\n2,16\n", "0,1\n", "10, 8\n11, 16\n", "0,0.001\n1e-9,1e5\n",
	} {
		f.Add([]byte(s), int64(0), uint32(1500))
	}
	f.Fuzz(func(t *testing.T, b []byte, start int64, n uint32) {
		tr, err := ParseTrace("fuzz.trace", b)
		if err != nil {
			if msg := err.Error(); strings.ContainsAny(msg, "\r\n") || !strings.HasPrefix(msg, "fuzz.trace") {
				t.Fatalf("error %q is not one line naming the file", msg)
			}
			return
		}
		if m := tr.MeanMbps(); !(m > 0) || math.IsInf(m, 0) || tr.Period() <= 0 {
			t.Fatalf("mean %g Mbit/s, period %v", m, tr.Period())
		}
		at := time.Duration(start) % (1000 * time.Hour)
		if at < 0 {
			at = -at
		}
		bytes := int(n % (1 << 24))
		end := tr.TransferEnd(at, bytes)
		if end < at || (bytes == 0 && end != at) {
			t.Fatalf("TransferEnd(%v, %d) = %v", at, bytes, end)
		}
		if more := tr.TransferEnd(at, bytes+1); more < end {
			t.Fatalf("TransferEnd(%v, %d) = %v, but %v for one byte more", at, bytes, end, more)
		}
		if later := tr.TransferEnd(at+tr.Period(), bytes); bytes > 0 && later-end != tr.Period() {
			t.Fatalf("TransferEnd(%v, %d) = %v, a period (%v) later %v", at, bytes, end, tr.Period(), later)
		}
	})
}
