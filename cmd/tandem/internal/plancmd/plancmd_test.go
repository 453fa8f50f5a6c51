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

func TestPlanBadInput(t *testing.T) {
	for _, args := range [][]string{
		{"builtin:default", "--slo", "p95=10ms"},
		{"builtin:default", "--vary", "workload.rate"},
		{"builtin:default", "--vary", "workload.rate", "--slo", "p95"},
		{"builtin:default", "--vary", "workload.rate", "--slo", "p95=10ms", "--range", "5:1"},
		{"builtin:default", "--vary", "policy.kind", "--slo", "p95=10ms"},
		{"builtin:nope", "--vary", "workload.rate", "--slo", "p95=10ms"},
	} {
		if _, err := execute(args...); cli.ExitCode(err) != cli.ExitBadInput {
			t.Errorf("%v: %v (exit %d), want %d", args, err, cli.ExitCode(err), cli.ExitBadInput)
		}
	}
}
