package hilcmd

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/olekukonko/tablewriter"
	"github.com/spf13/cobra"

	"github.com/tandem-edge/tandem/bundles"
	"github.com/tandem-edge/tandem/cmd/tandem/internal/cli"
	"github.com/tandem-edge/tandem/hil/oip"
)

// MaxSoakClients bounds the clients of one soak phase: each is a goroutine
// and a connection on both sides of loopback.
const MaxSoakClients = 5000

// SoakOptions are the inputs of `tandem hil soak`.
type SoakOptions struct {
	Model             string // ONNX file; empty: the built-in bundle's heavy model
	Threads, MaxBatch int
	MaxWait           time.Duration
	Clients           []int         // the client counts of the load phases
	Duration          time.Duration // each phase's
	ClientTimeout     time.Duration // when a client gives up on a request
	LargeSamples      int           // the large request's samples, in the large-and-small phase
	Binary            bool          // clients send binary tensor data instead of JSON numbers
	JSON              bool

	Stdout, Stderr io.Writer
	// server starts the server under test on addr; nil: 'tandem hil serve'
	// as a child process, so that its memory is its own.
	server func(ctx context.Context, addr string) (*soakServer, error)
}

// soakServer is a server under test: its process (for its memory), and how
// to stop it cleanly or kill it.
type soakServer struct {
	pid  int
	stop func() error
	kill func()
}

