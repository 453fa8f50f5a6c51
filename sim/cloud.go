package sim

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/tandem-edge/tandem/agents/offload"
	"github.com/tandem-edge/tandem/deploy"
	"github.com/tandem-edge/tandem/profiles"
)

// cloud is one pool of inference servers, batching by deploy.Batching's
// rule. Each application it serves has its FIFO queue and its model on
// every server; a batch is of one application, and a free server takes the
// ready batch whose oldest request came first.
type cloud struct {
	name     string
	apps     []cloudApp
	rng      *rand.Rand
	servers  int
	first    int32           // its servers' numbers, in EventCloudDone, start here
	batching deploy.Batching // MaxBatch ≥ 1

	idle    []int32 // idle servers, a stack
	size    []int32 // size[s]: requests in server s's batch
	app     []int32 // app[s]: the application of server s's batch
	members []int32 // server s's batch: members[s*batching.MaxBatch:][:size[s]]

	// The batching window's timer. A timer cannot be taken back out of the
	// event queue, so each one carries a generation (Sim.timerGen's, over
	// the pools) and only the pool's latest counts.
	timerGen   int32
	timerArmed bool
	timerAt    time.Duration

	busy    time.Duration
	batches int64

	// idleFrom[server] is when the server's last batch ended, for the
	// applications' cold curves.
	idleFrom []time.Duration
	// overhead[server] is the serving overhead of each request of the
	// server's batch; nil when no application has a serving cold curve.
	overhead []time.Duration
}

// lane is where an application's requests queue: its pool and its queue
// there.
type lane struct{ pool, app int32 }

// laneOf is device d's pool and its application's queue there.
func (s *Sim) laneOf(d *device) (*cloud, *cloudApp) { return d.pool, d.lane }

// queued is how many requests wait for a server, over the applications.
func (c *cloud) queued() int {
	n := 0
	for a := range c.apps {
		n += c.apps[a].queue.len()
	}
	return n
}

// cloudApp is one application's part of the pool.
type cloudApp struct {
	svc   service
	queue ring

	// overhead is the serving path's own cost per request (decoding,
	// encoding, HTTP), which the server's handlers spend beside the batch,
	// not in it: an answer leaves overhead after its batch ends, and the
	// model's slot is free at once.
	overhead time.Duration
	// serving, when set, makes the overhead of each request depend on how
	// long its server had idled before the batch: the serving path's cold
	// curve less the model's (profiles.Model.ServingOverheadAfter, computed
	// here with the model's cold run the batch is charged anyway).
	serving *profiles.Serving
	model   *profiles.Model

	// cold, when set, charges each batch the idle penalty of its server's
	// idle time since its last batch ended.
	cold *profiles.Model

	reqBytes, respBytes int // what a request and its answer put on the links
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
	_, ca := s.laneOf(d)
	tr, err := d.up.Send(s.now, ca.reqBytes)
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
	c, ca := s.laneOf(&s.devices[r.device])
	ca.queue.push(i)
	s.cloudDispatch(c)
}

// cloudDispatch starts batches on pool c's idle servers while the batching
// rule allows, arming the pool's batching timer when it says to wait.
func (s *Sim) cloudDispatch(c *cloud) {
	for len(c.idle) > 0 {
		start, n, oldest := -1, 0, time.Duration(0)
		waiting, wake := false, time.Duration(0)
		for a := range c.apps {
			q := &c.apps[a].queue
			if q.len() == 0 {
				continue
			}
			head := s.reqs[q.front()].cloudArrive
			k, until := c.batching.Take(q.len(), head, s.now)
			switch {
			case k == 0:
				if !waiting || until < wake {
					waiting, wake = true, until
				}
			case start < 0 || head < oldest:
				start, n, oldest = a, k, head
			}
		}
		if start < 0 {
			if waiting && (!c.timerArmed || c.timerAt != wake) {
				s.timerGen++
				c.timerGen = s.timerGen
				c.timerArmed, c.timerAt = true, wake
				s.schedule(wake, EventBatchTimer, c.timerGen)
			}
			return
		}
		s.cloudStart(c, start, n)
	}
}

// cloudStart takes the next b requests of pool c's application a as a
// batch onto the idle server on top of its stack.
func (s *Sim) cloudStart(c *cloud, a, b int) {
	ca := &c.apps[a]
	srv := c.idle[len(c.idle)-1]
	c.idle = c.idle[:len(c.idle)-1]
	c.size[srv], c.app[srv] = int32(b), int32(a)
	members := c.members[int(srv)*c.batching.MaxBatch:][:b]
	for k := range members {
		i := ca.queue.pop()
		members[k] = i
		r := &s.reqs[i]
		s.setState(r, StateCloudRunning)
		r.cloudStart, r.batch = s.now, int32(b)
	}
	t := ca.svc.draw(c.rng, b)
	run := time.Duration(-1) // the model's batch-1 run after the server's idle time
	if ca.cold != nil {
		run = ca.cold.LatencyAt(s.now - c.idleFrom[srv])
		p := max(run-ca.cold.Latency, 0) // IdlePenalty
		s.idle.cloud.add(p)
		t += p
	}
	if c.overhead != nil {
		c.overhead[srv] = ca.overhead
		if ca.serving != nil {
			gap := s.now - c.idleFrom[srv]
			if run < 0 {
				run = ca.model.LatencyAt(gap)
			}
			o := max(ca.serving.LatencyAt(gap)-run, 0)
			c.overhead[srv] = o
			s.idle.serving.add(o - ca.overhead)
		}
	}
	if c.idleFrom != nil {
		c.idleFrom[srv] = s.now + t
	}
	c.busy += t
	c.batches++
	s.schedule(s.now+t, EventCloudDone, c.first+srv)
}

// onBatchTimer closes a pool's batching window, unless a later timer
// replaced it.
func (s *Sim) onBatchTimer(gen int32) {
	for p := range s.clouds {
		c := &s.clouds[p]
		if c.timerArmed && gen == c.timerGen {
			c.timerArmed = false
			s.cloudDispatch(c)
			return
		}
	}
}

// onCloudDone sends server n's batch back down and frees the server; n
// numbers the servers over the pools.
func (s *Sim) onCloudDone(n int32) {
	c := &s.clouds[0]
	for p := len(s.clouds) - 1; p > 0; p-- {
		if n >= s.clouds[p].first {
			c = &s.clouds[p]
			break
		}
	}
	srv := n - c.first
	ca := &c.apps[c.app[srv]]
	overhead := ca.overhead
	if c.overhead != nil {
		overhead = c.overhead[srv]
	}
	for _, i := range c.members[int(srv)*c.batching.MaxBatch:][:c.size[srv]] {
		r := &s.reqs[i]
		s.setState(r, StateDownlink)
		r.cloudEnd = s.now + overhead
		tr, err := s.devices[r.device].down.Send(r.cloudEnd, ca.respBytes)
		if err != nil {
			s.fail(err)
			return
		}
		s.schedule(tr.Delivered, EventDownlinkDone, i)
	}
	c.size[srv] = 0
	c.idle = append(c.idle, srv)
	s.cloudDispatch(c)
}

// cloudQueued is how many requests wait at device d's pool; 0 without a
// cloud.
func (s *Sim) cloudQueued(d *device) int {
	if d.pool == nil {
		return 0
	}
	return d.pool.queued()
}
