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

// Server is an Open Inference Protocol server for one model, or for several
// sharing a pool of servers (NewShared).
type Server struct {
	cfg    Config   // the first model's, and the server's settings
	models []served // in the order given
	b      *batcher
	reg    *prometheus.Registry
	mux    *http.ServeMux

	draining atomic.Bool
}

// served is one model a Server serves.
type served struct {
	cfg  Config
	size int // input values a sample
	m    *metrics
}

// NewServer starts a server of model m. Close stops it.
func NewServer(m Model, cfg Config) (*Server, error) { return NewPool([]Model{m}, cfg) }

// NewPool starts a server whose requests are shared by several copies of one
// model, each run by a goroutine of its own with its own batches: a pool of
// cloud servers behind one queue, as a scenario's cloud.servers is. Close
// stops it.
func NewPool(models []Model, cfg Config) (*Server, error) {
	return NewShared([]Config{cfg}, [][]Model{models})
}

// NewShared starts a pool of servers that serves several models, as a
// scenario's cloud pool serves the applications of its edge groups:
// models[k] are copies of the model cfgs[k] describes, one for each server,
// so every server can run every model. Each model has its queue, a batch is
// of one model, and a free server takes the ready batch whose oldest
// request came first. The batching, queue and request settings are
// cfgs[0]'s; the other configs leave them unset or set them alike. Close
// stops it.
func NewShared(cfgs []Config, models [][]Model) (*Server, error) {
	if len(cfgs) == 0 || len(cfgs) != len(models) {
		return nil, fmt.Errorf("oip: %d model configs and %d model pools: want as many, at least one", len(cfgs), len(models))
	}
	cfg := cfgs[0]
	servers := len(models[0])
	if servers == 0 {
		return nil, errors.New("oip: no model to serve")
	}
	switch {
	case cfg.MaxBatch < 0 || cfg.MaxWait < 0:
		return nil, fmt.Errorf("oip: max batch %d, max wait %v: want neither negative", cfg.MaxBatch, cfg.MaxWait)
	case cfg.MaxQueue < 0 || cfg.MaxRequestSamples < 0 || cfg.RequestTimeout < 0:
		return nil, fmt.Errorf("oip: max queue %d, max request samples %d, request timeout %v: want none negative", cfg.MaxQueue, cfg.MaxRequestSamples, cfg.RequestTimeout)
	}
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = 64 << 20
	}
	if cfg.MaxQueue == 0 {
		cfg.MaxQueue = DefaultMaxQueue(cfg.MaxBatch, servers)
	}
	if cfg.MaxRequestSamples == 0 {
		cfg.MaxRequestSamples = DefaultMaxRequestSamples
	}
	reg := cfg.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	s := &Server{cfg: cfg, reg: reg}
	byServer := make([][]Model, servers)
	met := make([]*metrics, len(cfgs))
	for k, c := range cfgs {
		size, err := checkModel(c, models[k], servers)
		if err != nil {
			return nil, err
		}
		if k > 0 {
			if err := sameSettings(c, cfgs[0]); err != nil {
				return nil, err
			}
		}
		for _, o := range s.models {
			if o.cfg.Name == c.Name {
				return nil, fmt.Errorf("oip: two models named %q", c.Name)
			}
		}
		met[k] = newMetrics(reg, c.Name)
		s.models = append(s.models, served{cfg: c, size: size, m: met[k]})
		for i, m := range models[k] {
			byServer[i] = append(byServer[i], m)
		}
	}
	s.b = newBatcher(byServer, cfg.MaxBatch, cfg.MaxQueue, cfg.MaxWait, met)
	s.routes()
	return s, nil
}

