package deploy

import (
	"testing"
	"time"
)

func TestBatchingTake(t *testing.T) {
	ms := time.Millisecond
	for _, tc := range []struct {
		name      string
		b         Batching
		queued    int
		oldest    time.Duration
		now       time.Duration
		n         int
		wantUntil time.Duration
	}{
		{"nothing queued", Batching{MaxBatch: 8, MaxWait: 2 * ms}, 0, 0, 5 * ms, 0, 0},
		{"no batching", Batching{}, 3, 0, 0, 1, 0},
		{"no wait", Batching{MaxBatch: 8}, 3, 0, 0, 3, 0},
		{"a full batch at once", Batching{MaxBatch: 4, MaxWait: 2 * ms}, 9, 10 * ms, 10 * ms, 4, 0},
		{"the window is open", Batching{MaxBatch: 8, MaxWait: 2 * ms}, 3, 10 * ms, 11 * ms, 0, 12 * ms},
		{"the window closes at oldest+wait", Batching{MaxBatch: 8, MaxWait: 2 * ms}, 3, 10 * ms, 12 * ms, 3, 0},
		// The request waited behind busy servers past its window: it
		// is not held again when a server frees up.
		{"waited behind busy servers", Batching{MaxBatch: 8, MaxWait: 2 * ms}, 1, 10 * ms, 50 * ms, 1, 0},
	} {
		n, until := tc.b.Take(tc.queued, tc.oldest, tc.now)
		if n != tc.n || until != tc.wantUntil {
			t.Errorf("%s: Take(%d, %v, %v) = %d, %v; want %d, %v", tc.name, tc.queued, tc.oldest, tc.now, n, until, tc.n, tc.wantUntil)
		}
	}
}
