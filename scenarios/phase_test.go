package scenarios

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/tandem-edge/tandem/profiles"
)

// TestDeviceLinks checks that trace_phase random gives each device its own
// point in the traces, the same for both directions, reproducibly from the
// seed; that aligned and constant links are shared unchanged.
func TestDeviceLinks(t *testing.T) {
	dir := t.TempDir()
	// Ten seconds at 8 Mbit/s, then ten at 1: where a device starts shows
	// in how long its first transfer takes.
	up := filepath.Join(dir, "cell.up")
	down := filepath.Join(dir, "cell.down")
	must(t, os.WriteFile(up, []byte("seconds,mbps\n0,8\n10,1\n"), 0o644))
	must(t, os.WriteFile(down, []byte("seconds,mbps\n0,8\n10,1\n"), 0o644))
	load := func(t *testing.T, l Link, seed uint64) *Inputs {
		t.Helper()
		s := &Scenario{File: filepath.Join(dir, "s.yaml"), Seed: seed, Link: l}
		s.SetDefaults()
		in := &Inputs{Scenario: s}
		var err error
		if in.Uplink, err = s.Uplink(0); err != nil {
			t.Fatal(err)
		}
		if in.Downlink, err = s.Downlink(0); err != nil {
			t.Fatal(err)
		}
		in.Groups = []GroupInputs{{Count: 1, Uplink: in.Uplink, Downlink: in.Downlink, Link: s.LinkOf(0)}}
		return in
	}
	const n = 64
	firstMs := func(l profiles.Link) int64 { return l.TransferEnd(0, 125_000).Milliseconds() } // 1 Mbit

	in := load(t, Link{Trace: "cell.up", DownlinkTrace: "cell.down"}, 3)
	fast, distinct := 0, map[string]bool{}
	for i := range n {
		u, d := in.DeviceLinks(i)
		if firstMs(u) != firstMs(d) {
			t.Errorf("device %d: uplink and downlink out of step: %d ms vs %d ms", i, firstMs(u), firstMs(d))
		}
		u2, _ := in.DeviceLinks(i)
		if u2.Name() != u.Name() {
			t.Errorf("device %d: phase not reproducible: %s then %s", i, u.Name(), u2.Name())
		}
		if firstMs(u) < 500 {
			fast++
		}
		distinct[u.Name()] = true
	}
	// About half the devices start in the fast half of the trace.
	if fast < n/4 || fast > 3*n/4 {
		t.Errorf("%d of %d devices start in the fast half, want about half", fast, n)
	}
	if len(distinct) != n {
		t.Errorf("%d distinct phases over %d devices, want one each", len(distinct), n)
	}
	other := load(t, Link{Trace: "cell.up", DownlinkTrace: "cell.down"}, 4)
	same := 0
	for i := range n {
		a, _ := in.DeviceLinks(i)
		b, _ := other.DeviceLinks(i)
		if a.Name() == b.Name() {
			same++
		}
	}
	if same > 1 {
		t.Errorf("seeds 3 and 4 give %d of %d devices the same phase", same, n)
	}

	cases := []struct {
		name string
		link Link
	}{
		{"aligned", Link{Trace: "cell.up", TracePhase: PhaseAligned}},
		{"constant", Link{UplinkMbps: 10}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := load(t, tc.link, 3)
			for i := range 8 {
				u, d := in.DeviceLinks(i)
				if u != in.Uplink || d != in.Downlink {
					t.Fatalf("device %d got %s / %s, want the shared %s / %s", i, u.Name(), d.Name(), in.Uplink.Name(), in.Downlink.Name())
				}
			}
		})
	}
}

func TestUnitFloatRange(t *testing.T) {
	for seed := range uint64(50) {
		for i := range uint64(200) {
			if u := unitFloat(seed, i); !(u >= 0 && u < 1) {
				t.Fatalf("unitFloat(%d, %d) = %g", seed, i, u)
			}
		}
	}
}
