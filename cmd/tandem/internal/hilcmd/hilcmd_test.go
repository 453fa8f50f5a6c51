package hilcmd

import (
	"context"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tandem-edge/tandem/cmd/tandem/internal/cli"
	"github.com/tandem-edge/tandem/hil/hiltest"
	"github.com/tandem-edge/tandem/hil/oip"
)

// TestServeAnswersAndStops starts the server of two models on a free port,
// infers through it, and checks that cancelling its context shuts it down
// cleanly.
func TestServeAnswersAndStops(t *testing.T) {
	hiltest.RequireORT(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- Serve(ctx, &ServeOptions{Listen: "127.0.0.1:0", Model: hiltest.TinyModel(t), Also: []string{"again=" + hiltest.TinyModel(t)},
			Threads: 1, MaxBatch: 4, MaxWait: time.Millisecond, Log: io.Discard, Ready: func(addr string) { ready <- addr }})
	}()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("Serve returned before it was ready: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("Serve not ready after 30 s")
	}
	for _, name := range []string{"tiny", "again"} {
		c, err := oip.NewClient(ctx, "http://"+addr, name, nil)
		if err != nil {
			t.Fatal(err)
		}
		x := make([]float32, 2*c.SampleSize())
		y, err := c.Infer(ctx, x, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(y) == 0 || len(y)%2 != 0 {
			t.Errorf("%s: %d outputs for 2 samples", name, len(y))
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve after cancel: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Serve did not stop")
	}
}

func TestServeBadInput(t *testing.T) {
	cases := []struct {
		name string
		opts ServeOptions
		want string
	}{
		{"no model", ServeOptions{Listen: "127.0.0.1:0", MaxBatch: 1}, "--model is required"},
		{"zero batch", ServeOptions{Listen: "127.0.0.1:0", Model: hiltest.TinyModel(t)}, "--max-batch 0"},
		{"missing model file", ServeOptions{Listen: "127.0.0.1:0", Model: "nope.onnx", MaxBatch: 1}, "nope.onnx"},
		{"missing second model", ServeOptions{Listen: "127.0.0.1:0", Model: hiltest.TinyModel(t), Also: []string{"b=nope.onnx"}, MaxBatch: 1}, "--model b=nope.onnx"},
		{"two models of one name", ServeOptions{Listen: "127.0.0.1:0", Model: hiltest.TinyModel(t), Also: []string{hiltest.TinyModel(t)}, MaxBatch: 1}, `two models named "tiny"`},
		{"negative queue", ServeOptions{Listen: "127.0.0.1:0", Model: hiltest.TinyModel(t), MaxBatch: 1, MaxQueue: -1}, "--max-queue -1"},
		{"negative request samples", ServeOptions{Listen: "127.0.0.1:0", Model: hiltest.TinyModel(t), MaxBatch: 1, MaxRequestSamples: -2}, "--max-request-samples -2"},
		{"negative timeout", ServeOptions{Listen: "127.0.0.1:0", Model: hiltest.TinyModel(t), MaxBatch: 1, RequestTimeout: -time.Second}, "--request-timeout -1s"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := Serve(context.Background(), &tc.opts)
			if cli.ExitCode(err) != cli.ExitBadInput || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Serve: %v (exit %d), want exit %d and %q", err, cli.ExitCode(err), cli.ExitBadInput, tc.want)
			}
		})
	}
}

func TestServeBadListen(t *testing.T) {
	hiltest.RequireORT(t)
	err := Serve(context.Background(), &ServeOptions{Listen: "127.0.0.1:99999", Model: hiltest.TinyModel(t), MaxBatch: 1})
	if cli.ExitCode(err) != cli.ExitBadInput || !strings.Contains(err.Error(), "--listen 127.0.0.1:99999") {
		t.Errorf("Serve: %v (exit %d)", err, cli.ExitCode(err))
	}
}

// slowModel answers zeros for samples of four values, each batch once its
// gate opens.
type slowModel struct{ gate chan struct{} }

func (m slowModel) InputSize() int  { return 4 }
func (m slowModel) OutputSize() int { return 2 }
func (m slowModel) Run(dst, _ []float32, _ int) error {
	<-m.gate
	clear(dst)
	return nil
}

// TestServeDrains stops a server with a request in the model and one
// queued: readiness turns 503 during the drain delay; within the drain
// timeout both are answered; past it the queued one is answered 503 at
// once and the running one still finishes. The server stops cleanly.
func TestServeDrains(t *testing.T) {
	for _, tc := range []struct {
		name        string
		timeout     time.Duration
		openAfter   time.Duration // when the model's gate opens, after the stop
		wantRunning []int         // the running request's status (0: its connection cut)
		wantQueued  int
	}{
		{"finishes", 5 * time.Second, 200 * time.Millisecond, []int{http.StatusOK}, http.StatusOK},
		{"cut off", 100 * time.Millisecond, 1500 * time.Millisecond, []int{http.StatusOK, 0}, http.StatusServiceUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := slowModel{gate: make(chan struct{})}
			s, err := oip.NewServer(m, oip.Config{Name: "slow", Input: "x", Output: "y", SampleShape: []int64{4}, Classes: 2})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			base := "http://" + ln.Addr().String()
			ctx, stop := context.WithCancel(context.Background())
			defer stop()
			done := make(chan error, 1)
			go func() {
				done <- serveOn(ctx, ln, s, &ServeOptions{DrainTimeout: tc.timeout, DrainDelay: 300 * time.Millisecond, Log: io.Discard}, security{})
			}()
			send := func() chan int {
				answered := make(chan int, 1)
				go func() {
					resp, err := http.Post(base+"/v2/models/slow/infer", "application/json",
						strings.NewReader(`{"inputs": [{"name": "x", "shape": [1, 4], "datatype": "FP32", "data": [1, 2, 3, 4]}]}`))
					if err != nil {
						answered <- 0
						return
					}
					resp.Body.Close()
					answered <- resp.StatusCode
				}()
				return answered
			}
			running := send()
			time.Sleep(100 * time.Millisecond) // in the model
			queued := send()
			time.Sleep(100 * time.Millisecond) // in the queue
			stop()
			stopped := time.Now()
			time.Sleep(50 * time.Millisecond)
			if resp, err := http.Get(base + "/v2/health/ready"); err != nil || resp.StatusCode != http.StatusServiceUnavailable {
				t.Errorf("readiness while draining: %v %v", resp, err)
			} else {
				resp.Body.Close()
			}
			time.AfterFunc(tc.openAfter, func() { close(m.gate) })
			for _, r := range []struct {
				name string
				c    chan int
				want []int
			}{{"queued", queued, []int{tc.wantQueued}}, {"running", running, tc.wantRunning}} {
				select {
				case code := <-r.c:
					if !slices.Contains(r.want, code) {
						t.Errorf("the %s request: %d after %v, want one of %v", r.name, code, time.Since(stopped), r.want)
					}
					if r.name == "queued" && tc.wantQueued != http.StatusOK && time.Since(stopped) > tc.openAfter {
						t.Errorf("the queued request waited for the model (%v)", time.Since(stopped))
					}
				case <-time.After(10 * time.Second):
					t.Fatalf("the %s request was never answered", r.name)
				}
			}
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("serveOn: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("serveOn did not return")
			}
		})
	}
}
