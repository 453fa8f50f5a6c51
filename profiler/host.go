package profiler

import (
	"fmt"
	"runtime"
	"strings"

	"github.com/shirou/gopsutil/v4/cpu"
	"github.com/shirou/gopsutil/v4/host"
	"github.com/shirou/gopsutil/v4/mem"

	"github.com/tandem-edge/tandem/profiles"
	"github.com/tandem-edge/tandem/scenarios"
)

// HostFacts says what machine this process runs on, so that a profile says
// where its numbers come from.
type HostFacts struct {
	CPU      string // CPU model name, e.g. "AMD EPYC 7B13"
	Cores    int    // logical cores
	MemoryMB int    // total memory
	OS       string // e.g. "linux (debian 13)"
	Arch     string // GOARCH
}

// ReadHostFacts gathers HostFacts with gopsutil. A fact the system does not
// reveal (a container hiding /proc/cpuinfo's model name, say) is left
// empty rather than failing the profile it describes.
func ReadHostFacts() HostFacts {
	h := HostFacts{OS: runtime.GOOS, Arch: runtime.GOARCH, Cores: runtime.NumCPU()}
	if infos, err := cpu.Info(); err == nil && len(infos) > 0 {
		h.CPU = strings.TrimSpace(infos[0].ModelName)
	}
	if n, err := cpu.Counts(true); err == nil && n > 0 {
		h.Cores = n
	}
	if vm, err := mem.VirtualMemory(); err == nil {
		h.MemoryMB = int(vm.Total >> 20)
	}
	if platform, _, version, err := host.PlatformInformation(); err == nil && platform != "" {
		h.OS += " (" + strings.TrimSpace(platform+" "+version) + ")"
	}
	return h
}

// Measured says whether a profile's host is this machine as far as its
// latencies go: the same processor model, logical cores and architecture.
// A fact either side leaves empty is not held against it.
func (h HostFacts) Measured(p profiles.Host) bool {
	same := func(a, b string) bool { return a == "" || b == "" || a == b }
	return same(h.CPU, p.CPU) && same(h.Arch, p.Arch) && (h.Cores == 0 || p.Cores == 0 || h.Cores == p.Cores)
}

// OtherHosts describes each profile a scenario's inputs use that was
// measured on another machine than h, one line each ("edge-cpu-1t:
// Intel(R) Xeon(R) Processor, 2 cores, amd64"), in the order the
// scenario names them; none when every profile is this machine's. The
// cloud pools' profiles count when cloudHere says the cloud runs on this
// machine too (a run's loopback servers). A simulation from such a profile
// predicts that machine, not this one, so a comparison with a real run
// here mixes the two.
func OtherHosts(in *scenarios.Inputs, h HostFacts, cloudHere bool) []string {
	var devs []*profiles.Device
	for _, g := range in.Groups {
		devs = append(devs, g.EdgeDevice)
	}
	if cloudHere {
		devs = append(devs, in.CloudDevice)
		devs = append(devs, in.CloudDevices...)
	}
	seen := map[string]bool{}
	var out []string
	for _, d := range devs {
		if d == nil || seen[d.Name] || h.Measured(d.Host) {
			continue
		}
		seen[d.Name] = true
		out = append(out, fmt.Sprintf("%s: %s, %d cores, %s", d.Name, d.Host.CPU, d.Host.Cores, d.Host.Arch))
	}
	return out
}

// String is h as OtherHosts writes a profile's host.
func (h HostFacts) String() string { return fmt.Sprintf("%s, %d cores, %s", h.CPU, h.Cores, h.Arch) }
