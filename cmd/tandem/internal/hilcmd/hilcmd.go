// Package hilcmd is `tandem hil`: hardware-in-the-loop runs, starting with
// the cloud inference server that edge devices, or a benchmark, send inputs
// to over the Open Inference Protocol.
package hilcmd

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/tandem-edge/tandem/cmd/tandem/internal/cli"
	"github.com/tandem-edge/tandem/hil"
	"github.com/tandem-edge/tandem/hil/oip"
)

// NewCmd builds `tandem hil` and its subcommands.
func NewCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "hil",
		Short: "Hardware in the loop: real models on real machines",
		Long: `Hardware-in-the-loop runs execute what 'tandem sim' models: the models through
ONNX Runtime, and requests over HTTP to an inference server that speaks the Open
Inference Protocol (KServe v2), so that the built-in server can be swapped for
Triton or KServe.`,
		Args: cli.ExactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newServe(), newRun(), newSoak())
	return cmd
}

// ServeOptions are the inputs of `tandem hil serve`.
type ServeOptions struct {
	Listen string // host:port
	Model  string // ONNX file, or NAME=FILE
	Name   string // the model's name in URLs; empty: NAME=, else the file's base name
	// Also are further models the server serves beside Model, each
	// NAME=FILE or FILE (named by its base name), sharing its batching.
	Also     []string
	Threads  int // ONNX Runtime intra-op threads; 0: its default
	MaxBatch int
	MaxWait  time.Duration
	// MaxQueue, MaxRequestSamples and RequestTimeout are oip.Config's;
	// 0 leaves its default.
	MaxQueue          int
	MaxRequestSamples int
	RequestTimeout    time.Duration
	// DrainTimeout bounds how long a stopping server waits for the
	// requests it has; those left then are answered 503.
	DrainTimeout time.Duration
	// DrainDelay is how long a stopping server keeps accepting, readiness
	// answering 503, before it closes its listener: the time a load
	// balancer that polls readiness needs to stop sending.
	DrainDelay time.Duration

	// TLSCert and TLSKey, both set, serve HTTPS with that certificate.
	TLSCert, TLSKey string
	// AuthTokenFile holds the bearer token every request but health checks
	// (and /metrics, unless MetricsAuth) must carry.
	AuthTokenFile string
	MetricsAuth   bool
	// ReadTimeout bounds reading a request, body included; IdleTimeout how
	// long a kept-alive connection may sit idle; MaxConns the connections
	// open at once. 0: none.
	ReadTimeout, IdleTimeout time.Duration
	MaxConns                 int

	Log io.Writer
	// Ready, when set, is called with the address the server listens on
	// once it accepts connections.
	Ready func(addr string)
}

