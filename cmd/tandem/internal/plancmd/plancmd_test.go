package plancmd

import (
	"bytes"
	"encoding/json"
	"io"
	"testing"

	"github.com/tandem-edge/tandem/cmd/tandem/internal/cli"
)

func execute(args ...string) (string, error) {
	cmd := NewCmd()
	var out bytes.Buffer
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(io.Discard)
	err := cmd.Execute()
	return out.String(), err
}

func TestPlanJSON(t *testing.T) {
	out, err := execute("builtin:congested-uplink", "--vary", "link.uplink_mbps", "--slo", "p99=100ms", "--requests", "5000", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Direction string `json:"direction"`
		Value     string `json:"value"`
		Steps     []struct {
			Met bool `json:"met"`
		} `json:"steps"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	if res.Direction != "smallest" || res.Value == "" || len(res.Steps) < 3 {
		t.Errorf("plan: %s", out)
	}
}

// A policy key is searched on the validation split's outcomes and its
// answer run again on the test split's; --on test searches on those.
func TestPlanPolicyKeyOnVal(t *testing.T) {
	for _, on := range []string{"", "test"} {
		args := []string{"builtin:default", "--vary", "policy.threshold", "--range", "0.05:1", "--slo", "accuracy=0.93", "--requests", "1000", "--json"}
		if on != "" {
			args = append(args, "--on", on)
		}
		out, err := execute(args...)
		if err != nil {
			t.Fatal(err)
		}
		var res struct {
			Value string `json:"value"`
			At    *struct {
				Accuracy float64 `json:"accuracy"`
			} `json:"at"`
			Test *struct {
				Accuracy float64 `json:"accuracy"`
			} `json:"test"`
		}
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatal(err)
		}
		if res.Value == "" || res.At == nil || (on == "") != (res.Test != nil) {
			t.Errorf("--on %q: %s", on, out)
		}
	}
}

func TestPlanBadInput(t *testing.T) {
	for _, args := range [][]string{
		{"builtin:default", "--slo", "p95=10ms"},
		{"builtin:default", "--vary", "workload.rate"},
		{"builtin:default", "--vary", "workload.rate", "--slo", "p95"},
		{"builtin:default", "--vary", "workload.rate", "--slo", "p95=10ms", "--range", "5:1"},
		{"builtin:default", "--vary", "policy.kind", "--slo", "p95=10ms"},
		{"builtin:nope", "--vary", "workload.rate", "--slo", "p95=10ms"},
		{"builtin:default", "--vary", "workload.rate", "--slo", "p95=10ms", "--on", "train"},
	} {
		if _, err := execute(args...); cli.ExitCode(err) != cli.ExitBadInput {
			t.Errorf("%v: %v (exit %d), want %d", args, err, cli.ExitCode(err), cli.ExitBadInput)
		}
	}
}
