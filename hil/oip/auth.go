package oip

import (
	"crypto/sha256"
	"crypto/subtle"
	"net"
	"net/http"
	"strings"
	"sync"
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
// at once: past that, Accept waits for one to close, and new connections
// wait in the kernel's backlog rather than in the server's memory.
func LimitListener(ln net.Listener, n int) net.Listener {
	return &limitListener{Listener: ln, sem: make(chan struct{}, n), done: make(chan struct{})}
}

type limitListener struct {
	net.Listener
	sem       chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

func (l *limitListener) Accept() (net.Conn, error) {
	select {
	case l.sem <- struct{}{}:
	case <-l.done:
		return nil, net.ErrClosed
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.sem
		return nil, err
	}
	return &limitConn{Conn: c, release: func() { <-l.sem }}, nil
}

func (l *limitListener) Close() error {
	l.closeOnce.Do(func() { close(l.done) })
	return l.Listener.Close()
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
