package profiles

import (
	"testing"
	"time"
)

func TestLatencyAt(t *testing.T) {
	ms := time.Millisecond
	curve := &Model{Latency: ms, Cold: []ColdLatency{
		{Gap: 10 * ms, Latency: 2 * ms, Runs: 1},
		{Gap: 100 * ms, Latency: 4 * ms, Runs: 1},
	}}
	cases := []struct {
		name string
		m    *Model
		gap  time.Duration
		want time.Duration
	}{
		{"no cold measurement", &Model{Latency: ms}, time.Second, ms},
		{"back to back", curve, ms / 2, ms},
		{"as short as a run", curve, ms, ms},
		// ln(√10)/ln(10) = 1/2 of the way from (1 ms, 1 ms) to (10 ms, 2 ms).
		{"half way to the first point", curve, 3162278 * time.Nanosecond, 1500 * time.Microsecond},
		{"at the first point", curve, 10 * ms, 2 * ms},
		{"half way between points", curve, 31622777 * time.Nanosecond, 3 * ms},
		{"at the last point", curve, 100 * ms, 4 * ms},
		{"beyond the last point", curve, time.Minute, 4 * ms},
		{"a point shorter than a run is skipped", &Model{Latency: ms, Cold: []ColdLatency{{Gap: ms / 2, Latency: 9 * ms}, {Gap: 10 * ms, Latency: 2 * ms}}}, 10 * ms, 2 * ms},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.m.LatencyAt(tc.gap)
			if d := got - tc.want; d < -time.Microsecond || d > time.Microsecond {
				t.Errorf("LatencyAt(%v) = %v, want %v", tc.gap, got, tc.want)
			}
			if p, want := tc.m.IdlePenalty(tc.gap), max(got-tc.m.Latency, 0); p != want {
				t.Errorf("IdlePenalty(%v) = %v, want %v", tc.gap, p, want)
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

func TestServingOverheadAfter(t *testing.T) {
	ms := time.Millisecond
	m := &Model{Latency: ms, Cold: []ColdLatency{{Gap: 10 * ms, Latency: 2 * ms, Runs: 1}},
		Serving: []Serving{
			{Protocol: ProtocolBinary, Latency: 1300 * time.Microsecond, Runs: 1,
				Cold: []ColdLatency{{Gap: 10 * ms, Latency: 3 * ms, Runs: 1}}},
			{Protocol: ProtocolJSON, Latency: 2 * ms, Runs: 1}, // no cold curve: the warm overhead at any gap
		}}
	for _, tc := range []struct {
		protocol string
		gap      time.Duration
		want     time.Duration
		ok       bool
	}{
		{ProtocolBinary, 0, 300 * time.Microsecond, true},
		{ProtocolBinary, ms, 300 * time.Microsecond, true},
		// Each curve from its own warm point, as LatencyAt: the model's
		// half way from (1 ms, 1 ms) to (10 ms, 2 ms), 1.5 ms; the serving
		// path's ln(3.16/1.3)/ln(10/1.3) = 0.436 of the way from (1.3 ms,
		// 1.3 ms) to (10 ms, 3 ms), 2.041 ms.
		{ProtocolBinary, 3162278 * time.Nanosecond, 540693 * time.Nanosecond, true},
		{ProtocolBinary, 10 * ms, ms, true},
		{ProtocolBinary, time.Second, ms, true},
		{ProtocolJSON, time.Second, ms, true},
		{"grpc", time.Second, 0, false},
	} {
		got, ok := m.ServingOverheadAfter(tc.protocol, tc.gap)
		if d := got - tc.want; d < -time.Microsecond || d > time.Microsecond || ok != tc.ok {
			t.Errorf("ServingOverheadAfter(%s, %v) = %v, %v; want %v, %v", tc.protocol, tc.gap, got, ok, tc.want, tc.ok)
		}
	}
}

func TestStretched(t *testing.T) {
	ms := time.Millisecond
	m := &Model{Latency: ms, Spread: 0.1,
		Batches: []BatchPoint{{Size: 1, Latency: ms}, {Size: 4, Latency: 3 * ms}},
		Layers:  []Layer{{Name: "conv", Latency: ms / 2, FLOPs: 7}},
		Cold:    []ColdLatency{{Gap: 10 * ms, Latency: 2 * ms, Runs: 1}},
		Serving: []Serving{{Protocol: ProtocolBinary, Latency: 2 * ms, Runs: 1}}}
	s := m.Stretched(4)
	if s.Latency != 4*ms || s.Batches[1].Latency != 12*ms || s.Layers[0].Latency != 2*ms || s.Layers[0].FLOPs != 7 ||
		s.Cold[0].Latency != 8*ms || s.Cold[0].Gap != 10*ms || s.Serving[0].Latency != 8*ms || s.Spread != 0.1 {
		t.Errorf("stretched 4 times: %+v", s)
	}
	if m.Latency != ms || m.Batches[1].Latency != 3*ms || m.Cold[0].Latency != 2*ms {
		t.Errorf("Stretched changed the model it was called on: %+v", m)
	}
}

func TestFramedBytes(t *testing.T) {
	for _, tc := range []struct{ n, framed, acks int }{
		{0, 0, 0}, {1, 67, 66}, {1448, 1514, 66}, {1449, 1449 + 132, 66}, {3497, 3497 + 3*66, 2 * 66},
	} {
		if got := FramedBytes(tc.n); got != tc.framed {
			t.Errorf("FramedBytes(%d) = %d, want %d", tc.n, got, tc.framed)
		}
		if got := AckBytes(tc.n); got != tc.acks {
			t.Errorf("AckBytes(%d) = %d, want %d", tc.n, got, tc.acks)
		}
	}
}

func TestServingBytes(t *testing.T) {
	m := &Model{Serving: []Serving{{Protocol: ProtocolJSON, Latency: 1, Runs: 1}, {Protocol: ProtocolBinary, Latency: 1, Runs: 1, RequestBytes: 3497, ResponseBytes: 405}}}
	if req, resp, ok := m.ServingBytes(ProtocolBinary); !ok || req != 3497 || resp != 405 {
		t.Errorf("binary: %d, %d, %v", req, resp, ok)
	}
	if _, _, ok := m.ServingBytes(ProtocolJSON); ok {
		t.Error("json: bytes that were not measured")
	}
}