// checkModel checks that models, one for each of servers, are copies of
// the model cfg describes, and returns its input values a sample.
func checkModel(cfg Config, models []Model, servers int) (int, error) {
	if len(models) != servers {
		return 0, fmt.Errorf("oip: model %q: %d copies for %d servers", cfg.Name, len(models), servers)
	}
	m := models[0]
	size := 1
	for _, d := range cfg.SampleShape {
		if d < 1 {
			return 0, fmt.Errorf("oip: sample shape %v: every dimension must be fixed and positive", cfg.SampleShape)
		}
		size *= int(d)
	}
	switch {
	case cfg.Name == "" || cfg.Input == "" || cfg.Output == "":
		return 0, errors.New("oip: the model needs a name, an input name and an output name")
	case !sameShape(models):
		return 0, errors.New("oip: the models of a pool take or give different sizes")
	case size != m.InputSize():
		return 0, fmt.Errorf("oip: sample shape %v holds %d values, the model takes %d", cfg.SampleShape, size, m.InputSize())
	case cfg.Classes != m.OutputSize():
		return 0, fmt.Errorf("oip: %d output values a sample configured, the model gives %d", cfg.Classes, m.OutputSize())
	}
	return size, nil
}

// sameSettings checks that c leaves the server's settings, first's, unset
// or sets them alike.
func sameSettings(c, first Config) error {
	for _, f := range []struct {
		name      string
		set, same bool
	}{
		{"max batch", c.MaxBatch != 0, c.MaxBatch == first.MaxBatch},
		{"max wait", c.MaxWait != 0, c.MaxWait == first.MaxWait},
		{"max queue", c.MaxQueue != 0, c.MaxQueue == first.MaxQueue},
		{"max request samples", c.MaxRequestSamples != 0, c.MaxRequestSamples == first.MaxRequestSamples},
		{"request timeout", c.RequestTimeout != 0, c.RequestTimeout == first.RequestTimeout},
		{"max body bytes", c.MaxBodyBytes != 0, c.MaxBodyBytes == first.MaxBodyBytes},
		{"registry", c.Registry != nil, c.Registry == first.Registry},
	} {
		if f.set && !f.same {
			return fmt.Errorf("oip: model %q sets the server's %s differently from model %q; the models share one pool", c.Name, f.name, first.Name)
		}
	}
	return nil
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
		// A request is counted under the model it names; one that names
		// none served, or no model at all, under the first.
		m := s.models[0].m
		if k := s.find(r.PathValue("model")); k >= 0 {
			m = s.models[k].m
		}
		m.requests.WithLabelValues(endpoint, strconv.Itoa(code)).Inc()
		m.requestSeconds.WithLabelValues(endpoint).Observe(time.Since(start).Seconds())
	})
}

// find is the index of the model named name, or -1.
func (s *Server) find(name string) int {
	for k := range s.models {
		if s.models[k].cfg.Name == name {
			return k
		}
	}
	return -1
}

// model returns the model a request names (and its version), or answers
// 404.
func (s *Server) model(w http.ResponseWriter, r *http.Request) (*served, int, int, bool) {
	name := r.PathValue("model")
	k := s.find(name)
	if k < 0 {
		names := make([]string, len(s.models))
		for i := range s.models {
			names[i] = strconv.Quote(s.models[i].cfg.Name)
		}
		return nil, 0, writeError(w, http.StatusNotFound, "no model %q: this server serves %s", name, strings.Join(names, ", ")), false
	}
	m := &s.models[k]
	if v := r.PathValue("version"); v != "" && v != m.cfg.Version {
		return nil, 0, writeError(w, http.StatusNotFound, "model %q has no version %q", m.cfg.Name, v), false
	}
	return m, k, 0, true
}

func (s *Server) serverMetadata(w http.ResponseWriter, _ *http.Request) int {
	return writeJSON(w, http.StatusOK, ServerMetadata{Name: "tandem", Version: "1", Extensions: []string{ExtensionBinaryTensorData}})
}

