package offloadcmd

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tandem-edge/tandem/cmd/tandem/internal/cli"
	"github.com/tandem-edge/tandem/scenarios"
)

func TestTuneWritesTheScenario(t *testing.T) {
	out := filepath.Join(t.TempDir(), "tuned.yaml")
	var stdout bytes.Buffer
	err := Tune(&TuneOptions{Scenario: "builtin:busy-uplink", SLOs: []string{"p99=150ms"}, Requests: 3000, Out: out, JSON: true, Stdout: &stdout})
	if err != nil {
		t.Fatal(err)
	}
	var rep tuneReport
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("--json: %v\n%s", err, stdout.String())
	}
	sc, err := scenarios.Load(out)
	if err != nil {
		t.Fatalf("the tuned scenario does not load: %v", err)
	}
	if got, _ := scenarios.Get(sc, "policy.lambda"); rep.Key != "policy.lambda" || got != rep.Value || rep.After == nil || rep.After.LatencyMS.P99 > 150 {
		t.Errorf("wrote lambda %s; report %s = %s, p99 after %v", got, rep.Key, rep.Value, rep.After)
	}
}

func TestTuneRefuses(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name string
		opts TuneOptions
		exit int
		want string
	}{
		{"no slo", TuneOptions{Scenario: "builtin:default"}, cli.ExitBadInput, "--out and at least one --slo"},
		{"bad slo", TuneOptions{Scenario: "builtin:default", SLOs: []string{"p97=1ms"}}, cli.ExitBadInput, "p97"},
		{"nothing to tune", TuneOptions{Scenario: "builtin:edge-only", SLOs: []string{"mean=1ms"}}, cli.ExitBadInput, "no operating point"},
		{"unreachable", TuneOptions{Scenario: "builtin:default", SLOs: []string{"mean=0.1ms"}, Requests: 500}, cli.ExitTooManyFailed, "no policy.threshold"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(dir, tc.name+".yaml")
			tc.opts.Out, tc.opts.Stdout = out, &bytes.Buffer{}
			if tc.name == "no slo" {
				tc.opts.Out = ""
			}
			err := Tune(&tc.opts)
			if cli.ExitCode(err) != tc.exit || err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Tune: %v (exit %d), want exit %d and %q", err, cli.ExitCode(err), tc.exit, tc.want)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("%s was written", out)
			}
		})
	}
}
