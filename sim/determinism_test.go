package sim

import (
	"bytes"
	"encoding/json"
	"github.com/tandem-edge/tandem/deploy"
	"testing"
	"time"

	"github.com/tandem-edge/tandem/agents/offload"
	"github.com/tandem-edge/tandem/scenarios"
)

// runBytes runs cfg and returns its CSV and its summary's JSON.
func runBytes(t *testing.T, cfg Config) ([]byte, []byte) {
	t.Helper()
	var csv bytes.Buffer
	sum := run(t, cfg, deploy.NewCSVRecorder(&csv))
	js, err := json.Marshal(sum)
	if err != nil {
		t.Fatal(err)
	}
	return csv.Bytes(), js
}

func TestDeterminism(t *testing.T) {
	for _, tt := range runKinds() {
		t.Run(tt.name, func(t *testing.T) {
			csv1, js1 := runBytes(t, tt.cfg)
			csv2, js2 := runBytes(t, tt.cfg)
			if !bytes.Equal(csv1, csv2) || !bytes.Equal(js1, js2) {
				t.Fatal("two runs of one config differ")
			}
			sc := *tt.cfg.Scenario
			sc.Seed++
			other := tt.cfg
			other.Scenario = &sc
			if csv3, _ := runBytes(t, other); bytes.Equal(csv1, csv3) {
				t.Error("another seed gave the same run")
			}
		})
	}
}

// TestAddingDevice checks that every stream of device 0 (arrivals, samples,
// edge service times, random decisions) is the same whatever the fleet.
func TestAddingDevice(t *testing.T) {
	type draw struct {
		arrival time.Duration
		sample  int
		edge    time.Duration
		cloud   bool
	}
	device0 := func(count int) []draw {
		sc := baseScenario()
		sc.Requests, sc.Duration = 0, scenarios.Duration(10*time.Second)
		sc.Edge[0].Count = count
		sc.Edge[0].Service = exp(time.Millisecond)
		sc.Workload.Rate = 200
		sc.Policy = scenarios.Policy{Kind: "random", P: 0.4}
		var c collect
		run(t, Config{Scenario: sc, Outcomes: testOutcomes(1000, 1), Uplink: fastLink}, &c)
		var out []draw
		for _, r := range c.recs {
			if r.Device == 0 {
				out = append(out, draw{r.Arrival, r.Sample, r.Edge, r.Decision == offload.Cloud})
			}
		}
		// Records come in completion order; arrivals order device 0's.
		for i := 1; i < len(out); i++ {
			for j := i; j > 0 && out[j].arrival < out[j-1].arrival; j-- {
				out[j], out[j-1] = out[j-1], out[j]
			}
		}
		return out
	}
	one, three := device0(1), device0(3)
	if len(one) < 1500 || len(one) != len(three) {
		t.Fatalf("device 0 made %d requests alone and %d among three", len(one), len(three))
	}
	for i := range one {
		if one[i] != three[i] {
			t.Fatalf("request %d of device 0: %+v alone, %+v among three", i, one[i], three[i])
		}
	}
}