func newServe() *cobra.Command {
	opts := &ServeOptions{}
	var models []string
	cmd := &cobra.Command{
		Use:   "serve --model [NAME=]FILE.onnx... [--listen ADDR]",
		Short: "Serve models over the Open Inference Protocol (the cloud of a HIL run)",
		Long: `Serve ONNX models through ONNX Runtime over HTTP with the Open Inference
Protocol (KServe v2 REST):

  GET  /v2/health/live, /v2/health/ready      liveness and readiness
  GET  /v2/models/NAME                        the model's inputs and outputs
  POST /v2/models/NAME/infer                  inference: FP32 tensors, batch first, as JSON
                                              or binary (Inference-Header-Content-Length)
  GET  /metrics                               Prometheus metrics

Requests that arrive together are run as one batch of up to --max-batch samples,
waiting at most --max-wait for a batch to fill: the cloud stage's batching keys
of a scenario. A request of more samples is run a batch at a time, each part
queued behind the requests that came meanwhile, so that it cannot hold them up;
one of more than --max-request-samples is refused (413).

--model may be given more than once: the server then serves every model, as a
scenario's cloud pool serves the applications of its edge groups. Each model has
its own queue, a batch is of one model, and the server takes the ready batch
whose oldest request came first; --max-queue counts the samples of all.

Under overload the server sheds load instead of queueing without end: when
--max-queue samples wait already, a request is answered 503 with Retry-After at
once, before its body is read. A queued request whose client has gone, or that
has waited --request-timeout (503), is dropped before it is computed.
tandem_server_rejected_requests_total and tandem_server_dropped_requests_total
on /metrics count both.

It runs until interrupted (SIGINT or SIGTERM). Then it drains: readiness answers
503 (for --drain-delay it still accepts, so that a load balancer polling readiness
sees it and stops sending), then new connections are refused and the requests it
has are finished, for at most --drain-timeout; any still queued after that are
answered 503. It exits 0 once drained.

It listens on loopback unless --listen says otherwise. Off loopback, serve HTTPS
(--tls-cert, --tls-key) and ask for a bearer token (--auth-token-file: requests
without one are answered 401, with another 403; health checks stay open, and
/metrics unless --metrics-auth). A request must be read within --read-timeout, an
idle kept-alive connection is closed after --idle-timeout, and at most --max-conns
connections are open at once (one more is answered 503 and closed).`,
		Example: `  tandem hil serve --model bundles/fashion/heavy.onnx
  tandem hil serve --model heavy.onnx --name fashion --max-batch 8 --max-wait 2ms
  tandem hil serve --model heavy=bundles/fashion/heavy.onnx --model heavy-digits=bundles/digits/heavy.onnx
  curl -s localhost:8000/v2/models/heavy
  tandem hil serve --model heavy.onnx --listen :8443 --tls-cert cert.pem --tls-key key.pem --auth-token-file token`,
		Args: cli.ExactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			opts.Log = cmd.ErrOrStderr()
			if len(models) > 0 {
				opts.Model, opts.Also = models[0], models[1:]
			}
			return Serve(ctx, opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Listen, "listen", "127.0.0.1:8000", "listen on `ADDR` (host:port; :8000 for every interface)")
	f.StringArrayVar(&models, "model", nil, "serve the ONNX model `[NAME=]FILE.onnx` (required; again for more models)")
	f.StringVar(&opts.Name, "name", "", "the first model's `NAME` in URLs (default: NAME= or the file's base name)")
	f.IntVar(&opts.Threads, "threads", 0, "ONNX Runtime threads `T` per operator (0: one per core)")
	f.IntVar(&opts.MaxBatch, "max-batch", 1, "run up to `B` samples at once")
	f.DurationVar(&opts.MaxWait, "max-wait", 0, "wait at most `D` for a batch to fill (e.g. 2ms)")
	f.IntVar(&opts.MaxQueue, "max-queue", 0, "answer 503 when `N` samples wait (0: eight batches a model, at least 16)")
	f.IntVar(&opts.MaxRequestSamples, "max-request-samples", 0, fmt.Sprintf("refuse requests of more than `N` samples (0: %d)", oip.DefaultMaxRequestSamples))
	f.DurationVar(&opts.RequestTimeout, "request-timeout", 0, "answer 503 to a request not answered within `D` (0: as long as its client waits)")
	f.DurationVar(&opts.DrainTimeout, "drain-timeout", 10*time.Second, "on SIGINT or SIGTERM, finish the requests in flight for at most `D`")
	f.DurationVar(&opts.DrainDelay, "drain-delay", 0, "on SIGINT or SIGTERM, keep accepting for `D` with readiness answering 503")
	f.StringVar(&opts.TLSCert, "tls-cert", "", "serve HTTPS with the PEM certificate (chain) in `FILE`; needs --tls-key")
	f.StringVar(&opts.TLSKey, "tls-key", "", "the PEM private key of --tls-cert, in `FILE`")
	f.StringVar(&opts.AuthTokenFile, "auth-token-file", "", "ask every request for the bearer token in `FILE` (health checks excepted)")
	f.BoolVar(&opts.MetricsAuth, "metrics-auth", false, "ask /metrics for the bearer token too")
	f.DurationVar(&opts.ReadTimeout, "read-timeout", 30*time.Second, "close a connection whose request, body included, is not read within `D`")
	f.DurationVar(&opts.IdleTimeout, "idle-timeout", 60*time.Second, "close a kept-alive connection idle for `D`")
	f.IntVar(&opts.MaxConns, "max-conns", 4096, "hold at most `N` connections open at once, answering more 503 (0: no limit)")
	return cmd
}

// Serve runs the server until ctx is done.
func Serve(ctx context.Context, opts *ServeOptions) error {
	if opts.Model == "" {
		return cli.BadInputf("hil serve: --model is required (see 'tandem hil serve --help')")
	}
	if opts.MaxBatch < 1 || opts.MaxWait < 0 || opts.Threads < 0 {
		return cli.BadInputf("hil serve: --max-batch %d, --max-wait %v, --threads %d: want a batch of at least 1 and nothing negative", opts.MaxBatch, opts.MaxWait, opts.Threads)
	}
	if opts.MaxQueue < 0 || opts.MaxRequestSamples < 0 || opts.RequestTimeout < 0 || opts.DrainTimeout < 0 || opts.DrainDelay < 0 {
		return cli.BadInputf("hil serve: --max-queue %d, --max-request-samples %d, --request-timeout %v, --drain-timeout %v, --drain-delay %v: want none negative",
			opts.MaxQueue, opts.MaxRequestSamples, opts.RequestTimeout, opts.DrainTimeout, opts.DrainDelay)
	}
	if opts.ReadTimeout < 0 || opts.IdleTimeout < 0 || opts.MaxConns < 0 {
		return cli.BadInputf("hil serve: --read-timeout %v, --idle-timeout %v, --max-conns %d: want none negative", opts.ReadTimeout, opts.IdleTimeout, opts.MaxConns)
	}
	sec, err := loadSecurity(opts)
	if err != nil {
		return err
	}
	var cfgs []oip.Config
	var models [][]oip.Model
	for i, spec := range append([]string{opts.Model}, opts.Also...) {
		name, file := modelSpec(spec)
		if i == 0 && opts.Name != "" {
			name = opts.Name
		}
		sess, err := hil.Open(file, hil.Options{IntraOpThreads: opts.Threads})
		if err != nil {
			return cli.BadInputf("hil serve: --model %s: %v", spec, err)
		}
		defer sess.Close()
		cfg, err := oip.SessionConfig(sess, name)
		if err != nil {
			return cli.BadInputf("hil serve: --model %s: %v", spec, err)
		}
		cfgs, models = append(cfgs, cfg), append(models, []oip.Model{sess})
	}
	cfg := &cfgs[0]
	cfg.MaxBatch, cfg.MaxWait = opts.MaxBatch, opts.MaxWait
	cfg.MaxQueue, cfg.MaxRequestSamples, cfg.RequestTimeout = opts.MaxQueue, opts.MaxRequestSamples, opts.RequestTimeout
	s, err := oip.NewShared(cfgs, models)
	if err != nil {
		return cli.BadInputf("hil serve: %v", err)
	}
	defer s.Close()

	ln, err := net.Listen("tcp", opts.Listen)
	if err != nil {
		return cli.BadInputf("hil serve: --listen %s: %v", opts.Listen, err)
	}
	if opts.Log != nil {
		scheme, auth := "http", ""
		if sec.tls != nil {
			scheme = "https"
		}
		if sec.token != "" {
			auth = " (bearer token required)"
		}
		for _, c := range cfgs {
			fmt.Fprintf(opts.Log, "serving model %q (input %q %v, output %q of %d) at %s://%s/v2/models/%s%s\n",
				c.Name, c.Input, c.SampleShape, c.Output, c.Classes, scheme, ln.Addr(), c.Name, auth)
		}
		fmt.Fprintf(opts.Log, "metrics at %s://%s/metrics\n", scheme, ln.Addr())
	}
	return serveOn(ctx, ln, s, opts, sec)
}

// modelSpec splits --model's NAME=FILE; a FILE alone is named by its base
// name. A NAME holds no path separator, so a file whose path holds '=' can
// still be given with a directory.
func modelSpec(spec string) (name, file string) {
	if n, f, ok := strings.Cut(spec, "="); ok && n != "" && !strings.ContainsRune(n, filepath.Separator) {
		return n, f
	}
	return strings.TrimSuffix(filepath.Base(spec), filepath.Ext(spec)), spec
}

// security is what serving safely off loopback takes: a TLS configuration
// and a bearer token, either absent.
type security struct {
	tls   *tls.Config
	token string
}

func loadSecurity(opts *ServeOptions) (security, error) {
	var sec security
	switch {
	case (opts.TLSCert == "") != (opts.TLSKey == ""):
		return sec, cli.BadInputf("hil serve: --tls-cert %q, --tls-key %q: give both or neither", opts.TLSCert, opts.TLSKey)
	case opts.TLSCert != "":
		cert, err := tls.LoadX509KeyPair(opts.TLSCert, opts.TLSKey)
		if err != nil {
			return sec, cli.BadInputf("hil serve: --tls-cert %s, --tls-key %s: %v", opts.TLSCert, opts.TLSKey, err)
		}
		sec.tls = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	if opts.MetricsAuth && opts.AuthTokenFile == "" {
		return sec, cli.BadInputf("hil serve: --metrics-auth needs --auth-token-file")
	}
	if opts.AuthTokenFile != "" {
		tok, err := readToken(opts.AuthTokenFile)
		if err != nil {
			return sec, cli.BadInputf("hil serve: --auth-token-file: %v", err)
		}
		sec.token = tok
	}
	return sec, nil
}

// readToken reads a bearer token: the file's content, surrounding white
// space trimmed; an empty one is refused, as it would let anyone in.
func readToken(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return "", fmt.Errorf("%s holds no token", path)
	}
	if strings.ContainsAny(tok, " \t\r\n") {
		return "", fmt.Errorf("%s: a token is one line without spaces", path)
	}
	return tok, nil
}

// serveOn serves s on ln until ctx is done, then drains: readiness turns
// 503, the listener closes, and the requests in flight have DrainTimeout
// to finish before the queue is answered 503 and the connections closed.
// A drain, however it ends, is a clean stop.
func serveOn(ctx context.Context, ln net.Listener, s *oip.Server, opts *ServeOptions, sec security) error {
	var h http.Handler = s
	if sec.token != "" {
		h = oip.BearerAuth(s, sec.token, opts.MetricsAuth)
	}
	// TLS inside the cap, so that a connection past it is answered 503
	// over TLS too.
	if sec.tls != nil {
		ln = tls.NewListener(ln, sec.tls)
	}
	if opts.MaxConns > 0 {
		ln = oip.LimitListener(ln, opts.MaxConns)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: opts.ReadTimeout, IdleTimeout: opts.IdleTimeout,
		ErrorLog: log.New(io.Discard, "", 0)}
	if opts.Log != nil {
		// Failed handshakes and timed-out reads are the clients' trouble;
		// they go with the server's other lines.
		srv.ErrorLog = log.New(opts.Log, "hil serve: ", 0)
	}
	if opts.ReadTimeout > 0 {
		srv.ReadHeaderTimeout = min(srv.ReadHeaderTimeout, opts.ReadTimeout)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	if opts.Ready != nil {
		opts.Ready(ln.Addr().String())
	}
	select {
	case err := <-done:
		return fmt.Errorf("hil serve: %w", err)
	case <-ctx.Done():
	}
	s.Drain()
	if opts.DrainDelay > 0 {
		time.Sleep(opts.DrainDelay)
	}
	drain, cancel := context.WithTimeout(context.Background(), opts.DrainTimeout)
	defer cancel()
	if err := srv.Shutdown(drain); err != nil {
		// Past the drain timeout: answer what is queued, let the batch that
		// runs finish, then cut what is left.
		s.Close()
		srv.Close()
		if opts.Log != nil {
			fmt.Fprintf(opts.Log, "hil serve: requests still in flight after --drain-timeout %v were answered 503\n", opts.DrainTimeout)
		}
	}
	if err := <-done; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("hil serve: %w", err)
	}
	return nil
}
