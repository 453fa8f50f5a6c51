package sim

import (
	"fmt"

	"github.com/tandem-edge/tandem/agents/offload"
)

// The edge stage: each device runs the edge model on up to slots requests at
// once; the rest wait in the device's FIFO queue. When the model finishes,
// the device's policy decides from the sample's features whether the edge
// answer stands or the request goes up to the cloud.

// edgeArrive queues request i at device d, starting it if a slot is idle.
func (s *Sim) edgeArrive(d *device, i int32) {
	s.setState(&s.reqs[i], StateEdgeQueued)
	if d.idle > 0 {
		s.edgeStart(d, i)
		return
	}
	d.queue.push(i)
}

// edgeStart runs the edge model on request i in one of d's idle slots.
func (s *Sim) edgeStart(d *device, i int32) {
	r := &s.reqs[i]
	s.setState(r, StateEdgeRunning)
	d.idle--
	g := &s.groups[d.group]
	t := g.svc.draw(d.edgeRng, 1)
	if g.cold != nil {
		// The device's core has idled since its last run ended (or since
		// the start): that costs the run its cold penalty.
		p := g.cold.IdlePenalty(s.now - d.idleFrom)
		s.idle.edge.add(p)
		t += p
	}
	d.idleFrom = max(d.idleFrom, s.now+t)
	d.busy += t
	r.edgeStart, r.edgeEnd = s.now, s.now+t
	s.schedule(r.edgeEnd, EventEdgeDone, i)
}

// onEdgeDone frees the slot, asks the policy, and starts the next queued
// request.
func (s *Sim) onEdgeDone(i int32) {
	r := &s.reqs[i]
	d := &s.devices[r.device]
	d.idle++
	s.ctx = offload.Context{UplinkMbps: d.upMbps, EdgeQueue: d.queue.len(), CloudQueue: s.cloudQueued(d), UplinkBacklog: d.up.Backlog(s.now)}
	r.decision = d.policy.Decide(&s.samples[r.outcome], &s.ctx)
	if d.queue.len() > 0 {
		s.edgeStart(d, d.queue.pop())
	}
	switch r.decision {
	case offload.Edge:
		s.complete(i)
	case offload.Cloud:
		s.uplink(d, i)
	default:
		s.fail(fmt.Errorf("sim: policy %s decided %v for request %d", d.policy.Name(), r.decision, r.id))
	}
}
