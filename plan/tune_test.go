package plan

import (
	"strconv"
	"strings"
	"testing"

	"github.com/tandem-edge/tandem/scenarios"
)

// TestTune checks that each tunable policy lands on the end of its knob
// that offloads the most while the objective holds: the answer meets it,
// and a step that offloaded more did not.
func TestTune(t *testing.T) {
	cases := []struct {
		name, scenario, slo string
		key                 string
		direction           string
	}{
		{"learned score threshold", "builtin:default", "mean=4ms", "policy.threshold", "smallest"},
		{"max_prob threshold", "builtin:threshold", "mean=4ms", "policy.threshold", "largest"},
		{"cost-aware price", "builtin:busy-uplink", "p99=150ms", "policy.lambda", "smallest"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sc, err := scenarios.LoadWith(tc.scenario, scenarios.Overrides{Requests: 3000})
			if err != nil {
				t.Fatal(err)
			}
			slo, err := ParseSLO(tc.slo)
			if err != nil {
				t.Fatal(err)
			}
			tuned, err := Tune(sc, []SLO{slo}, 0)
			if err != nil {
				t.Fatal(err)
			}
			if tuned.Knob.Key != tc.key || tuned.Direction != tc.direction || tuned.Scenario == nil {
				t.Fatalf("tuned %s %s to %q, want the %s value of %s", tuned.Knob.Key, tuned.Direction, tuned.Value, tc.direction, tc.key)
			}
			if !slo.Met(tuned.At) {
				t.Errorf("the tuned point misses %s: %+v", slo, tuned.At.LatencyMS)
			}
			if got, _ := scenarios.Get(tuned.Scenario, tc.key); got != tuned.Value {
				t.Errorf("the tuned scenario's %s is %q, want %q", tc.key, got, tuned.Value)
			}
			v, _ := strconv.ParseFloat(tuned.Value, 64)
			for _, s := range tuned.Steps {
				x, _ := strconv.ParseFloat(s.Value, 64)
				offloadsMore := (tc.direction == "largest") == (x > v)
				if s.Met && offloadsMore && x != v {
					t.Errorf("step %s offloads more than the answer %s and meets %s", s.Value, tuned.Value, slo)
				}
			}
		})
	}
}

func TestTuneEdges(t *testing.T) {
	loose, _ := ParseSLO("mean=1s")
	tight, _ := ParseSLO("mean=0.1ms")
	sc, err := scenarios.LoadWith("builtin:default", scenarios.Overrides{Requests: 1000})
	if err != nil {
		t.Fatal(err)
	}
	// Every score threshold meets a loose objective: the most accurate is
	// the lowest, which offloads the most.
	tuned, err := Tune(sc, []SLO{loose}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if tuned.Direction != "everywhere" || tuned.Value != tuned.Steps[0].Value {
		t.Errorf("loose objective: %s at %s, want everywhere at the range's bottom %s", tuned.Direction, tuned.Value, tuned.Steps[0].Value)
	}
	if tuned, err = Tune(sc, []SLO{tight}, 0); err != nil || tuned.Scenario != nil || tuned.Direction != "nowhere" {
		t.Errorf("tight objective: %v, %+v; want nowhere and no scenario", err, tuned)
	}
	sc.Policy = scenarios.Policy{Kind: scenarios.PolicyEdgeOnly}
	if _, err := Tune(sc, []SLO{loose}, 0); err == nil || !strings.Contains(err.Error(), "no operating point") {
		t.Errorf("edge-only: %v, want no operating point", err)
	}
}
