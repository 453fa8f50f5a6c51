package profiles

import (
	"testing"
	"time"
)

func TestLatencyAt(t *testing.T) {
	ms := time.Millisecond
	cold := &Model{Latency: ms, Cold: &ColdLatency{Gap: 100 * ms, Latency: 3 * ms, Runs: 10}}
	cases := []struct {
		name       string
		m          *Model
		gap        time.Duration
		want       time.Duration
		wantSource string
	}{
		{"no cold measurement", &Model{Latency: ms}, time.Second, ms, "warm"},
		{"back to back", cold, ms / 2, ms, "warm"},
		{"as short as a run", cold, ms, ms, "warm"},
		{"at the cold gap", cold, 100 * ms, 3 * ms, "cold"},
		{"beyond the cold gap", cold, time.Minute, 3 * ms, "cold"},
		// ln(10)/ln(100) = 1/2 of the way from 1 ms to 3 ms.
		{"half way in log", cold, 10 * ms, 2 * ms, "between"},
		{"cold gap shorter than a run", &Model{Latency: ms, Cold: &ColdLatency{Gap: ms / 2, Latency: 3 * ms}}, time.Second, ms, "warm"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, src := tc.m.LatencyAt(tc.gap)
			if d := got - tc.want; d < -time.Microsecond || d > time.Microsecond || src != tc.wantSource {
				t.Errorf("LatencyAt(%v) = %v, %s; want %v, %s", tc.gap, got, src, tc.want, tc.wantSource)
			}
		})
	}
}

func TestServingOverhead(t *testing.T) {
	m := &Model{Latency: time.Millisecond, Serving: []Serving{
		{Protocol: ProtocolBinary, Latency: 1300 * time.Microsecond, Runs: 1},
		{Protocol: ProtocolJSON, Latency: 900 * time.Microsecond, Runs: 1}, // faster than the bare run: noise
	}}
	cases := []struct {
		protocol string
		want     time.Duration
		ok       bool
	}{
		{ProtocolBinary, 300 * time.Microsecond, true},
		{ProtocolJSON, 0, true},
		{"grpc", 0, false},
	}
	for _, tc := range cases {
		got, ok := m.ServingOverhead(tc.protocol)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ServingOverhead(%s) = %v, %v; want %v, %v", tc.protocol, got, ok, tc.want, tc.ok)
		}
	}
}
