package deploy

import (
	"fmt"

	"github.com/tandem-edge/tandem/agents/offload"
	"github.com/tandem-edge/tandem/profiles"
	"github.com/tandem-edge/tandem/scenarios"
)

// Setup is what every driver makes of a resolved scenario besides the
// scenario itself: each device's links and its policies.
type Setup struct {
	// Uplink and Downlink return each device's own link in each direction,
	// at the device's own trace phase; nil for an edge-only scenario.
	Uplink, Downlink func(device int) profiles.Link
	NewPolicy        PolicyFactory
}

// SetupFor builds the setup of a scenario's resolved inputs, decoding the
// learned policy's offloader. Its error is a bad offloader file.
func SetupFor(in *scenarios.Inputs) (Setup, error) {
	var s Setup
	if in.Uplink != nil {
		s.Uplink = func(i int) profiles.Link { up, _ := in.DeviceLinks(i); return up }
		s.Downlink = func(i int) profiles.Link { _, down := in.DeviceLinks(i); return down }
	}
	var learned *offload.Offloader
	if in.Offloader != nil {
		o, err := offload.DecodeOffloader(in.OffloaderName, in.Offloader)
		if err != nil {
			return s, err
		}
		if o.Classes != in.Bundle.Classes {
			return s, fmt.Errorf("%s: an offloader for %d classes; bundle %s has %d", in.OffloaderName, o.Classes, in.Bundle.Name, in.Bundle.Classes)
		}
		learned = o
	}
	s.NewPolicy = Policies(in.Scenario.Policy, learned)
	return s, nil
}
