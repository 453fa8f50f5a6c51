package profiler

import (
	"testing"
	"time"
)

func TestMidmean(t *testing.T) {
	us := func(v ...int) []time.Duration {
		d := make([]time.Duration, len(v))
		for i, x := range v {
			d[i] = time.Duration(x) * time.Microsecond
		}
		return d
	}
	tests := []struct {
		name  string
		times []time.Duration
		want  time.Duration
	}{
		{"none", nil, 0},
		{"one", us(5), 5 * time.Microsecond},
		{"outliers ignored", us(2, 3, 3, 900, 1, 3, 3, 3), 3 * time.Microsecond},
		{"averages the rounding", us(2, 2, 3, 3, 2, 3, 2, 3), 2500 * time.Nanosecond},
	}
	for _, tt := range tests {
		if got := Midmean(tt.times); got != tt.want {
			t.Errorf("%s: Midmean = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestTrimmedCV(t *testing.T) {
	steady := make([]time.Duration, 40)
	for i := range steady {
		steady[i] = 100 * time.Microsecond
	}
	spiky := append([]time.Duration(nil), steady...)
	spiky[7] = 5 * time.Millisecond // one run in 40 interrupted: trimmed
	alternating := make([]time.Duration, 40)
	for i := range alternating {
		alternating[i] = time.Duration(90+20*(i%2)) * time.Microsecond
	}
	tests := []struct {
		name  string
		times []time.Duration
		want  float64
	}{
		{"none", nil, 0},
		{"one", steady[:1], 0},
		{"steady", steady, 0},
		{"one outlier", spiky, 0},
		{"±10%", alternating, 0.1014}, // 36 runs left: sd 10·√(36/35) µs over mean 100µs
	}
	for _, tt := range tests {
		if got := TrimmedCV(tt.times); got != tt.want {
			t.Errorf("%s: TrimmedCV = %g, want %g", tt.name, got, tt.want)
		}
	}
}
