package hilcmd

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tandem-edge/tandem/cmd/tandem/internal/cli"
	"github.com/tandem-edge/tandem/hil/oip"
)

// sleepModel takes d a batch to answer zeros for samples of four values.
type sleepModel struct{ d time.Duration }

func (m sleepModel) InputSize() int  { return 4 }
func (m sleepModel) OutputSize() int { return 2 }
func (m sleepModel) Run(dst, _ []float32, _ int) error {
	time.Sleep(m.d)
	clear(dst)
	return nil
}

// inProcessServer serves a sleepModel as "heavy" in this process: the
// soak's short version, which needs no model file or child process.
func inProcessServer(ctx context.Context, addr string) (*soakServer, error) {
	s, err := oip.NewServer(sleepModel{200 * time.Microsecond}, oip.Config{Name: "heavy", Input: "x", Output: "y", SampleShape: []int64{4}, Classes: 2, MaxBatch: 8, MaxWait: time.Millisecond})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		s.Close()
		return nil, err
	}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		// No drain: stopping cuts what is in flight, as a kill does.
		done <- serveOn(sctx, ln, s, &ServeOptions{ReadTimeout: 300 * time.Millisecond, IdleTimeout: time.Second, Log: io.Discard}, security{})
	}()
	var once sync.Once
	var err2 error
	stop := func() error {
		once.Do(func() {
			cancel()
			err2 = <-done
			s.Close()
		})
		return err2
	}
	return &soakServer{pid: os.Getpid(), stop: stop, kill: func() { stop() }}, nil
}

// TestSoakShort runs every soak phase briefly against an in-process server
// and checks what each must show.
func TestSoakShort(t *testing.T) {
	var out, stderr bytes.Buffer
	opts := &SoakOptions{Clients: []int{2, 20}, Duration: 800 * time.Millisecond, ClientTimeout: 5 * time.Second, LargeSamples: 64, MaxBatch: 8,
		Binary: true, JSON: true, Stdout: &out, Stderr: &stderr, server: inProcessServer}
	if err := Soak(context.Background(), opts); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	var rep SoakReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if len(rep.Phases) != 5 || rep.DrainExit != "exit 0" {
		t.Fatalf("report %+v", rep)
	}
	for _, p := range rep.Phases {
		var failed int64
		for _, n := range p.Errors {
			failed += n
		}
		if p.OK == 0 || p.Sent != p.OK+failed || p.Goodput <= 0 || p.P99MS < p.P50MS {
			t.Errorf("phase %+v", p)
		}
		switch {
		case strings.HasPrefix(p.Phase, "clients"):
			// A loaded machine must not make a client give up here: the
			// timeout is far above what any answer takes.
			if p.Abandoned != 0 || failed != 0 {
				t.Errorf("phase %s: errors %v, %d samples computed for clients that had gone", p.Phase, p.Errors, p.Abandoned)
			}
		case p.Phase == "large and small":
			if p.SmallP99MS <= 0 || !strings.Contains(p.Note, "64-sample requests") {
				t.Errorf("phase %+v", p)
			}
		case p.Phase == "slow bodies":
			if !strings.Contains(p.Note, "50 of 50 slow-body connections cut") {
				t.Errorf("slow bodies: %s", p.Note)
			}
		case p.Phase == "kill":
			if p.Errors["refused"]+p.Errors["connection"] == 0 {
				t.Errorf("kill: errors %v, want refused or broken connections", p.Errors)
			}
		}
	}
}

func TestSoakBadInput(t *testing.T) {
	cases := []struct {
		opts SoakOptions
		want string
	}{
		{SoakOptions{Duration: 0, ClientTimeout: time.Second, LargeSamples: 1}, "--duration 0s"},
		{SoakOptions{Duration: time.Hour, ClientTimeout: time.Second, LargeSamples: 1}, "up to 10m"},
		{SoakOptions{Duration: time.Second, ClientTimeout: time.Second, LargeSamples: 1, Clients: []int{10, 0}}, "--clients 0"},
		{SoakOptions{Duration: time.Second, ClientTimeout: time.Second, LargeSamples: 1, Clients: []int{MaxSoakClients + 1}}, fmt.Sprintf("want 1 to %d", MaxSoakClients)},
	}
	for _, tc := range cases {
		tc.opts.Stdout, tc.opts.Stderr = io.Discard, io.Discard
		if err := Soak(context.Background(), &tc.opts); cli.ExitCode(err) != cli.ExitBadInput || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Soak: %v, want exit 2 and %q", err, tc.want)
		}
	}
}