func newSoak() *cobra.Command {
	opts := &SoakOptions{}
	cmd := &cobra.Command{
		Use:   "soak [--model FILE.onnx]",
		Short: "Load and fault test the inference server on loopback",
		Long: `Start the inference server ('tandem hil serve') on loopback and put it through
bounded phases, each for --duration:

  clients N        N clients sending one-sample requests back to back, each giving
                   up after --client-timeout and honouring Retry-After on a 503
  large and small  one client sending requests of --large-samples samples, one
                   sending single samples: how long the small ones wait
  slow bodies      50 connections that send a request body a byte at a time,
                   beside 4 clients: the server's --read-timeout cuts them
  kill             50 clients while the server is killed (SIGKILL) a third of the
                   way in and restarted half a second later

Each phase reports goodput (answered requests a second), latency percentiles of
the answered, errors by kind (http_503, timeout, refused, connection...), the
server's peak resident memory, and samples the server computed for clients that
had gone. Only loopback is ever used; every phase is bounded in time and clients.
The server is stopped with SIGTERM at the end and must exit 0.`,
		Example: `  tandem hil soak --clients 4,200,2000 --duration 10s
  tandem hil soak --model heavy.onnx --max-batch 8 --max-wait 2ms --json`,
		Args: cli.ExactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.Stdout, opts.Stderr = cmd.OutOrStdout(), cmd.ErrOrStderr()
			return Soak(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Model, "model", "", "serve the ONNX model `FILE.onnx` (default: the built-in bundle's heavy model)")
	f.IntVar(&opts.Threads, "threads", 1, "ONNX Runtime threads `T` per operator")
	f.IntVar(&opts.MaxBatch, "max-batch", 8, "the server's --max-batch `B`")
	f.DurationVar(&opts.MaxWait, "max-wait", 2*time.Millisecond, "the server's --max-wait `D`")
	f.IntSliceVar(&opts.Clients, "clients", []int{4, 200, 2000}, "the client counts `N,...` of the load phases")
	f.DurationVar(&opts.Duration, "duration", 5*time.Second, "run each phase for `D`")
	f.DurationVar(&opts.ClientTimeout, "client-timeout", time.Second, "a client gives up on a request after `D`")
	f.IntVar(&opts.LargeSamples, "large-samples", oip.DefaultMaxRequestSamples, "samples `N` of the large requests")
	f.BoolVar(&opts.Binary, "binary", false, "clients send and receive binary tensor data instead of JSON numbers")
	f.BoolVar(&opts.JSON, "json", false, "print the phases as one JSON object")
	return cmd
}

// SoakPhase is one phase's figures.
type SoakPhase struct {
	Phase      string           `json:"phase"`
	Clients    int              `json:"clients"`
	Sent       int64            `json:"sent"`
	OK         int64            `json:"ok"`
	Goodput    float64          `json:"goodput_rps"`
	P50MS      float64          `json:"p50_ms"`
	P99MS      float64          `json:"p99_ms"`
	Errors     map[string]int64 `json:"errors"`
	PeakRSSMB  float64          `json:"peak_rss_mb"`
	ServerCPU  float64          `json:"server_cpu_seconds"`        // user and system, over the phase; -1: not known
	Abandoned  int64            `json:"computed_for_gone_clients"` // -1: not known (the server restarted)
	Dropped    int64            `json:"dropped_before_compute"`    // -1: not known
	Note       string           `json:"note,omitempty"`
	SmallP50MS float64          `json:"small_p50_ms,omitempty"`
	SmallP99MS float64          `json:"small_p99_ms,omitempty"`
	BatchMS    float64          `json:"batch_ms,omitempty"` // the large request's time over its batches
}

// SoakReport is what `tandem hil soak --json` prints.
type SoakReport struct {
	Model     string      `json:"model"`
	MaxBatch  int         `json:"max_batch"`
	Binary    bool        `json:"binary"`
	IdleRSSMB float64     `json:"idle_rss_mb"`
	Phases    []SoakPhase `json:"phases"`
	DrainExit string      `json:"drain_exit"` // how the server ended on SIGTERM
}

// Soak runs the phases and prints what they measured.
func Soak(ctx context.Context, opts *SoakOptions) error {
	if opts.Duration <= 0 || opts.Duration > 10*time.Minute || opts.ClientTimeout <= 0 || opts.LargeSamples < 1 {
		return cli.BadInputf("hil soak: --duration %v, --client-timeout %v, --large-samples %d: want a duration up to 10m, a timeout and a sample", opts.Duration, opts.ClientTimeout, opts.LargeSamples)
	}
	for _, n := range opts.Clients {
		if n < 1 || n > MaxSoakClients {
			return cli.BadInputf("hil soak: --clients %d: want 1 to %d", n, MaxSoakClients)
		}
	}
	start := opts.server
	model := opts.Model
	if start == nil {
		if model == "" {
			f, err := builtinHeavy()
			if err != nil {
				return err
			}
			defer os.Remove(f)
			model = f
		}
		start = func(ctx context.Context, addr string) (*soakServer, error) {
			return childServer(ctx, opts, model, addr)
		}
	}
	addr, err := freeLoopback()
	if err != nil {
		return err
	}
	srv, err := start(ctx, addr)
	if err != nil {
		return err
	}
	defer func() {
		if srv != nil {
			srv.kill()
		}
	}()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = MaxSoakClients
	hc := &http.Client{Transport: tr}
	c, err := oip.NewClient(ctx, "http://"+addr, "heavy", hc)
	if err != nil {
		return err
	}
	c.Binary = opts.Binary
	rep := &SoakReport{Model: model, MaxBatch: opts.MaxBatch, Binary: opts.Binary, IdleRSSMB: rssMB(srv.pid)}
	phase := func(name string, clients int, run func() (*oip.LoadResult, error)) (*SoakPhase, error) {
		fmt.Fprintf(opts.Stderr, "hil soak: %s (%d clients, %v)\n", name, clients, opts.Duration)
		before, _ := scrape(ctx, hc, addr)
		cpu0 := cpuSeconds(srv.pid)
		peak := watchRSS(srv.pid)
		res, err := run()
		p := &SoakPhase{Phase: name, Clients: clients, PeakRSSMB: peak(), ServerCPU: cpuSeconds(srv.pid) - cpu0}
		if err != nil {
			return nil, err
		}
		after, _ := scrape(ctx, hc, addr)
		q := res.Latency.Quantiles(0.5, 0.99)
		p.Sent, p.OK, p.Goodput, p.Errors = res.Sent, res.OK, res.Goodput, res.Errors
		p.P50MS, p.P99MS = float64(q[0])/1e6, float64(q[1])/1e6
		p.Abandoned = int64(after["tandem_server_inferred_samples_total"]-before["tandem_server_inferred_samples_total"]) - res.OK
		p.Dropped = int64(after["tandem_server_dropped_requests_total"] - before["tandem_server_dropped_requests_total"])
		rep.Phases = append(rep.Phases, *p)
		return &rep.Phases[len(rep.Phases)-1], nil
	}
	load := func(clients, samples int) oip.Load {
		return oip.Load{Clients: clients, Samples: samples, Timeout: opts.ClientTimeout, Duration: opts.Duration, Backoff: true}
	}

	for _, n := range opts.Clients {
		if _, err := phase(fmt.Sprintf("clients %d", n), n, func() (*oip.LoadResult, error) { return load(n, 1).Run(ctx, c) }); err != nil {
			return err
		}
	}

	var small *oip.LoadResult
	p, err := phase("large and small", 2, func() (*oip.LoadResult, error) {
		var wg sync.WaitGroup
		var serr error
		wg.Go(func() { small, serr = load(1, 1).Run(ctx, c) })
		big, err := load(1, opts.LargeSamples).Run(ctx, c)
		wg.Wait()
		return big, errors.Join(err, serr)
	})
	if err != nil {
		return err
	}
	sq := small.Latency.Quantiles(0.5, 0.99)
	p.SmallP50MS, p.SmallP99MS = float64(sq[0])/1e6, float64(sq[1])/1e6
	// What one of the large request's batches took: the time a small
	// request should wait at most behind it.
	p.BatchMS = p.P50MS / float64((opts.LargeSamples+opts.MaxBatch-1)/max(opts.MaxBatch, 1))
	p.Abandoned = -1 // two loads of different sizes share the server
	p.Note = fmt.Sprintf("%d-sample requests; %d single samples answered beside them", opts.LargeSamples, small.OK)

	var cut, slowN int
	p, err = phase("slow bodies", 4, func() (*oip.LoadResult, error) {
		done := make(chan int, 1)
		slowN = 50
		go func() { done <- slowBodies(ctx, addr, slowN, opts.Duration) }()
		res, err := load(4, 1).Run(ctx, c)
		cut = <-done
		return res, err
	})
	if err != nil {
		return err
	}
	p.Note = fmt.Sprintf("%d of %d slow-body connections cut by the server", cut, slowN)

	p, err = phase("kill", 50, func() (*oip.LoadResult, error) {
		type restarted struct {
			s   *soakServer
			err error
		}
		back := make(chan restarted, 1)
		go func() {
			time.Sleep(opts.Duration / 3)
			srv.kill()
			time.Sleep(500 * time.Millisecond)
			s, err := start(ctx, addr)
			back <- restarted{s, err}
		}()
		res, err := load(50, 1).Run(ctx, c)
		r := <-back
		if r.err != nil {
			return nil, fmt.Errorf("hil soak: restarting the server: %w", r.err)
		}
		srv = r.s
		return res, err
	})
	if err != nil {
		return err
	}
	p.Abandoned, p.Dropped, p.ServerCPU = -1, -1, -1 // two processes
	p.Note = "killed (SIGKILL) a third of the way in, restarted 0.5 s later"

	err = srv.stop()
	srv = nil
	rep.DrainExit = "exit 0"
	if err != nil {
		rep.DrainExit = err.Error()
	}
	if opts.JSON {
		enc := json.NewEncoder(opts.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		printSoak(opts.Stdout, rep)
	}
	if err != nil {
		return fmt.Errorf("hil soak: the server did not drain cleanly on SIGTERM: %w", err)
	}
	return nil
}

func printSoak(w io.Writer, rep *SoakReport) {
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }
	t := tablewriter.NewWriter(w)
	t.Header("phase", "clients", "sent", "ok", "goodput/s", "p50 ms", "p99 ms", "errors", "peak RSS MB", "server CPU s", "computed for gone", "dropped", "note")
	known := func(n int64) string {
		if n < 0 {
			return "n/a"
		}
		return strconv.FormatInt(n, 10)
	}
	cpu := func(v float64) string {
		if v < 0 {
			return "n/a"
		}
		return f(v)
	}
	for _, p := range rep.Phases {
		note := p.Note
		if p.SmallP99MS > 0 {
			note += fmt.Sprintf("; single samples p50 %s ms, p99 %s ms; one large batch %s ms", f(p.SmallP50MS), f(p.SmallP99MS), f(p.BatchMS))
		}
		t.Append(p.Phase, strconv.Itoa(p.Clients), strconv.FormatInt(p.Sent, 10), strconv.FormatInt(p.OK, 10), f(p.Goodput),
			f(p.P50MS), f(p.P99MS), errorString(p.Errors), f(p.PeakRSSMB), cpu(p.ServerCPU), known(p.Abandoned), known(p.Dropped), note)
	}
	t.Render()
	fmt.Fprintf(w, "idle RSS %s MB; on SIGTERM the server: %s\n", f(rep.IdleRSSMB), rep.DrainExit)
}

func errorString(errs map[string]int64) string {
	if len(errs) == 0 {
		return "-"
	}
	var parts []string
	for k, n := range errs {
		parts = append(parts, fmt.Sprintf("%s %d", k, n))
	}
	slices.Sort(parts)
	return strings.Join(parts, ", ")
}

// builtinHeavy writes the built-in bundle's heavy model to a temporary file
// for the server to open.
func builtinHeavy() (string, error) {
	b, err := bundles.Load("builtin:fashion")
	if err != nil {
		return "", err
	}
	m, err := b.ReadModel(bundles.ModelHeavy)
	if err != nil {
		return "", err
	}
	f, err := os.CreateTemp("", "tandem-soak-*.onnx")
	if err != nil {
		return "", err
	}
	if _, err := f.Write(m); err != nil {
		f.Close()
		return "", err
	}
	return f.Name(), f.Close()
}

// freeLoopback returns a loopback address with a port free now.
func freeLoopback() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// childServer starts 'tandem hil serve' on addr and waits until it is
// ready.
func childServer(ctx context.Context, opts *SoakOptions, model, addr string) (*soakServer, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, "hil", "serve", "--model", model, "--name", "heavy", "--listen", addr,
		"--threads", strconv.Itoa(opts.Threads), "--max-batch", strconv.Itoa(opts.MaxBatch), "--max-wait", opts.MaxWait.String(),
		"--read-timeout", "2s") // the default --max-conns: clients past it are answered 503
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	s := &soakServer{pid: cmd.Process.Pid,
		kill: func() { cmd.Process.Kill(); <-exited },
		stop: func() error {
			cmd.Process.Signal(syscall.SIGTERM)
			select {
			case err := <-exited:
				return err
			case <-time.After(30 * time.Second):
				cmd.Process.Kill()
				return errors.New("still running 30 s after SIGTERM")
			}
		}}
	for end := time.Now().Add(60 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		resp, err := http.Get("http://" + addr + "/v2/health/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		select {
		case err := <-exited:
			return nil, fmt.Errorf("hil soak: the server exited: %v", err)
		case <-ctx.Done():
			s.kill()
			return nil, ctx.Err()
		default:
		}
	}
	s.kill()
	return nil, errors.New("hil soak: the server was not ready within 60 s")
}

