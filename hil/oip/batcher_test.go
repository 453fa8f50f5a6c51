package oip

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// TestBatchWindowFromOldest checks the batcher follows the simulator's
// batching rule (deploy.Batching): a request that waited behind a busy
// server for longer than the batching window runs as soon as the server is
// free, instead of waiting a window again from when the server took it.
func TestBatchWindowFromOldest(t *testing.T) {
	const wait = 500 * time.Millisecond
	m := newGateModel()
	b := newBatcher([][]Model{{m}}, 8, 64, wait, []*metrics{newMetrics(prometheus.NewRegistry(), "sum")})
	defer b.close()
	x := make([]float32, m.InputSize())

	first := make(chan result, 1)
	go func() { first <- b.submit(context.Background(), 0, x, 1) }()
	// The first request has the server to itself after its window.
	select {
	case <-m.started:
	case <-time.After(10 * time.Second):
		t.Fatal("the first request never ran")
	}
	second := make(chan result, 1)
	go func() { second <- b.submit(context.Background(), 0, x, 1) }()
	time.Sleep(2 * wait) // the second request waits past its window
	m.gate <- struct{}{}
	if r := <-first; r.err != nil {
		t.Fatal(r.err)
	}
	m.gate <- struct{}{}
	r := <-second
	if r.err != nil {
		t.Fatal(r.err)
	}
	// Held again, it would have queued at least 2·wait + wait.
	if r.queue >= 2*wait+wait {
		t.Errorf("the second request queued %v: held for another batching window (%v) after waiting %v for the server", r.queue, wait, 2*wait)
	}
}
