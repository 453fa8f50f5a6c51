package oip

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Config describes the model a Server serves and how it batches.
type Config struct {
	Name        string  // the model's name in URLs: v2/models/NAME/infer
	Version     string  // the model's version; empty: none
	Platform    string  // e.g. "onnxruntime_onnx"
	Input       string  // the model's input tensor name
	Output      string  // the model's output tensor name
	SampleShape []int64 // one sample's input shape, without the batch dimension
	Classes     int     // values of one sample's output

	MaxBatch int           // the most samples the model runs at once; 0 or 1: no batching
	MaxWait  time.Duration // how long a batch waits to fill; 0: it runs with what is queued

	// MaxQueue bounds the samples waiting for a batch; a request that
	// finds as many waiting is answered 503 with Retry-After at once.
	// 0: DefaultMaxQueue.
	MaxQueue int
	// MaxRequestSamples bounds the samples of one request (413 past it);
	// 0: DefaultMaxRequestSamples.
	MaxRequestSamples int
	// RequestTimeout bounds how long a request waits for its answer (503
	// past it); 0: as long as its client waits.
	RequestTimeout time.Duration

	// MaxBodyBytes bounds a request body; 0: 64 MiB.
	MaxBodyBytes int64
	// Registry receives the server's metrics; nil: a registry of its own,
	// with the Go runtime's (go_) and the process's (process_) collectors
	// too, so that memory and threads are watchable. Either way /metrics
	// serves them.
	Registry *prometheus.Registry
}

// DefaultMaxRequestSamples is the largest request a server takes unless
// configured otherwise.
const DefaultMaxRequestSamples = 1024

// DefaultMaxQueue is the queue bound of a pool of servers models running
// batches of up to maxBatch samples: eight batches a model, so that a
// request admitted waits a few batch times, not for ever, and at least 16
// samples.
func DefaultMaxQueue(maxBatch, servers int) int { return max(16, 8*max(maxBatch, 1)*servers) }

// Server is an Open Inference Protocol server for one model.
type Server struct {
	cfg  Config
	b    *batcher
	reg  *prometheus.Registry
	m    *metrics
	mux  *http.ServeMux
	size int // input values a sample

	draining atomic.Bool
}

// NewServer starts a server of model m. Close stops it.
func NewServer(m Model, cfg Config) (*Server, error) { return NewPool([]Model{m}, cfg) }

// NewPool starts a server whose requests are shared by several copies of one
// model, each run by a goroutine of its own with its own batches: a pool of
// cloud servers behind one queue, as a scenario's cloud.servers is. Close
// stops it.
func NewPool(models []Model, cfg Config) (*Server, error) {
	if len(models) == 0 {
		return nil, errors.New("oip: no model to serve")
	}
	m := models[0]
	size := 1
	for _, d := range cfg.SampleShape {
		if d < 1 {
			return nil, fmt.Errorf("oip: sample shape %v: every dimension must be fixed and positive", cfg.SampleShape)
		}
		size *= int(d)
	}
	switch {
	case cfg.Name == "" || cfg.Input == "" || cfg.Output == "":
		return nil, errors.New("oip: the model needs a name, an input name and an output name")
	case !sameShape(models):
		return nil, errors.New("oip: the models of a pool take or give different sizes")
	case size != m.InputSize():
		return nil, fmt.Errorf("oip: sample shape %v holds %d values, the model takes %d", cfg.SampleShape, size, m.InputSize())
	case cfg.Classes != m.OutputSize():
		return nil, fmt.Errorf("oip: %d output values a sample configured, the model gives %d", cfg.Classes, m.OutputSize())
	case cfg.MaxBatch < 0 || cfg.MaxWait < 0:
		return nil, fmt.Errorf("oip: max batch %d, max wait %v: want neither negative", cfg.MaxBatch, cfg.MaxWait)
	case cfg.MaxQueue < 0 || cfg.MaxRequestSamples < 0 || cfg.RequestTimeout < 0:
		return nil, fmt.Errorf("oip: max queue %d, max request samples %d, request timeout %v: want none negative", cfg.MaxQueue, cfg.MaxRequestSamples, cfg.RequestTimeout)
	}
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = 64 << 20
	}
	if cfg.MaxQueue == 0 {
		cfg.MaxQueue = DefaultMaxQueue(cfg.MaxBatch, len(models))
	}
	if cfg.MaxRequestSamples == 0 {
		cfg.MaxRequestSamples = DefaultMaxRequestSamples
	}
	reg := cfg.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	s := &Server{cfg: cfg, reg: reg, m: newMetrics(reg, cfg.Name), size: size}
	s.b = newBatcher(models, cfg.MaxBatch, cfg.MaxQueue, cfg.MaxWait, s.m)
	s.routes()
	return s, nil
}

// Close stops the batcher: queued requests are answered with 503. It may
// be called more than once.
func (s *Server) Close() { s.b.close() }

