package profiler

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/tandem-edge/tandem/hil"
	"github.com/tandem-edge/tandem/hil/oip"
	"github.com/tandem-edge/tandem/profiles"
)

// servingWarmup is how many untimed requests TimeServing sends first: they
// open the connection and warm the session, the server and the client.
const servingWarmup = 20

// servingModel is the name the model is served under while it is measured.
const servingModel = "profiled"

// TimeServing measures the ONNX model in the file path on the serving path
// of tandem's inference server (package oip) for protocol,
// profiles.ProtocolBinary or profiles.ProtocolJSON. It starts the server in
// this process on loopback as `tandem hil run` starts a scenario's cloud:
// one server, the model on threads intra-op threads (0 means 1), no
// batching, a queue that never turns a request away. Then it sends
// servingWarmup untimed and runs timed batch-1 requests one after another
// over a kept-open connection, each timed as
//
//	serving = client round trip − queue time the server reports
//
// as a hardware-in-the-loop run charges a cloud request (hil/fleet), and
// the bytes each request and its answer put on the connection. Inputs
// are fixed pseudo-random values in [0, 1). The server, the session and the
// listener are shut down before it returns, whatever happened.
func TimeServing(path string, threads int, protocol string, runs int) (sv profiles.Serving, err error) {
	switch {
	case protocol != profiles.ProtocolBinary && protocol != profiles.ProtocolJSON:
		return sv, fmt.Errorf("profiler: serving path of %s: protocol %q, want %s or %s", path, protocol, profiles.ProtocolBinary, profiles.ProtocolJSON)
	case runs < 1:
		return sv, fmt.Errorf("profiler: serving path of %s: %d runs, want 1 or more", path, runs)
	}
	s, err := hil.Open(path, hil.Options{IntraOpThreads: max(threads, 1)})
	if err != nil {
		return sv, err
	}
	defer s.Close() // last: the server runs s until it is closed
	x := probeInput(s, 1)
	classes := s.OutputSize()
	cfg, err := oip.SessionConfig(s, servingModel)
	if err != nil {
		return sv, fmt.Errorf("profiler: serving path of %s: %w", path, err)
	}
	cfg.MaxQueue = 1 << 20 // as `tandem hil run`'s cloud: requests queue without bound
	srv, err := oip.NewServer(s, cfg)
	if err != nil {
		return sv, fmt.Errorf("profiler: serving path of %s: %w", path, err)
	}
	defer srv.Close()
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return sv, fmt.Errorf("profiler: serving path of %s: %w", path, err)
	}
	ln := &countingListener{Listener: raw}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }() // Serve closes ln when it returns
	tr := http.DefaultTransport.(*http.Transport).Clone()
	defer func() {
		tr.CloseIdleConnections()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		serr := hs.Shutdown(ctx)
		if serr == nil {
			if serr = <-served; errors.Is(serr, http.ErrServerClosed) {
				serr = nil
			}
		}
		if serr != nil && err == nil {
			err = fmt.Errorf("profiler: serving path of %s: stopping the server: %w", path, serr)
		}
	}()

	ctx := context.Background()
	c, err := oip.NewClient(ctx, "http://"+ln.Addr().String(), servingModel, &http.Client{Transport: tr, Timeout: time.Minute})
	if err != nil {
		return sv, fmt.Errorf("profiler: serving path of %s: %w", path, err)
	}
	c.Binary = protocol == profiles.ProtocolBinary
	times := make([]time.Duration, 0, runs)
	for i := range servingWarmup + runs {
		if i == servingWarmup {
			// Requests go one after another over one connection: what
			// it carries from here is the timed requests' bytes.
			ln.read.Store(0)
			ln.written.Store(0)
		}
		start := time.Now()
		ans, err := c.InferAnswer(ctx, x, 1)
		roundTrip := time.Since(start)
		if err != nil {
			return sv, fmt.Errorf("profiler: serving path of %s over %s: %w", path, protocol, err)
		}
		if len(ans.Y) != classes {
			return sv, fmt.Errorf("profiler: serving path of %s over %s: %d output values, want %d", path, protocol, len(ans.Y), classes)
		}
		if i < servingWarmup {
			continue
		}
		if p := ans.Server; p != nil {
			roundTrip -= time.Duration(p.QueueMS * 1e6)
		}
		times = append(times, roundTrip)
	}
	return profiles.Serving{Protocol: protocol, Latency: hil.NewLatency(times).P50, Spread: TrimmedCV(times), Runs: runs,
		RequestBytes: int(ln.read.Load() / int64(runs)), ResponseBytes: int(ln.written.Load() / int64(runs))}, nil
}

// countingListener counts the bytes its connections read and write: the
// HTTP requests the server is sent and the answers it gives.
type countingListener struct {
	net.Listener
	read, written atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: c, l: l}, nil
}

type countingConn struct {
	net.Conn
	l *countingListener
}

func (c *countingConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.l.read.Add(int64(n))
	return n, err
}

func (c *countingConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	c.l.written.Add(int64(n))
	return n, err
}
