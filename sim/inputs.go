package sim

import (
	"fmt"
	"github.com/tandem-edge/tandem/deploy"

	"github.com/tandem-edge/tandem/agents/offload"
	"github.com/tandem-edge/tandem/profiles"
	"github.com/tandem-edge/tandem/scenarios"
)

// ConfigFor turns a scenario's resolved inputs into the simulator's
// configuration: each device's links at its own trace phase, and the
// learned policy's offloader decoded. Its error is a bad offloader file.
func ConfigFor(in *scenarios.Inputs) (Config, error) {
	cfg := Config{
		Scenario:     in.Scenario,
		Outcomes:     in.Bundle.Outcomes,
		EdgeModel:    in.EdgeModel,
		CloudModel:   in.CloudModel,
		RequestBytes: in.RequestBytes,
		Arrivals:     in.Arrivals,
	}
	if in.Uplink != nil {
		cfg.Uplink = func(i int) profiles.Link { up, _ := in.DeviceLinks(i); return up }
		cfg.Downlink = func(i int) profiles.Link { _, down := in.DeviceLinks(i); return down }
	}
	if in.Offloader != nil {
		o, err := offload.DecodeOffloader(in.OffloaderName, in.Offloader)
		if err != nil {
			return cfg, err
		}
		if o.Classes != in.Bundle.Classes {
			return cfg, fmt.Errorf("%s: an offloader for %d classes; bundle %s has %d", in.OffloaderName, o.Classes, in.Bundle.Name, in.Bundle.Classes)
		}
		cfg.NewPolicy = deploy.Policies(in.Scenario.Policy, o)
	}
	return cfg, nil
}

// Simulate resolves a scenario, runs it and returns its summary with the
// wall time left at zero, so that the summary is a function of the scenario
// alone: what sweeps and plans compute for each point.
func Simulate(sc *scenarios.Scenario) (*deploy.Summary, error) {
	in, err := scenarios.Resolve(sc)
	if err != nil {
		return nil, err
	}
	cfg, err := ConfigFor(in)
	if err != nil {
		return nil, err
	}
	s, err := New(cfg)
	if err != nil {
		return nil, err
	}
	return s.Run(nil)
}