// Drain marks the server as going away: readiness answers 503, so that a
// load balancer stops sending, while requests are still served until
// Close.
func (s *Server) Drain() { s.draining.Store(true) }

// ServeHTTP serves the protocol's health, metadata and inference endpoints,
// and /metrics.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

func (s *Server) routes() {
	s.mux = http.NewServeMux()
	s.handle("GET /v2/health/live", "live", func(w http.ResponseWriter, _ *http.Request) int { return http.StatusOK })
	s.handle("GET /v2/health/ready", "ready", func(w http.ResponseWriter, _ *http.Request) int { return s.ready(w) })
	s.handle("GET /v2", "server_metadata", s.serverMetadata)
	for _, v := range []string{"", "/versions/{version}"} {
		s.handle("GET /v2/models/{model}"+v, "model_metadata", s.modelMetadata)
		s.handle("GET /v2/models/{model}"+v+"/ready", "model_ready", s.modelReady)
		s.handle("POST /v2/models/{model}"+v+"/infer", "infer", s.infer)
	}
	s.mux.Handle("GET /metrics", promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{Registry: s.reg}))
	s.handle("/", "other", s.other)
}

// other answers what no endpoint takes: 405 with Allow when the path is an
// endpoint's and the method is not, 404 otherwise.
func (s *Server) other(w http.ResponseWriter, r *http.Request) int {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := s.mux.Handler(probe); pattern != "/" && pattern != "" {
			allow = append(allow, m)
		}
	}
	if len(allow) > 0 {
		if slices.Contains(allow, http.MethodGet) {
			allow = append(allow, http.MethodHead)
		}
		w.Header().Set("Allow", strings.Join(allow, ", "))
		return writeError(w, http.StatusMethodNotAllowed, "%s %s: method not allowed; use %s", r.Method, r.URL.Path, strings.Join(allow, " or "))
	}
	return writeError(w, http.StatusNotFound, "no such endpoint: %s %s", r.Method, r.URL.Path)
}

// ready answers readiness: 503 while draining.
func (s *Server) ready(w http.ResponseWriter) int {
	if s.draining.Load() {
		return writeError(w, http.StatusServiceUnavailable, "the server is draining")
	}
	return http.StatusOK
}

// handle registers a handler that returns its status code, and counts and
// times it.
func (s *Server) handle(pattern, endpoint string, h func(http.ResponseWriter, *http.Request) int) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		code := h(w, r)
		if code == http.StatusOK && w.Header().Get("Content-Type") == "" {
			w.WriteHeader(http.StatusOK) // health: the status is the answer
		}
		s.m.requests.WithLabelValues(endpoint, strconv.Itoa(code)).Inc()
		s.m.requestSeconds.WithLabelValues(endpoint).Observe(time.Since(start).Seconds())
	})
}

// model checks that a request names this server's model (and version).
func (s *Server) model(w http.ResponseWriter, r *http.Request) (int, bool) {
	if name := r.PathValue("model"); name != s.cfg.Name {
		return writeError(w, http.StatusNotFound, "no model %q: this server serves %q", name, s.cfg.Name), false
	}
	if v := r.PathValue("version"); v != "" && v != s.cfg.Version {
		return writeError(w, http.StatusNotFound, "model %q has no version %q", s.cfg.Name, v), false
	}
	return 0, true
}

func (s *Server) serverMetadata(w http.ResponseWriter, _ *http.Request) int {
	return writeJSON(w, http.StatusOK, ServerMetadata{Name: "tandem", Version: "1", Extensions: []string{ExtensionBinaryTensorData}})
}

func (s *Server) modelMetadata(w http.ResponseWriter, r *http.Request) int {
	if code, ok := s.model(w, r); !ok {
		return code
	}
	md := ModelMetadata{Name: s.cfg.Name, Platform: s.cfg.Platform,
		Inputs:  []MetadataTensor{{Name: s.cfg.Input, Datatype: DatatypeFP32, Shape: append([]int64{-1}, s.cfg.SampleShape...)}},
		Outputs: []MetadataTensor{{Name: s.cfg.Output, Datatype: DatatypeFP32, Shape: []int64{-1, int64(s.cfg.Classes)}}},
	}
	if s.cfg.Version != "" {
		md.Versions = []string{s.cfg.Version}
	}
	return writeJSON(w, http.StatusOK, md)
}

func (s *Server) modelReady(w http.ResponseWriter, r *http.Request) int {
	if code, ok := s.model(w, r); !ok {
		return code
	}
	return s.ready(w)
}

// retryAfter is what a refused client is told to wait, in seconds: the
// header's unit, and more than any queue here takes to drain.
const retryAfter = "1"

