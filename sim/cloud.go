package sim

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/tandem-edge/tandem/agents/offload"
	"github.com/tandem-edge/tandem/deploy"
	"github.com/tandem-edge/tandem/profiles"
)

// cloud is the shared pool of inference servers with one FIFO queue,
// batching by deploy.Batching's rule.
type cloud struct {
	svc      service
	rng      *rand.Rand
	servers  int
	batching deploy.Batching // MaxBatch ≥ 1

	queue   ring
	idle    []int32 // idle servers, a stack
	size    []int32 // size[s]: requests in server s's batch
	members []int32 // server s's batch: members[s*batching.MaxBatch:][:size[s]]

	// The batching window's timer. A timer cannot be taken back out of the
	// event queue, so each one carries a generation and only the latest
	// counts.
	timerGen   int32
	timerArmed bool
	timerAt    time.Duration

	busy    time.Duration
	batches int64

	// overhead is the serving path's own cost per request (decoding,
	// encoding, HTTP), which the server's handlers spend beside the batch,
	// not in it: an answer leaves overhead after its batch ends, and the
	// model's slot is free at once.
	overhead time.Duration

	// cold, when set, charges each batch the idle penalty of its server's
	// idle time since its last batch ended, idleFrom[server].
	cold     *profiles.Model
	idleFrom []time.Duration
}

// uplink sends request i from device d to the cloud.
func (s *Sim) uplink(d *device, i int32) {
	if !s.hasCloud {
		s.fail(fmt.Errorf("sim: policy %s sent request %d to the cloud, but the scenario's policy is edge-only and has no cloud", d.policy.Name(), s.reqs[i].id))
		return
	}
	r := &s.reqs[i]
	s.setState(r, StateUplink)
	r.decision, r.upJoin = offload.Cloud, s.now
	tr, err := d.up.Send(s.now, s.reqBytes)
	if err != nil {
		s.fail(err)
		return
	}
	s.schedule(tr.Delivered, EventUplinkDone, i)
}

// onUplinkDone queues request i at the cloud.
func (s *Sim) onUplinkDone(i int32) {
	r := &s.reqs[i]
	s.setState(r, StateCloudQueued)
	r.cloudArrive = s.now
	s.cloud.queue.push(i)
	s.cloudDispatch()
}

// cloudDispatch starts batches on idle servers while the batching rule
// allows, arming the batching timer when it says to wait.
func (s *Sim) cloudDispatch() {
	c := &s.cloud
	for len(c.idle) > 0 && c.queue.len() > 0 {
		n, until := c.batching.Take(c.queue.len(), s.reqs[c.queue.front()].cloudArrive, s.now)
		if n == 0 {
			if !c.timerArmed || c.timerAt != until {
				c.timerGen++
				c.timerArmed, c.timerAt = true, until
				s.schedule(until, EventBatchTimer, c.timerGen)
			}
			return
		}
		s.cloudStart(n)
	}
}

// cloudStart takes the next b requests as a batch onto the idle server on
// top of the stack.
func (s *Sim) cloudStart(b int) {
	c := &s.cloud
	srv := c.idle[len(c.idle)-1]
	c.idle = c.idle[:len(c.idle)-1]
	c.size[srv] = int32(b)
	members := c.members[int(srv)*c.batching.MaxBatch:][:b]
	for k := range members {
		i := c.queue.pop()
		members[k] = i
		r := &s.reqs[i]
		s.setState(r, StateCloudRunning)
		r.cloudStart, r.batch = s.now, int32(b)
	}
	t := c.svc.draw(c.rng, b)
	if c.cold != nil {
		p := c.cold.IdlePenalty(s.now - c.idleFrom[srv])
		s.idle.cloud.add(p)
		t += p
		c.idleFrom[srv] = s.now + t
	}
	c.busy += t
	c.batches++
	s.schedule(s.now+t, EventCloudDone, srv)
}

// onBatchTimer closes the batching window, unless a later timer replaced it.
func (s *Sim) onBatchTimer(gen int32) {
	c := &s.cloud
	if !c.timerArmed || gen != c.timerGen {
		return
	}
	c.timerArmed = false
	s.cloudDispatch()
}

// onCloudDone sends server srv's batch back down and frees the server.
func (s *Sim) onCloudDone(srv int32) {
	c := &s.cloud
	for _, i := range c.members[int(srv)*c.batching.MaxBatch:][:c.size[srv]] {
		r := &s.reqs[i]
		s.setState(r, StateDownlink)
		r.cloudEnd = s.now + c.overhead
		tr, err := s.devices[r.device].down.Send(r.cloudEnd, s.respBytes)
		if err != nil {
			s.fail(err)
			return
		}
		s.schedule(tr.Delivered, EventDownlinkDone, i)
	}
	c.size[srv] = 0
	c.idle = append(c.idle, srv)
	s.cloudDispatch()
}