// rssMB is a process's resident memory, 0 when unknown.
func rssMB(pid int) float64 {
	f, err := os.Open(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}

// cpuSeconds is the user and system time a process has used, 0 when
// unknown; /proc counts it in ticks of 1/100 s on Linux.
func cpuSeconds(pid int) float64 {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0
	}
	// The fields after the command name, which is in parentheses and may
	// hold spaces: utime and stime are the 12th and 13th of them.
	_, rest, ok := strings.Cut(string(b), ") ")
	f := strings.Fields(rest)
	if !ok || len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseFloat(f[11], 64)
	s, _ := strconv.ParseFloat(f[12], 64)
	return (u + s) / 100
}

// watchRSS samples a process's resident memory every 50 ms until the
// returned function is called, which reports the peak.
func watchRSS(pid int) func() float64 {
	stop := make(chan struct{})
	peak := make(chan float64, 1)
	go func() {
		top := rssMB(pid)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
				top = max(top, rssMB(pid))
			case <-stop:
				peak <- max(top, rssMB(pid))
				return
			}
		}
	}()
	return func() float64 { close(stop); return <-peak }
}

// scrape reads the server's metrics, summed over their labels.
func scrape(ctx context.Context, hc *http.Client, addr string) (map[string]float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	m := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		name, rest, _ := strings.Cut(line, " ")
		if i := strings.IndexByte(name, '{'); i >= 0 {
			name = name[:i]
			_, rest, _ = strings.Cut(line, "} ")
		}
		if v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64); err == nil {
			m[name] += v
		}
	}
	return m, sc.Err()
}

// slowBodies opens n connections that each send a request whose body comes
// a byte every 100 ms, for at most d, and returns how many the server cut
// off before then.
func slowBodies(ctx context.Context, addr string, n int, d time.Duration) int {
	var mu sync.Mutex
	cut := 0
	var wg sync.WaitGroup
	end := time.Now().Add(d)
	for range n {
		wg.Go(func() {
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				return
			}
			defer conn.Close()
			if _, err := io.WriteString(conn, "POST /v2/models/heavy/infer HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n"); err != nil {
				return
			}
			// The server answers nothing before the body is in: a read that
			// ends is the server closing the connection.
			closed := make(chan struct{})
			go func() {
				conn.SetReadDeadline(end)
				io.Copy(io.Discard, conn)
				close(closed)
			}()
			tick := time.NewTicker(100 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-closed:
					if time.Now().Before(end) {
						mu.Lock()
						cut++
						mu.Unlock()
					}
					return
				case <-tick.C:
					conn.Write([]byte(" "))
				case <-ctx.Done():
					return
				}
			}
		})
	}
	wg.Wait()
	return cut
}
