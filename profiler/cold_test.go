package profiler

import (
	"strings"
	"testing"
	"time"

	"github.com/tandem-edge/tandem/hil/hiltest"
)

func TestTimeCold(t *testing.T) {
	hiltest.RequireORT(t)
	model, _ := fixturePaths("tiny")
	tests := []struct {
		name    string
		threads int
		gap     time.Duration
		runs    int
		want    string // error; empty: none
	}{
		{name: "spaced", threads: 1, gap: 2 * time.Millisecond, runs: 6},
		{name: "threads 0 means 1", gap: time.Millisecond, runs: 2},
		{name: "no gap", threads: 1, gap: 0, runs: 5, want: "gap 0s, want more than 0"},
		{name: "negative gap", threads: 1, gap: -time.Millisecond, runs: 5, want: "gap -1ms"},
		{name: "no runs", threads: 1, gap: time.Millisecond, runs: 0, want: "0 runs, want 1 or more"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			c, err := TimeCold(model, tt.threads, tt.gap, tt.runs)
			if tt.want != "" {
				if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), model) {
					t.Errorf("error %v, want one naming %s and saying %q", err, model, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Gap != tt.gap || c.Runs != tt.runs || c.Latency <= 0 || c.Spread < 0 {
				t.Errorf("cold latency %+v, want gap %v and %d runs", c, tt.gap, tt.runs)
			}
			if took := time.Since(start); took < time.Duration(tt.runs)*tt.gap {
				t.Errorf("took %v, less than %d gaps of %v", took, tt.runs, tt.gap)
			}
			t.Logf("cold: median %v, spread %.3f over %d runs %v apart", c.Latency, c.Spread, c.Runs, c.Gap)
		})
	}
	if _, err := TimeCold(model+".missing", 1, time.Millisecond, 1); err == nil {
		t.Error("a missing model: no error")
	}
}
