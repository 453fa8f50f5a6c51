package profiler

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
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
// the bytes each request and its answer put on the connection. Then, for
// each of gaps in ascending order, coldRuns requests each sent after the
// server has idled that long: the serving path's cold curve (none when gaps
// is empty). Inputs are fixed pseudo-random values in [0, 1). The server,
// the session and the listener are shut down before it returns, whatever
// happened.
func TimeServing(path string, threads int, protocol string, runs int, gaps []time.Duration, coldRuns int) (sv profiles.Serving, err error) {
	switch {
	case protocol != profiles.ProtocolBinary && protocol != profiles.ProtocolJSON:
		return sv, fmt.Errorf("profiler: serving path of %s: protocol %q, want %s or %s", path, protocol, profiles.ProtocolBinary, profiles.ProtocolJSON)
	case runs < 1:
		return sv, fmt.Errorf("profiler: serving path of %s: %d runs, want 1 or more", path, runs)
	case len(gaps) > 0 && coldRuns < 1:
		return sv, fmt.Errorf("profiler: serving path of %s: %d runs after each idle gap, want 1 or more", path, coldRuns)
	}
	for _, gap := range gaps {
		if gap <= 0 {
			return sv, fmt.Errorf("profiler: serving path of %s: idle gap %v, want more than 0", path, gap)
		}
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
	// request sends one request and returns its serving time.
	request := func() (time.Duration, error) {
		start := time.Now()
		ans, err := c.InferAnswer(ctx, x, 1)
		roundTrip := time.Since(start)
		if err != nil {
			return 0, fmt.Errorf("profiler: serving path of %s over %s: %w", path, protocol, err)
		}
		if len(ans.Y) != classes {
			return 0, fmt.Errorf("profiler: serving path of %s over %s: %d output values, want %d", path, protocol, len(ans.Y), classes)
		}
		if p := ans.Server; p != nil {
			roundTrip -= time.Duration(p.QueueMS * 1e6)
		}
		return roundTrip, nil
	}
	for range servingWarmup {
		if _, err := request(); err != nil {
			return sv, err
		}
	}
	// Requests go one after another over one connection: what it carries
	// from here is the timed requests' bytes.
	ln.read.Store(0)
	ln.written.Store(0)
	times := make([]time.Duration, runs)
	for i := range times {
		if times[i], err = request(); err != nil {
			return sv, err
		}
	}
	sv = profiles.Serving{Protocol: protocol, Latency: hil.NewLatency(times).P50, Spread: TrimmedCV(times), Runs: runs,
		RequestBytes: int(ln.read.Load() / int64(runs)), ResponseBytes: int(ln.written.Load() / int64(runs))}
	times = make([]time.Duration, coldRuns)
	for _, gap := range slices.Compact(slices.Sorted(slices.Values(gaps))) {
		for i := range times {
			time.Sleep(gap)
			if times[i], err = request(); err != nil {
				return profiles.Serving{}, err
			}
		}
		sv.Cold = append(sv.Cold, profiles.ColdLatency{Gap: gap, Latency: hil.NewLatency(times).P50, Spread: TrimmedCV(times), Runs: coldRuns})
	}
	return sv, nil
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
