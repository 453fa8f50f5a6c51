package kernlink

import (
	"context"
	"io"
	"net"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/tandem-edge/tandem/hil/hiltest"
)

func TestAddressesAndCommands(t *testing.T) {
	tests := []struct {
		i           int
		edge, cloud string
	}{
		{0, "10.213.0.1", "10.213.0.2"},
		{1, "10.213.0.5", "10.213.0.6"},
		{64, "10.213.1.1", "10.213.1.2"},
		{MaxLinks - 1, "10.213.255.253", "10.213.255.254"},
	}
	for _, tt := range tests {
		if got := edgeAddr(tt.i).String(); got != tt.edge {
			t.Errorf("edgeAddr(%d) = %s, want %s", tt.i, got, tt.edge)
		}
		if got := cloudAddr(tt.i).String(); got != tt.cloud {
			t.Errorf("cloudAddr(%d) = %s, want %s", tt.i, got, tt.cloud)
		}
	}
	if got, want := tbf("tl3", 20), "qdisc add dev tl3 root tbf rate 20000000bit burst 1600 limit 67108864"; got != want {
		t.Errorf("tbf = %q, want %q", got, want)
	}
	if got, want := tbf("tl0", 0.5), "qdisc add dev tl0 root tbf rate 500000bit burst 1600 limit 67108864"; got != want {
		t.Errorf("tbf = %q, want %q", got, want)
	}
}

func TestOwnerPID(t *testing.T) {
	tests := []struct {
		name string
		pid  int
		ok   bool
	}{
		{"tandem-123-edge", 123, true},
		{"tandem-9-cloud", 9, true},
		{"tandem-123-other", 0, false},
		{"tandem-x-edge", 0, false},
		{"mine", 0, false},
		{"tandem-0-edge", 0, false},
	}
	for _, tt := range tests {
		pid, ok := ownerPID(tt.name)
		if ok != tt.ok || (ok && pid != tt.pid) {
			t.Errorf("ownerPID(%q) = %d, %v; want %d, %v", tt.name, pid, ok, tt.pid, tt.ok)
		}
	}
}

func TestCreateRejects(t *testing.T) {
	for _, links := range [][]Link{nil, {{UpMbps: 0, DownMbps: 1}}, {{UpMbps: 1, DownMbps: -2}}} {
		if _, err := Create(context.Background(), links); err == nil {
			t.Errorf("Create(%v): no error", links)
		}
	}
}

// TestFabricShapesEachLink sends through two links of different rates and
// checks each transfer took at least as long as its bytes need at the
// link's rate, which unshaped veth or loopback traffic (gigabits per
// second) never does, and that each device's connection arrives from its
// own link.
func TestFabricShapesEachLink(t *testing.T) {
	hiltest.RequireNamespaces(t)
	ctx := context.Background()
	links := []Link{{UpMbps: 8, DownMbps: 4}, {UpMbps: 2, DownMbps: 16}}
	f, err := Create(ctx, links)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := Namespaces(); len(got) != 2 {
		t.Fatalf("namespaces while open: %v, want two", got)
	}
	ln, err := f.Listen()
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port

	const up, down = 60_000, 40_000
	from := make(chan string, len(links))
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				from <- c.RemoteAddr().(*net.TCPAddr).IP.String()
				if _, err := io.CopyN(io.Discard, c, up); err != nil {
					return
				}
				c.Write(make([]byte, down))
			}()
		}
	}()

	for i, l := range links {
		c, err := f.DialContext(i, port)(ctx, "tcp", "ignored:1")
		if err != nil {
			t.Fatalf("link %d: %v", i, err)
		}
		start := time.Now()
		if _, err := c.Write(make([]byte, up)); err != nil {
			t.Fatal(err)
		}
		if _, err := io.CopyN(io.Discard, c, down); err != nil {
			t.Fatal(err)
		}
		took := time.Since(start)
		c.Close()
		// The bucket lets one frame through unshaped each way.
		least := seconds(float64(up-burstBytes)*8/(l.UpMbps*1e6) + float64(down-burstBytes)*8/(l.DownMbps*1e6))
		t.Logf("link %d: %v for what the rates allow in %v", i, took, least)
		if took < least {
			t.Errorf("link %d (%g/%g Mbps): %d bytes up and %d down took %v, less than the %v the rates allow", i, l.UpMbps, l.DownMbps, up, down, took, least)
		}
		if got, want := <-from, edgeAddr(i).String(); got != want {
			t.Errorf("link %d: connection came from %s, want %s", i, got, want)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if got := Namespaces(); len(got) != 0 {
		t.Errorf("namespaces after Close: %v", got)
	}
}

// TestCreateRemovesStale checks that the namespaces of a run that died
// without closing its fabric are removed by the next.
func TestCreateRemovesStale(t *testing.T) {
	hiltest.RequireNamespaces(t)
	ctx := context.Background()
	// A pid above the kernel's pid_max is never a live process.
	stale := "tandem-99999999-edge"
	if err := run(ctx, "ip", []string{"netns", "add", stale}, ""); err != nil {
		t.Fatal(err)
	}
	defer run(ctx, "ip", []string{"netns", "del", stale}, "")
	f, err := Create(ctx, []Link{{UpMbps: 10, DownMbps: 10}})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if slices.Contains(staleNamespaces(), stale) {
		t.Errorf("%s is still there after Create", stale)
	}
	if _, err := os.Stat(netnsDir + "/" + stale); err == nil {
		t.Errorf("%s is still there after Create", stale)
	}
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
