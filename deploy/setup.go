package deploy

import (
	"fmt"
	"math/rand/v2"

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
	apps := in.Applications()
	factories := make([]PolicyFactory, len(apps))
	costs := make([]offload.Costs, len(in.Groups))
	for g := range costs {
		costs[g] = CostsOf(in, g)
	}
	for a := range apps {
		var learned *offload.Offloader
		if app := &apps[a]; app.Offloader != nil {
			o, err := offload.DecodeOffloader(app.OffloaderName, app.Offloader)
			if err != nil {
				return s, err
			}
			if o.Embedding > 0 {
				return s, fmt.Errorf("%s: the offloader reads %d of the edge model's features before its classifier, which tandem sim and hil run do not supply: train it without --embedding", app.OffloaderName, o.Embedding)
			}
			if o.Classes != app.Bundle.Classes {
				return s, fmt.Errorf("%s: an offloader for %d classes; bundle %s has %d", app.OffloaderName, o.Classes, app.Bundle.Name, app.Bundle.Classes)
			}
			learned = o
		}
		factories[a] = Policies(in.Scenario.Policy, learned, func(device int) offload.Costs {
			g, _ := in.Scenario.Edge.Of(device)
			return costs[g]
		})
	}
	s.NewPolicy = factories[0]
	if len(apps) > 1 {
		s.NewPolicy = func(device int, src rand.Source) (offload.Policy, error) {
			return factories[in.Group(device).App](device, src)
		}
	}
	return s, nil
}

// CostsOf is what a request of edge group g pays for going to its cloud
// pool, as a cost-aware policy prices it: the payloads, the group's round
// trip time, the pool's servers and its service time at batch 1 (the
// pool's override when it has one, else the profile's with the serving
// path's overhead, as the simulator charges it).
func CostsOf(in *scenarios.Inputs, g int) offload.Costs {
	sc := in.Scenario
	apps := in.Applications()
	app := apps[0]
	if g < len(in.Groups) {
		app = apps[in.Groups[g].App]
	}
	pool := &sc.Cloud[app.Pool]
	c := offload.Costs{RequestBytes: app.RequestBytes, ResponseBytes: app.ResponseBytes, RTT: sc.LinkOf(g).RTT.D(), Servers: pool.Servers}
	switch {
	case pool.Service != nil:
		c.CloudService = pool.Service.Mean.D()
	case app.CloudModel != nil:
		overhead, _ := CloudOverhead(app.CloudModel, pool.Protocol)
		c.CloudService = app.CloudModel.Latency + overhead
	}
	return c
}