func (s *Server) modelMetadata(w http.ResponseWriter, r *http.Request) int {
	m, _, code, ok := s.model(w, r)
	if !ok {
		return code
	}
	c := &m.cfg
	md := ModelMetadata{Name: c.Name, Platform: c.Platform,
		Inputs:  []MetadataTensor{{Name: c.Input, Datatype: DatatypeFP32, Shape: append([]int64{-1}, c.SampleShape...)}},
		Outputs: []MetadataTensor{{Name: c.Output, Datatype: DatatypeFP32, Shape: []int64{-1, int64(c.Classes)}}},
	}
	if c.Version != "" {
		md.Versions = []string{c.Version}
	}
	return writeJSON(w, http.StatusOK, md)
}

func (s *Server) modelReady(w http.ResponseWriter, r *http.Request) int {
	if _, _, code, ok := s.model(w, r); !ok {
		return code
	}
	return s.ready(w)
}

// retryAfter is what a refused client is told to wait, in seconds: the
// header's unit, and more than any queue here takes to drain.
const retryAfter = "1"

func (s *Server) infer(w http.ResponseWriter, r *http.Request) int {
	m, k, code, ok := s.model(w, r)
	if !ok {
		return code
	}
	c := &m.cfg
	// Refuse before reading the body: under overload the cheapest answer
	// is the one that comes at once.
	if s.b.full() {
		m.m.rejected.WithLabelValues("queue_full").Inc()
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
		if o.Name != c.Output {
			return writeError(w, http.StatusBadRequest, "outputs: the model's output is %q, the request asks for %q", c.Output, o.Name)
		}
	}
	x, n, err := decodeInput(req, bin, c.Input, c.SampleShape, m.size, s.cfg.MaxRequestSamples)
	var tooMany *tooManySamplesError
	switch {
	case errors.As(err, &tooMany):
		m.m.rejected.WithLabelValues("too_many_samples").Inc()
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
	res := s.b.submit(ctx, k, x, n)
	switch {
	case errors.Is(res.err, errFull):
		m.m.rejected.WithLabelValues("queue_full").Inc()
		w.Header().Set("Retry-After", retryAfter)
		return writeError(w, http.StatusServiceUnavailable, "%v; retry later", res.err)
	case errors.Is(res.err, errClosed):
		m.m.rejected.WithLabelValues("closed").Inc()
		return writeError(w, http.StatusServiceUnavailable, "%v", res.err)
	case r.Context().Err() != nil:
		// The client has gone: nobody reads the answer. 499 is nginx's
		// code for it, so that the metrics tell it apart.
		return writeError(w, statusClientClosed, "the client closed the request")
	case errors.Is(res.err, context.DeadlineExceeded):
		w.Header().Set("Retry-After", retryAfter)
		return writeError(w, http.StatusServiceUnavailable, "not answered within the server's request timeout of %v", s.cfg.RequestTimeout)
	case res.err != nil:
		return writeError(w, http.StatusInternalServerError, "model %q: %v", c.Name, res.err)
	}
	m.m.samples.Add(float64(n))
	resp := InferResponse{ModelName: c.Name, ModelVersion: c.Version, ID: req.ID,
		// The server's own times let a client split what it waited for
		// into queueing, computing and the rest (the protocol, the network).
		Parameters: &ResponseParameters{QueueMS: ms(res.queue), ComputeMS: ms(res.compute), BatchSamples: res.batch,
			QueuedSamples: s.b.queuedSamples()},
		Outputs: []ResponseOutput{{Name: c.Output, Shape: []int64{int64(n), int64(c.Classes)}, Datatype: DatatypeFP32, Data: res.y}}}
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

// writeJSON encodes v before it sends the status, so that an answer JSON
// cannot carry (a model's output of NaN or ±Inf: JSON has no such numbers)
// is a 500 that says so, not a 200 with an empty body.
func writeJSON(w http.ResponseWriter, code int, v any) int {
	body, err := json.Marshal(v)
	if err != nil {
		body, _ = json.Marshal(ErrorResponse{Error: fmt.Sprintf("the answer cannot be written as JSON (%v): a model output that is not a finite number reaches a client only as binary data (parameters.binary_data_output)", err)})
		code = http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	w.Write(append(body, '\n')) // the status is sent; a failed write is the client's loss
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
