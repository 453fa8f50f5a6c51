package sim

import (
	"github.com/tandem-edge/tandem/scenarios"
	"github.com/tandem-edge/tandem/split"
)

// splitConfig makes cfg a split deployment's (split.For): the device's
// stage is the heavy model up to the scenario's cut, the cloud's the
// rest, and a request carries the cut tensor in place of the input.
func splitConfig(cfg *Config, in *scenarios.Inputs) error {
	d, err := split.For(in)
	if err != nil {
		return err
	}
	cfg.EdgeModel, cfg.CloudModel = d.Device, d.Server
	cfg.RequestBytes, cfg.ResponseBytes, cfg.LinkBytes = d.RequestBytes, d.ResponseBytes, d.LinkBytes
	cfg.Cut = &d.Summary
	return nil
}
