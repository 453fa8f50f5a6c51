package sim

import (
	"fmt"

	"github.com/tandem-edge/tandem/bundles"
	"github.com/tandem-edge/tandem/deploy"

	"github.com/tandem-edge/tandem/scenarios"
)

// ConfigFor turns a scenario's resolved inputs into the simulator's
// configuration, with the links and policies every driver builds
// (deploy.SetupFor). Its error is a bad offloader file.
func ConfigFor(in *scenarios.Inputs) (Config, error) {
	cfg := Config{
		Scenario:      in.Scenario,
		Outcomes:      in.Bundle.Outcomes,
		EdgeModel:     in.EdgeModel,
		CloudModel:    in.CloudModel,
		RequestBytes:  in.RequestBytes,
		ResponseBytes: in.ResponseBytes,
		LinkBytes:     in.LinkBytes,
		Arrivals:      in.Arrivals,
		Power:         in.Power,
	}
	if len(in.Groups) > 1 {
		for _, g := range in.Groups {
			cfg.EdgeModels = append(cfg.EdgeModels, g.EdgeModel)
			cfg.Powers = append(cfg.Powers, g.Power)
		}
	}
	if len(in.Apps) > 1 || len(in.Apps) == 1 && in.Apps[0].Pool != 0 {
		for _, a := range in.Apps {
			cfg.Apps = append(cfg.Apps, App{Outcomes: a.Bundle.Outcomes, CloudModel: a.CloudModel, RequestBytes: a.RequestBytes, ResponseBytes: a.ResponseBytes, Pool: a.Pool})
		}
		for _, g := range in.Groups {
			cfg.GroupApps = append(cfg.GroupApps, g.App)
		}
	}
	if in.Scenario.Policy.Kind == scenarios.PolicySplit {
		if err := splitConfig(&cfg, in); err != nil {
			return cfg, err
		}
	}
	s, err := deploy.SetupFor(in)
	if err != nil {
		return cfg, err
	}
	cfg.Uplink, cfg.Downlink, cfg.NewPolicy = s.Uplink, s.Downlink, s.NewPolicy
	return cfg, nil
}

// Simulate resolves a scenario, runs it and returns its summary with the
// wall time left at zero, so that the summary is a function of the scenario
// alone: what sweeps and plans compute for each point.
func Simulate(sc *scenarios.Scenario) (*deploy.Summary, error) { return SimulateOn(sc, nil) }

// SimulateOn is Simulate replaying outcomes in place of the bundle's (its
// test split's), such as the validation split's when a run chooses an
// operating point; nil replays the bundle's.
func SimulateOn(sc *scenarios.Scenario, outcomes []bundles.Outcome) (*deploy.Summary, error) {
	in, err := scenarios.Resolve(sc)
	if err != nil {
		return nil, err
	}
	cfg, err := ConfigFor(in)
	if err != nil {
		return nil, err
	}
	if outcomes != nil {
		if cfg.Apps != nil {
			return nil, fmt.Errorf("%s: edge groups run %d bundles; replaying other outcomes than the bundles' own takes one", sc.File, len(cfg.Apps))
		}
		cfg.Outcomes = outcomes
	}
	s, err := New(cfg)
	if err != nil {
		return nil, err
	}
	return s.Run(nil)
}
