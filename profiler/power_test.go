package profiler

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeRAPL(t *testing.T, root, zone, energy, span string) {
	t.Helper()
	dir := filepath.Join(root, zone)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]string{"energy_uj": energy, "max_energy_range_uj": span} {
		if v == "" {
			continue
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(v+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestMeasurePowerFromCounters(t *testing.T) {
	root := t.TempDir()
	writeRAPL(t, root, "intel-rapl:0", "1000", "262143328850")
	writeRAPL(t, root, "intel-rapl:0:0", "999999", "262143328850") // a sub-zone: counted in its package
	// The busy load spends 2 J on the package, whatever the clock.
	busy := func(until time.Time) error {
		writeRAPL(t, root, "intel-rapl:0", "2001000", "")
		time.Sleep(time.Until(until))
		return nil
	}
	p, err := MeasurePower(root, 20*time.Millisecond, busy, "a test load")
	if err != nil {
		t.Fatal(err)
	}
	if p.IdleW != 0 || !(p.BusyW > 0 && p.BusyW <= 2/0.02) || !strings.Contains(p.Source, "1 processor package") {
		t.Errorf("power %+v: want 0 W idle, at most 100 W busy (2 J over at least 20 ms)", p)
	}
}

func TestRAPLWraps(t *testing.T) {
	r := &rapl{ranges: []uint64{1000, 1000}}
	if got := r.joules([]uint64{990, 5}, []uint64{10, 7}); got != 22e-6 {
		t.Errorf("%g J, want 22 µJ across the wrap", got)
	}
}

func TestNoPower(t *testing.T) {
	empty := t.TempDir()
	unreadable := t.TempDir()
	writeRAPL(t, unreadable, "intel-rapl:0", "many", "1000")
	for _, tc := range []struct {
		root, want string
	}{
		{filepath.Join(empty, "absent"), "this host exposes no RAPL energy counters"},
		{empty, "has no intel-rapl:N package zone"},
		{unreadable, `"many" is not a count of microjoules`},
	} {
		_, err := MeasurePower(tc.root, time.Millisecond, func(time.Time) error { return nil }, "nothing")
		var np *NoPowerError
		if !errors.As(err, &np) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want a NoPowerError saying %q", tc.root, err, tc.want)
		}
	}
}
