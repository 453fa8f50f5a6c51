package oip_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/tandem-edge/tandem/hil"
	"github.com/tandem-edge/tandem/hil/oip"
)

// serve opens the ONNX model at path on one thread, serves it under name
// over loopback HTTP with the given batching, and returns a client of it.
// Everything is closed when the test ends.
func serve(tb testing.TB, path, name string, maxBatch int, maxWait time.Duration) *oip.Client {
	tb.Helper()
	sess, err := hil.Open(path, hil.Options{IntraOpThreads: 1})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { sess.Close() })
	cfg, err := oip.SessionConfig(sess, name)
	if err != nil {
		tb.Fatal(err)
	}
	cfg.MaxBatch, cfg.MaxWait = maxBatch, maxWait
	s, err := oip.NewServer(sess, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	ts := httptest.NewServer(s)
	// Cleanups run last first: the HTTP server, then the batcher, then the
	// session.
	tb.Cleanup(s.Close)
	tb.Cleanup(ts.Close)
	c, err := oip.NewClient(context.Background(), ts.URL, name, ts.Client())
	if err != nil {
		tb.Fatal(err)
	}
	return c
}
