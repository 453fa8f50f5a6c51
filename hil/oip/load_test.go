package oip

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestLoad puts loads on a server of a 2 ms model and checks what they
// count: within their bounds, every request ended is answered or failed
// with a reason, and overload shows as 503s, not as waiting.
func TestLoad(t *testing.T) {
	cases := []struct {
		name     string
		queue    int
		load     Load
		maxSent  int64
		want503s bool
	}{
		{"light", 0, Load{Clients: 2, Duration: 200 * time.Millisecond, Timeout: time.Second}, 0, false},
		{"bounded count", 0, Load{Clients: 4, Duration: 5 * time.Second, Requests: 20, Timeout: time.Second}, 20, false},
		{"overload", 1, Load{Clients: 16, Duration: 300 * time.Millisecond, Timeout: time.Second}, 0, true},
		{"overload backing off", 1, Load{Clients: 16, Duration: 300 * time.Millisecond, Timeout: time.Second, Backoff: true}, 0, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig
			cfg.MaxQueue = tc.queue
			s := newTestServer(t, &sumModel{delay: 2 * time.Millisecond}, cfg)
			ts := httptest.NewServer(s)
			defer ts.Close()
			tr := ts.Client().Transport.(*http.Transport).Clone()
			tr.MaxIdleConnsPerHost = tc.load.Clients
			c, err := NewClient(context.Background(), ts.URL, "sum", &http.Client{Transport: tr})
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			res, err := tc.load.Run(context.Background(), c)
			if err != nil {
				t.Fatal(err)
			}
			var failed int64
			for _, n := range res.Errors {
				failed += n
			}
			if res.OK == 0 || res.Sent != res.OK+failed || res.Goodput <= 0 || res.Latency.Len() != res.OK {
				t.Errorf("%+v", res)
			}
			if tc.maxSent > 0 && res.Sent > tc.maxSent {
				t.Errorf("%d sent, over the bound of %d", res.Sent, tc.maxSent)
			}
			if took := time.Since(start); took > tc.load.Duration+tc.load.Timeout+time.Second {
				t.Errorf("the load took %v, for %v", took, tc.load.Duration)
			}
			if got := res.Errors["http_503"] > 0; got != tc.want503s || (!tc.want503s && failed > 0) {
				t.Errorf("errors %v", res.Errors)
			}
			if tc.load.Backoff && res.Errors["http_503"] > int64(tc.load.Clients) {
				t.Errorf("%d 503s to %d clients that back off for a second", res.Errors["http_503"], tc.load.Clients)
			}
		})
	}
}
