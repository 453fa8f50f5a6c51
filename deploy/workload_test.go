package deploy

import (
	"testing"
	"time"
)

func TestTraceArrivalsRejects(t *testing.T) {
	for _, offs := range [][]time.Duration{nil, {time.Second}, {2, 1}, {-1, 5}, {3, 3, 3}} {
		if _, _, err := traceArrivals(offs); err == nil {
			t.Errorf("traceArrivals(%v) accepted", offs)
		}
	}
}
