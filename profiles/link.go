package profiles

import (
	"fmt"
	"math"
	"strconv"
	"time"
)

// Constant returns a link of fixed capacity: mbps megabits (10^6 bits) per
// second. It panics unless mbps is positive and finite; scenarios validate
// rates before they get here.
func Constant(mbps float64) Link {
	if !(mbps > 0) || math.IsInf(mbps, 0) {
		panic(fmt.Sprintf("profiles: Constant(%g): rate must be positive and finite", mbps))
	}
	return &constant{mbps: mbps, nsPerByte: 8e3 / mbps}
}

type constant struct {
	mbps      float64
	nsPerByte float64
}

func (c *constant) Name() string {
	return "constant " + strconv.FormatFloat(c.mbps, 'g', -1, 64) + "Mbps"
}
func (c *constant) MeanMbps() float64 { return c.mbps }

// TransferEnd is t plus n bytes at the link's rate, rounded up to the
// nanosecond. Cost: O(1).
func (c *constant) TransferEnd(t time.Duration, n int) time.Duration {
	if n <= 0 {
		return t
	}
	return t + time.Duration(math.Ceil(float64(n)*c.nsPerByte))
}

// ConstantMbps is l's rate when l is a link of fixed capacity (Constant),
// and false for any other link (a replayed trace).
func ConstantMbps(l Link) (float64, bool) {
	c, ok := l.(*constant)
	if !ok {
		return 0, false
	}
	return c.mbps, true
}
