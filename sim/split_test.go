package sim

import (
	"strings"
	"testing"

	"github.com/tandem-edge/tandem/deploy"
	"github.com/tandem-edge/tandem/scenarios"
)

// A split deployment answers with the heavy model, as cloud-only does, on
// the same requests; cut after the global pooling it sends 1 024 bytes of
// features instead of the input, and the device runs nearly all of the
// model first.
func TestSplitPolicy(t *testing.T) {
	runOn := func(bundle string, p scenarios.Policy) (*Config, error) {
		sc, err := scenarios.LoadWith("builtin:default", scenarios.Overrides{Requests: 2000})
		if err != nil {
			t.Fatal(err)
		}
		if bundle != "" {
			sc.Bundle = bundle
		}
		sc.Policy = p
		in, err := scenarios.Resolve(sc)
		if err != nil {
			return nil, err
		}
		cfg, err := ConfigFor(in)
		return &cfg, err
	}
	run := func(p scenarios.Policy) (*Config, error) { return runOn("", p) }
	cloudCfg, err := run(scenarios.Policy{Kind: scenarios.PolicyCloudOnly})
	if err != nil {
		t.Fatal(err)
	}
	splitCfg, err := run(scenarios.Policy{Kind: scenarios.PolicySplit, After: "gap"})
	if err != nil {
		t.Fatal(err)
	}
	cloud, cut := runCfg(t, cloudCfg), runCfg(t, splitCfg)
	if cut.OffloadRate != 1 || cut.AccuracyOverRequests != cloud.AccuracyOverRequests || cut.Service.RequestBytes >= cloud.Service.RequestBytes ||
		cut.LatencyMS.Mean >= cloud.LatencyMS.Mean || cut.Service.EdgeMS <= 0 || splitCfg.CloudModel.Latency >= cloudCfg.CloudModel.Latency {
		t.Errorf("split after gap: %+v\ncloud-only: %+v", cut, cloud)
	}
	if c := cut.Cut; c == nil || *c != (deploy.Cut{After: "gap", TensorBytes: 1024, Chosen: deploy.CutByScenario}) || cloud.Cut != nil {
		t.Errorf("the summary's cut: %+v; cloud-only's %+v", c, cloud.Cut)
	}
	// Left to the profiles, the cut is where the smallest tensor crosses:
	// the 256 channels of the last stage, one value each, from the fourth
	// pooling on.
	autoCfg, err := run(scenarios.Policy{Kind: scenarios.PolicySplit})
	if err != nil {
		t.Fatal(err)
	}
	if c := runCfg(t, autoCfg).Cut; c == nil || c.Chosen != deploy.CutFastest || c.TensorBytes != 1024 {
		t.Errorf("the fastest cut: %+v", c)
	}
	// The digits bundle's heavy model is a ResNet: no cut between a
	// residual block's convolutions.
	if _, err := runOn("builtin:digits", scenarios.Policy{Kind: scenarios.PolicySplit, After: "layer1.0.conv1"}); err == nil ||
		!strings.Contains(err.Error(), `policy.after: split: resnet20 cannot be cut after "layer1.0.conv1": want one of [conv1 `) {
		t.Errorf("a cut inside a residual block: %v", err)
	}
}

func runCfg(t *testing.T, cfg *Config) *deploy.Summary {
	t.Helper()
	s, err := New(*cfg)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := s.Run(nil)
	if err != nil {
		t.Fatal(err)
	}
	return sum
}
