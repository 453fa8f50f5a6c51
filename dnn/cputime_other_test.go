//go:build !unix

package dnn

import "time"

// cpuTime is unknown here; benchmarks then report zero.
func cpuTime() time.Duration { return 0 }
