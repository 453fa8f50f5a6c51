package hilcmd

import (
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tandem-edge/tandem/cmd/tandem/internal/cli"
	"github.com/tandem-edge/tandem/hil/hiltest"
	"github.com/tandem-edge/tandem/hil/oip"
)

var tinyModel = filepath.Join("..", "..", "..", "..", "hil", "testdata", "profile", "tiny.onnx")

// TestServeAnswersAndStops starts the server on a free port, infers through
// it, and checks that cancelling its context shuts it down cleanly.
func TestServeAnswersAndStops(t *testing.T) {
	hiltest.RequireORT(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- Serve(ctx, &ServeOptions{Listen: "127.0.0.1:0", Model: tinyModel, Threads: 1, MaxBatch: 4, MaxWait: time.Millisecond,
			Log: io.Discard, Ready: func(addr string) { ready <- addr }})
	}()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("Serve returned before it was ready: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("Serve not ready after 30 s")
	}
	c, err := oip.NewClient(ctx, "http://"+addr, "tiny", nil)
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float32, 2*c.SampleSize())
	y, err := c.Infer(ctx, x, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(y) == 0 || len(y)%2 != 0 {
		t.Errorf("%d outputs for 2 samples", len(y))
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
		{"zero batch", ServeOptions{Listen: "127.0.0.1:0", Model: tinyModel}, "--max-batch 0"},
		{"missing model file", ServeOptions{Listen: "127.0.0.1:0", Model: "nope.onnx", MaxBatch: 1}, "nope.onnx"},
		{"negative queue", ServeOptions{Listen: "127.0.0.1:0", Model: tinyModel, MaxBatch: 1, MaxQueue: -1}, "--max-queue -1"},
		{"negative request samples", ServeOptions{Listen: "127.0.0.1:0", Model: tinyModel, MaxBatch: 1, MaxRequestSamples: -2}, "--max-request-samples -2"},
		{"negative timeout", ServeOptions{Listen: "127.0.0.1:0", Model: tinyModel, MaxBatch: 1, RequestTimeout: -time.Second}, "--request-timeout -1s"},
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
	err := Serve(context.Background(), &ServeOptions{Listen: "127.0.0.1:99999", Model: tinyModel, MaxBatch: 1})
	if cli.ExitCode(err) != cli.ExitBadInput || !strings.Contains(err.Error(), "--listen 127.0.0.1:99999") {
		t.Errorf("Serve: %v (exit %d)", err, cli.ExitCode(err))
	}
}
