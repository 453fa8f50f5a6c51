package oip

import (
	"bufio"
	"crypto/sha256"
	"crypto/subtle"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// BearerAuth wraps h so that a request must carry "Authorization: Bearer
// TOKEN": one without it is answered 401 with WWW-Authenticate, one with
// another token 403, as KServe's gateways answer. The health endpoints stay
// open so that probes need no secret, and /metrics too unless
// protectMetrics. Tokens are compared in constant time.
func BearerAuth(h http.Handler, token string, protectMetrics bool) http.Handler {
	want := sha256.Sum256([]byte(token))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		if strings.HasPrefix(p, "/v2/health/") || (p == "/metrics" && !protectMetrics) {
			h.ServeHTTP(w, r)
			return
		}
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="tandem"`)
			writeError(w, http.StatusUnauthorized, "this server wants a bearer token: Authorization: Bearer TOKEN")
			return
		}
		// Comparing hashes keeps the time independent of the token's
		// length too.
		if sum := sha256.Sum256([]byte(strings.TrimSpace(got))); subtle.ConstantTimeCompare(sum[:], want[:]) != 1 {
			writeError(w, http.StatusForbidden, "the bearer token is not this server's")
			return
		}
		h.ServeHTTP(w, r)
	})
}

// LimitListener returns a listener that holds at most n connections open
// at once. A connection past that is answered 503 with Retry-After and
// closed, at once, so that the excess hears it is shed instead of waiting
// unseen in the kernel's backlog; at most n/8+1 such answers are written
// at a time, and a connection past those is closed unanswered.
func LimitListener(ln net.Listener, n int) net.Listener {
	return &limitListener{Listener: ln, sem: make(chan struct{}, n), rejecting: make(chan struct{}, n/8+1)}
}

type limitListener struct {
	net.Listener
	sem       chan struct{} // a token per connection held open
	rejecting chan struct{} // a token per connection being answered 503
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		select {
		case l.sem <- struct{}{}:
			return &limitConn{Conn: c, release: func() { <-l.sem }}, nil
		default:
		}
		select {
		case l.rejecting <- struct{}{}:
			go func() {
				defer func() { <-l.rejecting }()
				rejectConn(c)
			}()
		default:
			c.Close()
		}
	}
}

// busyAnswer is what a connection past the cap is told.
const busyAnswer = "HTTP/1.1 503 Service Unavailable\r\nRetry-After: " + retryAfter +
	"\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: 46\r\n\r\n" +
	`{"error":"too many connections; retry later"}` + "\n"

// rejectConn answers c's first request 503 and closes it. It reads the
// request first (for at most a second), so that closing does not reset the
// connection under the answer.
func rejectConn(c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Second))
	if req, err := http.ReadRequest(bufio.NewReader(c)); err == nil {
		io.Copy(io.Discard, io.LimitReader(req.Body, 1<<20))
		req.Body.Close()
	}
	io.WriteString(c, busyAnswer)
}

type limitConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
