package profiler

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tandem-edge/tandem/hil/hiltest"
	"github.com/tandem-edge/tandem/profiles"
)

func TestTimeCold(t *testing.T) {
	hiltest.RequireORT(t)
	model, _ := fixturePaths("tiny")
	const ms = time.Millisecond
	tests := []struct {
		name     string
		threads  int
		gaps     []time.Duration
		runs     int
		wantGaps []time.Duration // the curve's gaps, ascending
		want     string          // error; empty: none
	}{
		{name: "two gaps", threads: 1, gaps: []time.Duration{ms, 2 * ms}, runs: 4, wantGaps: []time.Duration{ms, 2 * ms}},
		{name: "sorted and deduplicated", threads: 1, gaps: []time.Duration{2 * ms, ms, 2 * ms}, runs: 2, wantGaps: []time.Duration{ms, 2 * ms}},
		{name: "threads 0 means 1", gaps: []time.Duration{ms}, runs: 2, wantGaps: []time.Duration{ms}},
		{name: "no gaps", threads: 1, runs: 5, want: "no gaps, want 1 or more"},
		{name: "zero gap", threads: 1, gaps: []time.Duration{ms, 0}, runs: 5, want: "gap 0s, want more than 0"},
		{name: "negative gap", threads: 1, gaps: []time.Duration{-ms}, runs: 5, want: "gap -1ms"},
		{name: "no runs", threads: 1, gaps: []time.Duration{ms}, runs: 0, want: "0 runs, want 1 or more"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gaps := slices.Clone(tt.gaps)
			start := time.Now()
			curve, err := TimeCold(model, tt.threads, gaps, tt.runs)
			if tt.want != "" {
				if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), model) {
					t.Errorf("error %v, want one naming %s and saying %q", err, model, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(gaps, tt.gaps) {
				t.Errorf("TimeCold changed its gaps to %v", gaps)
			}
			if len(curve) != len(tt.wantGaps) {
				t.Fatalf("curve %+v, want gaps %v", curve, tt.wantGaps)
			}
			var least time.Duration
			for i, c := range curve {
				if c.Gap != tt.wantGaps[i] || c.Runs != tt.runs || c.Latency <= 0 || c.Spread < 0 {
					t.Errorf("cold latency %d %+v, want gap %v and %d runs", i, c, tt.wantGaps[i], tt.runs)
				}
				least += time.Duration(tt.runs) * c.Gap
			}
			if took := time.Since(start); took < least {
				t.Errorf("took %v, less than the %v of sleep", took, least)
			}
			m := profiles.Model{Name: "tiny", Latency: curve[0].Latency, Cold: curve}
			if err := (&profiles.Device{Name: "test", Source: "TestTimeCold", Models: []profiles.Model{m}}).Validate(); err != nil {
				t.Errorf("the curve does not validate: %v", err)
			}
			t.Logf("cold: %s over %d runs each", FormatCold(curve), tt.runs)
		})
	}
	if _, err := TimeCold(model+".missing", 1, []time.Duration{time.Millisecond}, 1); err == nil {
		t.Error("a missing model: no error")
	}
}

func TestFormatCold(t *testing.T) {
	us := time.Microsecond
	curve := []profiles.ColdLatency{
		{Gap: time.Millisecond, Latency: 700 * us},
		{Gap: 30 * time.Millisecond, Latency: 1284 * us},
		{Gap: 100 * time.Millisecond, Latency: 12345 * us},
		{Gap: 1500 * time.Millisecond, Latency: 240 * time.Millisecond},
	}
	if got, want := FormatCold(curve), "0.70ms@1ms 1.28ms@30ms 12.3ms@100ms 240ms@1.5s"; got != want {
		t.Errorf("FormatCold = %q, want %q", got, want)
	}
	if got := FormatCold(nil); got != "" {
		t.Errorf("FormatCold(nil) = %q, want empty", got)
	}
	if got, want := FormatMs(12*us), "0.012ms"; got != want {
		t.Errorf("FormatMs(12µs) = %q, want %q", got, want)
	}
}
