package oip

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestBearerAuth(t *testing.T) {
	s := newTestServer(t, &sumModel{}, testConfig)
	cases := []struct {
		name, method, path, auth string
		protectMetrics           bool
		code                     int
		want                     string
	}{
		{"no token", "POST", "/v2/models/sum/infer", "", false, 401, "wants a bearer token"},
		{"basic auth", "GET", "/v2/models/sum", "Basic dXNlcjpwYXNz", false, 401, "wants a bearer token"},
		{"wrong token", "POST", "/v2/models/sum/infer", "Bearer s3cret-not", false, 403, "not this server's"},
		{"prefix of the token", "GET", "/v2", "Bearer s3cre", false, 403, "not this server's"},
		{"right token", "POST", "/v2/models/sum/infer", "Bearer s3cret", false, 200, `"data":[10,20,30]`},
		{"metadata", "GET", "/v2/models/sum", "Bearer s3cret", false, 200, `"name":"sum"`},
		{"liveness open", "GET", "/v2/health/live", "", false, 200, ""},
		{"readiness open", "GET", "/v2/health/ready", "", false, 200, ""},
		{"metrics open", "GET", "/metrics", "", false, 200, "tandem_server_"},
		{"metrics protected", "GET", "/metrics", "", true, 401, "wants a bearer token"},
		{"metrics with token", "GET", "/metrics", "Bearer s3cret", true, 200, "tandem_server_"},
		{"unknown path", "GET", "/v2/repository", "", false, 401, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := BearerAuth(s, "s3cret", tc.protectMetrics)
			var body *strings.Reader
			if tc.method == "POST" {
				body = strings.NewReader(oneSample)
			} else {
				body = strings.NewReader("")
			}
			req := httptest.NewRequest(tc.method, tc.path, body)
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tc.code || !strings.Contains(rec.Body.String(), tc.want) {
				t.Errorf("%d %.200s; want %d and %q", rec.Code, rec.Body, tc.code, tc.want)
			}
			if (rec.Code == 401) != (rec.Header().Get("WWW-Authenticate") != "") {
				t.Errorf("%d with WWW-Authenticate %q", rec.Code, rec.Header().Get("WWW-Authenticate"))
			}
		})
	}
}

func TestClientSendsToken(t *testing.T) {
	s := newTestServer(t, &sumModel{}, testConfig)
	ts := httptest.NewServer(BearerAuth(s, "tok", false))
	defer ts.Close()
	if _, err := NewClient(context.Background(), ts.URL, "sum", ts.Client()); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("NewClient without the token: %v", err)
	}
	c, err := NewClientToken(context.Background(), ts.URL, "sum", ts.Client(), "tok")
	if err != nil {
		t.Fatal(err)
	}
	if y, err := c.Infer(context.Background(), []float32{1, 1, 1, 1}, 1); err != nil || y[0] != 4 {
		t.Errorf("Infer with the token: %v %v", y, err)
	}
}

// TestLimitListener holds the only connection a listener allows open and
// checks that a second is answered 503 at once, and that one after the
// first has closed is served.
func TestLimitListener(t *testing.T) {
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := LimitListener(raw, 1)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {})}
	go srv.Serve(ln)
	defer srv.Close()
	get := func(c net.Conn) (*http.Response, error) {
		if _, err := c.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
			return nil, err
		}
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		return resp, err
	}
	dial := func() net.Conn {
		c, err := net.Dial("tcp", raw.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	first := dial()
	if resp, err := get(first); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("the first connection: %v %v", resp, err)
	}
	second := dial()
	defer second.Close()
	start := time.Now()
	resp, err := get(second)
	if err != nil || resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" || time.Since(start) > time.Second {
		t.Fatalf("a second connection while the first is open: %v %v after %v", resp, err, time.Since(start))
	}
	first.Close()
	// The listener learns of the close when the server's read sees it.
	for end := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		third := dial()
		resp, err := get(third)
		third.Close()
		if err == nil && resp.StatusCode == http.StatusOK {
			break
		}
		if time.Now().After(end) {
			t.Fatalf("a connection after the first closed: %v %v", resp, err)
		}
	}
}
