package oip

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tandem-edge/tandem/deploy"
)

// Load is a closed-loop load on one model: Clients clients, each sending a
// request of Samples samples, waiting for its answer (or for Timeout, when
// it gives up), and sending the next, until Duration has passed or
// Requests requests have been sent; the requests in flight then are waited
// for, so that no client gives up on one only because the load ended. It
// is bounded in time (Duration + Timeout) and in requests.
type Load struct {
	Clients  int
	Samples  int           // a request's samples; 0: 1
	Timeout  time.Duration // a client gives up on a request after this; required
	Duration time.Duration // required
	Requests int           // the most requests in all; 0: as many as Duration allows
	// Backoff is honoured after a 503: a client waits what the server's
	// Retry-After says (at most until the load ends), as well-behaved
	// clients do, instead of retrying at once.
	Backoff bool
	// Input is one sample's values; nil: zeros.
	Input []float32
}

// LoadResult is what a load measured.
type LoadResult struct {
	Sent, OK int64
	// Errors counts the failed requests by deploy.Failure name (http_503,
	// timeout, refused, connection...).
	Errors   map[string]int64
	Seconds  float64          // the load's wall time
	Goodput  float64          // answered requests a second
	Latency  deploy.Quantiles // of answered requests
	Clients  int
	Requests int64 // the bound that was set, 0 for none
}

// Run puts the load on the model through c (whose HTTP client should keep
// a connection per client) and reports what came of it.
func (l Load) Run(ctx context.Context, c *Client) (*LoadResult, error) {
	if l.Clients < 1 || l.Duration <= 0 || l.Timeout <= 0 {
		return nil, errors.New("oip: a load needs a client, a duration and a timeout")
	}
	n := max(l.Samples, 1)
	x := make([]float32, n*c.SampleSize())
	if l.Input != nil {
		for i := range n {
			copy(x[i*c.SampleSize():], l.Input)
		}
	}
	sending, stop := context.WithTimeout(ctx, l.Duration)
	defer stop()
	res := &LoadResult{Errors: map[string]int64{}, Clients: l.Clients, Requests: int64(l.Requests)}
	var mu sync.Mutex // guards res
	var sent atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range l.Clients {
		wg.Go(func() {
			for sending.Err() == nil {
				if l.Requests > 0 && sent.Add(1) > int64(l.Requests) {
					return
				} else if l.Requests == 0 {
					sent.Add(1)
				}
				rctx, rcancel := context.WithTimeout(ctx, l.Timeout)
				t := time.Now()
				_, err := c.InferAnswer(rctx, x, n)
				took := time.Since(t)
				rcancel()
				if err != nil && ctx.Err() != nil {
					return // the caller stopped the load: neither an answer nor a failure
				}
				mu.Lock()
				if err == nil {
					res.OK++
					res.Latency.Add(took)
				} else {
					res.Errors[Classify(err).String()]++
				}
				mu.Unlock()
				var se *StatusError
				if l.Backoff && errors.As(err, &se) && se.Code == 503 {
					wait := time.Second
					if s, perr := strconv.Atoi(se.RetryAfter); perr == nil && s >= 0 {
						wait = time.Duration(s) * time.Second
					}
					timer := time.NewTimer(wait)
					select {
					case <-timer.C:
					case <-sending.Done():
						timer.Stop()
					}
				}
			}
		})
	}
	wg.Wait()
	res.Seconds = time.Since(start).Seconds()
	res.Sent = res.OK
	for _, e := range res.Errors {
		res.Sent += e
	}
	res.Goodput = float64(res.OK) / res.Seconds
	return res, nil
}
