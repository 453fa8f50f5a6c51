package offload

import (
	"math"
	"testing"
	"time"
)

// TestCostAwareRoundTrip checks the expected round trip against a hand
// count: 1000 + 250 bytes at 10 Mbit/s are 1 ms on the wire, the round
// trip 20 ms, the service 2 ms, and 6 queued requests shared by 3 servers
// wait two services.
func TestCostAwareRoundTrip(t *testing.T) {
	o, err := Train(synthetic(300, 1), quick)
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewCostAware(o, 0.001, Costs{RequestBytes: 1000, ResponseBytes: 250, RTT: 20 * time.Millisecond, CloudService: 2 * time.Millisecond, Servers: 3})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		ctx  Context
		want time.Duration
	}{
		{Context{UplinkMbps: 10}, 23 * time.Millisecond},
		{Context{UplinkMbps: 10, CloudQueue: 6}, 27 * time.Millisecond},
		{Context{UplinkMbps: 10, UplinkBacklog: 40 * time.Millisecond}, 63 * time.Millisecond},
		{Context{}, 22 * time.Millisecond}, // no link estimate: no transfer time counted
	} {
		if got := p.RoundTrip(&tc.ctx); got != tc.want {
			t.Errorf("RoundTrip(%+v) = %v, want %v", tc.ctx, got, tc.want)
		}
	}
}

// TestCostAwareDegrades checks that the policy offloads the samples its
// offloader scores highest when the deployment is idle, and fewer of them,
// never others, as the uplink's backlog grows.
func TestCostAwareDegrades(t *testing.T) {
	o, err := Train(synthetic(600, 1), quick)
	if err != nil {
		t.Fatal(err)
	}
	samples := synthetic(1000, 3)
	// λ such that the idle round trip (23 ms) prices a score of 0.2.
	p, err := NewCostAware(o, 0.2/23, Costs{RequestBytes: 1000, ResponseBytes: 250, RTT: 20 * time.Millisecond, CloudService: 2 * time.Millisecond, Servers: 1})
	if err != nil {
		t.Fatal(err)
	}
	prev := math.MaxInt
	var prevSet map[int]bool
	for _, backlog := range []time.Duration{0, 10 * time.Millisecond, 50 * time.Millisecond, 500 * time.Millisecond} {
		ctx := Context{UplinkMbps: 10, UplinkBacklog: backlog}
		set := map[int]bool{}
		for i := range samples {
			if p.Decide(&samples[i], &ctx) == Cloud {
				set[i] = true
				if prevSet != nil && !prevSet[i] {
					t.Errorf("backlog %v: sample %d offloaded, kept on the edge at a shorter backlog", backlog, i)
				}
				if s := o.Score(&samples[i]); s < 0.2*float64(23*time.Millisecond+backlog)/float64(23*time.Millisecond)-1e-9 {
					t.Errorf("backlog %v: sample %d of score %.3f offloaded", backlog, i, s)
				}
			}
		}
		if len(set) > prev {
			t.Errorf("backlog %v: %d offloaded, more than %d at a shorter backlog", backlog, len(set), prev)
		}
		if backlog == 0 && len(set) == 0 {
			t.Fatal("nothing offloaded on an idle deployment")
		}
		prev, prevSet = len(set), set
	}
	if prev != 0 {
		t.Errorf("%d samples offloaded behind a 500 ms backlog, worth 25 times the idle price", prev)
	}
}

func TestCostAwareRejects(t *testing.T) {
	o, err := Train(synthetic(100, 1), quick)
	if err != nil {
		t.Fatal(err)
	}
	ok := Costs{Servers: 1}
	for _, tc := range []struct {
		name   string
		o      *Offloader
		lambda float64
		c      Costs
	}{
		{"no offloader", nil, 0.001, ok},
		{"negative lambda", o, -1, ok},
		{"NaN lambda", o, math.NaN(), ok},
		{"infinite lambda", o, math.Inf(1), ok},
		{"no servers", o, 0.001, Costs{}},
	} {
		if _, err := NewCostAware(tc.o, tc.lambda, tc.c); err == nil {
			t.Errorf("%s: accepted", tc.name)
		}
	}
	if _, err := New(Spec{Kind: KindCostAware, Lambda: 0.001}, Options{Offloader: o, Costs: ok}); err != nil {
		t.Errorf("New cost-aware: %v", err)
	}
}
