package cli

import (
	"fmt"
	"strconv"

	"github.com/spf13/pflag"
)

// Points is a flag of accuracy points that sets a fraction: --tolerance
// 0.1 sets 0.001. Points from 0 to below 100 are accepted.
func Points(fraction *float64) pflag.Value { return pointsValue{fraction} }

type pointsValue struct{ fraction *float64 }

func (v pointsValue) String() string {
	if v.fraction == nil {
		return "0"
	}
	return strconv.FormatFloat(100**v.fraction, 'g', -1, 64)
}

func (v pointsValue) Set(s string) error {
	p, err := strconv.ParseFloat(s, 64)
	if err != nil || !(p >= 0 && p < 100) {
		return fmt.Errorf("want accuracy points from 0 to below 100, got %q", s)
	}
	*v.fraction = p / 100
	return nil
}

func (pointsValue) Type() string { return "points" }
