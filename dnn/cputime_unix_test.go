//go:build unix

package dnn

import (
	"syscall"
	"time"
)

// cpuTime is the processor time this process has used, all threads
// together: on a machine shared with other work it measures what a step
// costs better than the wall clock does.
func cpuTime() time.Duration {
	var u syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &u) != nil {
		return 0
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}
