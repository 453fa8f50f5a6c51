package profiler

import (
	"fmt"
	"time"

	"github.com/tandem-edge/tandem/hil"
	"github.com/tandem-edge/tandem/profiles"
)

// ServerBatches is the batch curve of a profile measured on more than one
// thread (a server) unless one is asked for.
var ServerBatches = []int{1, 2, 4, 8, 16, 32}

// DefaultColdGaps are the idle gaps of the cold curve unless others are
// asked for.
var DefaultColdGaps = []time.Duration{time.Millisecond, 3 * time.Millisecond, 10 * time.Millisecond, 30 * time.Millisecond, 100 * time.Millisecond}

// NamedModel is a model file and the name a device profile gives it.
type NamedModel struct{ Name, File string }

// MeasureDevice measures each model with opts (see MeasureFile) and returns
// the device profile of this host: its models and host facts, named name,
// its source the command that asked for it with where and when it was
// measured. A predictor, when wanted, is the caller's to fit from the
// measurements.
func MeasureDevice(name, command string, models []NamedModel, opts Options) (*profiles.Device, []*Measurement, error) {
	info, err := hil.InitORT()
	if err != nil {
		return nil, nil, err
	}
	started := time.Now().UTC()
	d := &profiles.Device{Name: name}
	var measured []*Measurement
	for _, m := range models {
		pm, err := MeasureFile(m.Name, m.File, opts)
		if err != nil {
			return nil, nil, fmt.Errorf("profile: --model %s: %w", m.File, err)
		}
		measured = append(measured, pm)
		d.Models = append(d.Models, pm.Profile)
	}
	threads := max(opts.Threads, 1)
	h := ReadHostFacts()
	d.Host = profiles.Host{CPU: h.CPU, Cores: h.Cores, MemoryMB: h.MemoryMB, OS: h.OS, Arch: h.Arch,
		Runtime: "onnxruntime " + info.Version, Threads: threads, MeasuredAt: started.Format(time.RFC3339)}
	d.Source = Source(command, h, info.Version, threads, started)
	return d, measured, nil
}

// Source is a profile's source line: the command, then where and when it
// measured.
func Source(command string, h HostFacts, ortVersion string, threads int, at time.Time) string {
	cpu := h.CPU
	if cpu == "" {
		cpu = "unknown CPU"
	}
	unit := "threads"
	if threads == 1 {
		unit = "thread"
	}
	return fmt.Sprintf("%s (measured on %s, %d cores, %s/%s, onnxruntime %s, %d %s, %s)",
		command, cpu, h.Cores, h.OS, h.Arch, ortVersion, threads, unit, at.Format("2006-01-02"))
}