func (s *Server) infer(w http.ResponseWriter, r *http.Request) int {
	if code, ok := s.model(w, r); !ok {
		return code
	}
	// Refuse before reading the body: under overload the cheapest answer
	// is the one that comes at once.
	if s.b.full() {
		s.m.rejected.WithLabelValues("queue_full").Inc()
		w.Header().Set("Retry-After", retryAfter)
		return writeError(w, http.StatusServiceUnavailable, "the queue is full (%d samples wait); retry later", s.b.queuedSamples())
	}
	req, bin, err := readRequest(r, http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return writeError(w, http.StatusRequestEntityTooLarge, "request body over %d bytes", tooBig.Limit)
		}
		return writeError(w, http.StatusBadRequest, "request body: %v", err)
	}
	for _, o := range req.Outputs {
		if o.Name != s.cfg.Output {
			return writeError(w, http.StatusBadRequest, "outputs: the model's output is %q, the request asks for %q", s.cfg.Output, o.Name)
		}
	}
	x, n, err := decodeInput(req, bin, s.cfg.Input, s.cfg.SampleShape, s.size, s.cfg.MaxRequestSamples)
	var tooMany *tooManySamplesError
	switch {
	case errors.As(err, &tooMany):
		s.m.rejected.WithLabelValues("too_many_samples").Inc()
		return writeError(w, http.StatusRequestEntityTooLarge, "%v", err)
	case err != nil:
		return writeError(w, http.StatusBadRequest, "%v", err)
	}
	ctx := r.Context()
	if s.cfg.RequestTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.cfg.RequestTimeout)
		defer cancel()
	}
	res := s.b.submit(ctx, x, n)
	switch {
	case errors.Is(res.err, errFull):
		s.m.rejected.WithLabelValues("queue_full").Inc()
		w.Header().Set("Retry-After", retryAfter)
		return writeError(w, http.StatusServiceUnavailable, "%v; retry later", res.err)
	case errors.Is(res.err, errClosed):
		s.m.rejected.WithLabelValues("closed").Inc()
		return writeError(w, http.StatusServiceUnavailable, "%v", res.err)
	case r.Context().Err() != nil:
		// The client has gone: nobody reads the answer. 499 is nginx's
		// code for it, so that the metrics tell it apart.
		return writeError(w, statusClientClosed, "the client closed the request")
	case errors.Is(res.err, context.DeadlineExceeded):
		w.Header().Set("Retry-After", retryAfter)
		return writeError(w, http.StatusServiceUnavailable, "not answered within the server's request timeout of %v", s.cfg.RequestTimeout)
	case res.err != nil:
		return writeError(w, http.StatusInternalServerError, "model %q: %v", s.cfg.Name, res.err)
	}
	s.m.samples.Add(float64(n))
	resp := InferResponse{ModelName: s.cfg.Name, ModelVersion: s.cfg.Version, ID: req.ID,
		// The server's own times let a client split what it waited for
		// into queueing, computing and the rest (the protocol, the network).
		Parameters: &ResponseParameters{QueueMS: ms(res.queue), ComputeMS: ms(res.compute), BatchSamples: res.batch,
			QueuedSamples: s.b.queuedSamples()},
		Outputs: []ResponseOutput{{Name: s.cfg.Output, Shape: []int64{int64(n), int64(s.cfg.Classes)}, Datatype: DatatypeFP32, Data: res.y}}}
	if wantsBinary(req) {
		return writeBinary(w, resp)
	}
	return writeJSON(w, http.StatusOK, resp)
}

// statusClientClosed is what a request whose client went away is counted
// as.
const statusClientClosed = 499

func ms(d time.Duration) float64 { return float64(d) / 1e6 }

func sameShape(models []Model) bool {
	for _, m := range models[1:] {
		if m.InputSize() != models[0].InputSize() || m.OutputSize() != models[0].OutputSize() {
			return false
		}
	}
	return true
}

func writeJSON(w http.ResponseWriter, code int, v any) int {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v) // the status is sent; a failed write is the client's loss
	return code
}

func writeError(w http.ResponseWriter, code int, format string, args ...any) int {
	return writeJSON(w, code, ErrorResponse{Error: fmt.Sprintf(format, args...)})
}

// Session is what SessionConfig reads of a model: hil.Session has it.
type Session interface {
	Model
	SampleShape() []int
	InputName() string
	OutputName() string
}

// SessionConfig returns the Config that serves session under name: its
// tensor names and shapes, on the ONNX Runtime platform. Batching is left
// off for the caller to set.
func SessionConfig(s Session, name string) (Config, error) {
	shape := make([]int64, 0, len(s.SampleShape()))
	for _, d := range s.SampleShape() {
		if d < 1 {
			return Config{}, fmt.Errorf("oip: model %s: input sample shape %v is not fixed", name, s.SampleShape())
		}
		shape = append(shape, int64(d))
	}
	return Config{Name: name, Platform: "onnxruntime_onnx", Input: s.InputName(), Output: s.OutputName(),
		SampleShape: shape, Classes: s.OutputSize()}, nil
}
