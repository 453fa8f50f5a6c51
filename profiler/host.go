package profiler

import (
	"runtime"
	"strings"

	"github.com/shirou/gopsutil/v4/cpu"
	"github.com/shirou/gopsutil/v4/host"
	"github.com/shirou/gopsutil/v4/mem"
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
