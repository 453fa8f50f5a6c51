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

// The operating point is chosen on the validation split's outcomes and
// reported on the test split's; with --on test both are the test's.
func TestTuneWritesTheScenario(t *testing.T) {
	for _, on := range []string{"", "test"} {
		t.Run("on "+on, func(t *testing.T) { tuneWrites(t, on) })
	}
}

func tuneWrites(t *testing.T, on string) {
	out := filepath.Join(t.TempDir(), "tuned.yaml")
	var stdout bytes.Buffer
	err := Tune(&TuneOptions{Scenario: "builtin:busy-uplink", SLOs: []string{"p99=150ms"}, Requests: 3000, Out: out, On: on, JSON: true, Stdout: &stdout})
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
	if got, _ := scenarios.Get(sc, "policy.lambda"); rep.Key != "policy.lambda" || got != rep.Value || rep.After == nil || rep.Search.At.LatencyMS.P99 > 150 {
		t.Errorf("wrote lambda %s; report %s = %s, p99 where chosen %v", got, rep.Key, rep.Value, rep.Search.At)
	}
	want := on
	if want == "" {
		want = "val"
	}
	// The search's run at the answer is on the tuning split; after is the
	// tuned scenario on the bundle's test outcomes, the same run only when
	// the search was on them.
	if rep.On != want || (want == "test") != (rep.After.LatencyMS == rep.Search.At.LatencyMS) {
		t.Errorf("on %q: after %+v, where chosen %+v", rep.On, rep.After.LatencyMS, rep.Search.At.LatencyMS)
	}
	if rep.AfterMeets == nil || *rep.AfterMeets != (rep.After.LatencyMS.P99 <= 150) {
		t.Errorf("after_meets %v with a p99 of %v on test", rep.AfterMeets, rep.After.LatencyMS.P99)
	}
}

// With headroom the search holds every latency limit tighter by that
// fraction, and the test outcomes are judged by the limit as given.
func TestTuneHeadroom(t *testing.T) {
	var stdout bytes.Buffer
	err := Tune(&TuneOptions{Scenario: "builtin:busy-uplink", SLOs: []string{"p99=150ms", "accuracy=0.5"}, Requests: 3000, Headroom: 0.1,
		Out: filepath.Join(t.TempDir(), "tuned.yaml"), On: "test", JSON: true, Stdout: &stdout})
	if err != nil {
		t.Fatal(err)
	}
	var rep tuneReport
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	if p99 := rep.Search.At.LatencyMS.P99; rep.Headroom != 0.1 || p99 > 135 || p99 < 100 {
		t.Errorf("headroom %v: chosen at p99 %v, want within 135 ms", rep.Headroom, p99)
	}
	if rep.AfterMeets == nil || !*rep.AfterMeets {
		t.Errorf("after_meets %v", rep.AfterMeets)
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
		{"bad headroom", TuneOptions{Scenario: "builtin:default", SLOs: []string{"mean=5ms"}, Headroom: 1}, cli.ExitBadInput, "--headroom 1"},
		{"bad split", TuneOptions{Scenario: "builtin:default", SLOs: []string{"mean=5ms"}, On: "train"}, cli.ExitBadInput, `--on "train": want val or test`},
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
