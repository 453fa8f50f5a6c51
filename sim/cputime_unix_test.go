//go:build unix

package sim

import (
	"syscall"
	"time"
)

// cpuTime returns the CPU time the process has used: on a shared machine it
// measures the simulator where wall time measures its neighbours too.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
