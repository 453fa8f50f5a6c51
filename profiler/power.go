package profiler

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/tandem-edge/tandem/hil"
	"github.com/tandem-edge/tandem/profiles"
)

// RAPLRoot is where Linux exposes the processor's RAPL energy counters
// (the powercap framework): one intel-rapl:N folder per package, its
// energy_uj the package's energy in microjoules since some past moment.
const RAPLRoot = "/sys/class/powercap"

// raplPackage matches a package's zone, not its sub-zones (intel-rapl:0:1).
var raplPackage = regexp.MustCompile(`^intel-rapl:[0-9]+$`)

// NoPowerError says why this host's power cannot be measured.
type NoPowerError struct{ Why string }

func (e *NoPowerError) Error() string { return "power not measured: " + e.Why }

// rapl reads the packages' energy counters under root.
type rapl struct {
	counters []string // energy_uj files
	ranges   []uint64 // each counter's wrap-around range, microjoules
}

func openRAPL(root string) (*rapl, error) {
	entries, err := os.ReadDir(root)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &NoPowerError{Why: fmt.Sprintf("this host exposes no RAPL energy counters (%s is missing: a virtual machine, or a processor or kernel without powercap)", root)}
	}
	if err != nil {
		return nil, &NoPowerError{Why: err.Error()}
	}
	r := &rapl{}
	for _, e := range entries {
		if !raplPackage.MatchString(e.Name()) {
			continue
		}
		counter := filepath.Join(root, e.Name(), "energy_uj")
		if _, err := readMicrojoules(counter); err != nil {
			return nil, &NoPowerError{Why: err.Error()}
		}
		span, err := readMicrojoules(filepath.Join(root, e.Name(), "max_energy_range_uj"))
		if err != nil {
			return nil, &NoPowerError{Why: err.Error()}
		}
		r.counters, r.ranges = append(r.counters, counter), append(r.ranges, span)
	}
	if len(r.counters) == 0 {
		return nil, &NoPowerError{Why: fmt.Sprintf("%s has no intel-rapl:N package zone", root)}
	}
	return r, nil
}

func readMicrojoules(path string) (uint64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("reading %s: %w (RAPL counters are readable by root only on recent kernels)", path, err)
	}
	v, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s: %q is not a count of microjoules", path, strings.TrimSpace(string(b)))
	}
	return v, nil
}

// read returns every package's counter.
func (r *rapl) read() ([]uint64, error) {
	v := make([]uint64, len(r.counters))
	for i, c := range r.counters {
		var err error
		if v[i], err = readMicrojoules(c); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// joules is the energy between two readings, over every package, allowing
// each counter to have wrapped once.
func (r *rapl) joules(before, after []uint64) float64 {
	var uj uint64
	for i := range before {
		d := after[i] - before[i]
		if after[i] < before[i] {
			d = r.ranges[i] - before[i] + after[i]
		}
		uj += d
	}
	return float64(uj) / 1e6
}

// watts is the mean power while f runs.
func (r *rapl) watts(f func() error) (float64, error) {
	before, err := r.read()
	if err != nil {
		return 0, err
	}
	start := time.Now()
	if err := f(); err != nil {
		return 0, err
	}
	after, err := r.read()
	if err != nil {
		return 0, err
	}
	return r.joules(before, after) / time.Since(start).Seconds(), nil
}

// MeasurePower measures the processor packages' power under root (normally
// RAPLRoot) idle for d, then while busy runs for d; the figures are the
// processor's, not the whole board's, as Power.Source says. A host without
// readable counters gives a *NoPowerError that says why.
func MeasurePower(root string, d time.Duration, busy func(until time.Time) error, what string) (*profiles.Power, error) {
	r, err := openRAPL(root)
	if err != nil {
		return nil, err
	}
	idle, err := r.watts(func() error { time.Sleep(d); return nil })
	if err != nil {
		return nil, &NoPowerError{Why: err.Error()}
	}
	full, err := r.watts(func() error { return busy(time.Now().Add(d)) })
	if err != nil {
		return nil, err
	}
	return &profiles.Power{IdleW: round3(idle), BusyW: round3(max(full, idle)),
		Source: fmt.Sprintf("RAPL energy of %d processor package(s) read by tandem profile: %v idle, then %v of %s; the processor's draw, not the board's; no radio figures", len(r.counters), d, d, what)}, nil
}

func round3(w float64) float64 { return float64(int64(w*1000+0.5)) / 1000 }

// Busy opens the model at path on threads and returns a load that runs it
// back to back at batch 1 until a deadline, the busy state MeasurePower
// measures, and the function that closes the model.
func Busy(path string, threads int) (func(until time.Time) error, func(), error) {
	s, err := hil.Open(path, hil.Options{IntraOpThreads: max(threads, 1)})
	if err != nil {
		return nil, nil, err
	}
	x, y := probeInput(s, 1), make([]float32, s.OutputSize())
	run := func(until time.Time) error {
		for time.Now().Before(until) {
			if err := s.Run(y, x, 1); err != nil {
				return err
			}
		}
		return nil
	}
	return run, func() { s.Close() }, nil
}
