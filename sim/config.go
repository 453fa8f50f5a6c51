package sim

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/tandem-edge/tandem/agents/offload"
	"github.com/tandem-edge/tandem/bundles"
	"github.com/tandem-edge/tandem/deploy"
	"github.com/tandem-edge/tandem/profiles"
	"github.com/tandem-edge/tandem/scenarios"
)

// Config is everything a run reads, already in memory: the simulator opens no
// file. Loading scenarios, bundles and profiles, and resolving defaults the
// scenario leaves to the bundle (such as the request size), is the caller's.
type Config struct {
	// Scenario is the deployment to simulate. Its Requests and Duration end
	// the arrivals (either may be zero, not both); Seed seeds every stream.
	Scenario *scenarios.Scenario

	// Outcomes are the bundle's per-sample outcomes; each request replays
	// one, drawn uniformly by its device's sample stream.
	Outcomes []bundles.Outcome

	// EdgeModel and CloudModel give the stages' service times from their
	// device profiles. Either may be nil when the scenario's service
	// override for its stage is set, or when no request reaches the stage.
	EdgeModel, CloudModel *profiles.Model

	// Uplink and Downlink return each device's own link in each direction;
	// a device's transfers cross its link one at a time, in order. Links
	// may keep state (a trace cursor): each is asked for once per device
	// and then sees non-decreasing start times. A nil Downlink uses
	// Uplink. Uplink may be nil when the scenario's policy is edge-only.
	Uplink, Downlink func(device int) profiles.Link

	// NewPolicy builds each device's policy from its policy stream. Nil
	// builds the scenario's policy (deploy.Policies); a learned policy
	// needs a NewPolicy that supplies the offloader.
	NewPolicy deploy.PolicyFactory

	// RequestBytes is what a request puts on its uplink: zero takes the
	// scenario's link.request_bytes, and one of the two must be set
	// (normally scenarios.Inputs.RequestBytes, the wire's bytes the cloud
	// profile measured). ResponseBytes is the answer's on the downlink:
	// zero takes the scenario's link.response_bytes, which may be zero too
	// (then only the propagation delay remains).
	RequestBytes, ResponseBytes int
	// LinkBytes says where RequestBytes and ResponseBytes came from
	// (scenarios.Inputs.LinkBytes), for the summary; "" when set in code.
	LinkBytes string

	// Arrivals are the arrival offsets of a trace workload, ascending. Every
	// device replays them from its own random phase, looping.
	Arrivals []time.Duration

	// Power is what each edge device draws (scenarios.Inputs.Power); nil:
	// the summary reports no energy.
	Power *profiles.Power

	// EdgeModels and Powers are each edge group's edge model and power
	// figures, in the scenario's group order (scenarios.Inputs.Groups);
	// nil: EdgeModel and Power for every group.
	EdgeModels []*profiles.Model
	Powers     []*profiles.Power

	// Apps, for a fleet whose edge groups run several applications
	// (scenarios.Inputs.Apps), are each one's outcomes, heavy model and
	// bytes, and GroupApps each edge group's application; nil: one
	// application, Outcomes, CloudModel and the bytes above. The edge
	// groups' models (EdgeModels) are their applications' edge models.
	Apps      []App
	GroupApps []int

	// Cut is a split deployment's cut, which the summary reports; the
	// stages' models and the bytes are already the cut's (split.For).
	Cut *deploy.Cut

	// Tracer, when set, sees every request state transition.
	Tracer Tracer
}

// App is one application of a fleet that runs several: its bundle's
// outcomes, its heavy model's profile on the cloud device, and what its
// requests and answers put on the links (as Config's single ones).
type App struct {
	Outcomes                    []bundles.Outcome
	CloudModel                  *profiles.Model
	RequestBytes, ResponseBytes int
	Pool                        int // the cloud pool that serves it, in Scenario.Cloud
}

// New checks cfg and builds a simulation ready to Run: one policy per device
// from cfg.NewPolicy, the service times, links and cloud pool the policy
// kind needs. An edge concurrency of 0 means 1.
func New(cfg Config) (*Sim, error) {
	sc := cfg.Scenario
	if sc == nil {
		return nil, errors.New("sim: no scenario")
	}
	apps := cfg.Apps
	if apps == nil {
		apps = []App{{Outcomes: cfg.Outcomes, CloudModel: cfg.CloudModel, RequestBytes: cfg.RequestBytes, ResponseBytes: cfg.ResponseBytes}}
	} else if len(cfg.GroupApps) != len(sc.Edge) {
		return nil, fmt.Errorf("sim: scenario %q: %d edge groups, %d groups' applications in the config", sc.Name, len(sc.Edge), len(cfg.GroupApps))
	}
	outcomes := 0
	for a := range apps {
		if len(apps[a].Outcomes) == 0 {
			return nil, errors.New("sim: no outcomes to replay")
		}
		outcomes += len(apps[a].Outcomes)
	}
	if outcomes > math.MaxInt32 {
		return nil, fmt.Errorf("sim: %d outcomes: at most %d", outcomes, math.MaxInt32)
	}
	for _, a := range cfg.GroupApps {
		if a < 0 || a >= len(apps) {
			return nil, fmt.Errorf("sim: scenario %q: a group runs application %d of %d", sc.Name, a, len(apps))
		}
	}
	if sc.Requests < 0 || sc.Duration < 0 || (sc.Requests == 0 && sc.Duration == 0) {
		return nil, fmt.Errorf("sim: scenario %q: requests %d and duration %v: want one positive, neither negative", sc.Name, sc.Requests, sc.Duration.D())
	}
	if len(sc.Edge) == 0 {
		return nil, fmt.Errorf("sim: scenario %q: no edge group", sc.Name)
	}
	for g := range sc.Edge {
		if n := sc.Edge[g].Count; n < 1 || n > math.MaxInt32 || sc.Edge.Devices() > math.MaxInt32 {
			return nil, fmt.Errorf("sim: scenario %q: %s: edge count %d is not positive", sc.Name, sc.Edge.GroupName(g), n)
		}
		if sc.Edge[g].Concurrency < 0 {
			return nil, fmt.Errorf("sim: scenario %q: %s: edge concurrency %d is negative", sc.Name, sc.Edge.GroupName(g), sc.Edge[g].Concurrency)
		}
	}
	if (cfg.EdgeModels != nil && len(cfg.EdgeModels) != len(sc.Edge)) || (cfg.Powers != nil && len(cfg.Powers) != len(sc.Edge)) {
		return nil, fmt.Errorf("sim: scenario %q: %d edge groups, %d edge models and %d power figures in the config", sc.Name, len(sc.Edge), len(cfg.EdgeModels), len(cfg.Powers))
	}

	s := &Sim{
		name:        sc.Name,
		seed:        sc.Seed,
		maxRequests: int64(sc.Requests),
		until:       sc.Duration.D(),
		timeout:     sc.Timeout.D(),
		tracer:      cfg.Tracer,
		cut:         cfg.Cut,
		col:         deploy.NewCollector(),
		byGroup:     deploy.NewGroups(sc),
		answers:     make([]answer, 0, outcomes),
	}
	// The applications' outcomes one after another; a device draws from
	// its own application's.
	first := make([]int32, len(apps))
	for a := range apps {
		first[a] = int32(len(s.answers))
		s.samples = append(s.samples, offload.FromOutcomes(apps[a].Outcomes)...)
		for i := range apps[a].Outcomes {
			o := &apps[a].Outcomes[i]
			s.answers = append(s.answers, answer{sample: o.Sample, edgeOK: o.EdgeCorrect(), cloudOK: o.CloudCorrect()})
		}
	}

	works, err := deploy.Workloads(sc, cfg.Arrivals)
	if err != nil {
		return nil, err
	}

	newPolicy := cfg.NewPolicy
	if newPolicy == nil {
		newPolicy = deploy.Policies(sc.Policy, nil, nil)
	}
	s.hasCloud = sc.Policy.Kind != offload.KindEdgeOnly
	needEdge := false
	s.devices = make([]device, sc.Edge.Devices())
	for i := range s.devices {
		d := &s.devices[i]
		g, _ := sc.Edge.Of(i)
		d.group = int32(g)
		if cfg.GroupApps != nil {
			d.app = int32(cfg.GroupApps[g])
		}
		d.firstOutcome, d.outcomes = first[d.app], len(apps[d.app].Outcomes)
		d.work = works[i]
		d.arrivals = rand.New(deploy.NewStream(sc.Seed, deploy.StreamArrivals, i))
		d.sampler = rand.New(deploy.NewStream(sc.Seed, deploy.StreamSample, i))
		d.edgeRng = rand.New(deploy.NewStream(sc.Seed, deploy.StreamEdge, i))
		if d.policy, err = newPolicy(i, deploy.NewStream(sc.Seed, deploy.StreamPolicy, i)); err != nil {
			return nil, fmt.Errorf("sim: device %d policy: %w", i, err)
		}
		d.edgeFirst = d.policy.EdgeFirst()
		needEdge = needEdge || d.edgeFirst
		slots := max(sc.Edge[g].Concurrency, 1)
		d.slots, d.idle = slots, slots
	}
	edgeModel := edgeModelOf(needEdge, cfg.EdgeModel)
	s.groups = make([]group, len(sc.Edge))
	for g := range s.groups {
		gr := &s.groups[g]
		gr.power = cfg.Power
		if cfg.Powers != nil {
			gr.power = cfg.Powers[g]
		}
		if !needEdge {
			continue
		}
		m := edgeModel
		if cfg.EdgeModels != nil {
			m = cfg.EdgeModels[g]
		}
		if gr.svc, err = newService("edge", sc.Edge[g].Service, m, 1); err != nil {
			if len(sc.Edge) > 1 {
				err = fmt.Errorf("%s: %w", sc.Edge.GroupName(g), err)
			}
			return nil, err
		}
		if sc.Edge[g].Service == nil && len(m.Cold) > 0 {
			gr.cold = m
		}
	}
	if s.hasCloud {
		if err := s.buildCloud(&cfg, apps); err != nil {
			return nil, err
		}
	}
	var cloudModel *profiles.Model
	if s.hasCloud {
		cloudModel = cfg.CloudModel
	}
	if cfg.EdgeModels != nil && needEdge {
		edgeModel = cfg.EdgeModels[0]
	}
	s.service = deploy.ServiceOf(sc, edgeModel, cloudModel)
	if s.hasCloud {
		a0 := &s.clouds[s.lanes[0].pool].apps[s.lanes[0].app]
		s.service.RequestBytes, s.service.ResponseBytes, s.service.LinkBytes = a0.reqBytes, a0.respBytes, cfg.LinkBytes
	}
	return s, nil
}

// buildCloud checks and builds what offloaded requests use: the links, the
// payload sizes and the cloud pool, with each application's model on it.
func (s *Sim) buildCloud(cfg *Config, apps []App) error {
	sc := cfg.Scenario
	if cfg.Uplink == nil {
		return fmt.Errorf("sim: scenario %q: policy %q offloads, but the config has no uplink", sc.Name, sc.Policy.Kind)
	}
	down := cfg.Downlink
	if down == nil {
		down = cfg.Uplink
	}
	for g := range sc.Edge {
		if rtt := sc.LinkOf(g).RTT; rtt < 0 {
			return fmt.Errorf("sim: scenario %q: negative link rtt %v", sc.Name, rtt.D())
		}
	}
	for i := range s.devices {
		d := &s.devices[i]
		up, dn := cfg.Uplink(i), down(i)
		if up == nil || dn == nil {
			return fmt.Errorf("sim: device %d has no uplink or no downlink", i)
		}
		rtt := sc.LinkOf(int(d.group)).RTT.D()
		d.up = deploy.NewLink(up, rtt)
		d.down = deploy.NewLink(dn, rtt)
		d.upMbps = up.MeanMbps()
	}

	if len(sc.Cloud) == 0 {
		return fmt.Errorf("sim: scenario %q: policy %q offloads, but the scenario has no cloud pool", sc.Name, sc.Policy.Kind)
	}
	for a := range apps {
		if apps[a].Pool < 0 || apps[a].Pool >= len(sc.Cloud) {
			return fmt.Errorf("sim: scenario %q: an application is served by cloud pool %d of %d", sc.Name, apps[a].Pool, len(sc.Cloud))
		}
	}
	s.clouds = make([]cloud, len(sc.Cloud))
	s.lanes = make([]lane, len(apps))
	first := int32(0)
	for p := range sc.Cloud {
		c := &s.clouds[p]
		c.name, c.first = sc.Cloud.PoolName(p), first
		var poolApps []App
		for a := range apps {
			if apps[a].Pool == p {
				s.lanes[a] = lane{pool: int32(p), app: int32(len(poolApps))}
				poolApps = append(poolApps, apps[a])
			}
		}
		if err := buildPool(c, sc, p, poolApps); err != nil {
			return err
		}
		if int64(first)+int64(c.servers) > math.MaxInt32 {
			return fmt.Errorf("sim: scenario %q: %d cloud servers over the pools: at most %d", sc.Name, int64(first)+int64(c.servers), math.MaxInt32)
		}
		first += int32(c.servers)
	}
	for i := range s.devices {
		d := &s.devices[i]
		l := s.lanes[d.app]
		d.pool = &s.clouds[l.pool]
		d.lane = &d.pool.apps[l.app]
	}
	return nil
}

// buildPool builds cloud pool p of sc, serving apps.
func buildPool(c *cloud, sc *scenarios.Scenario, p int, apps []App) error {
	cs := &sc.Cloud[p]
	if cs.Servers < 1 || cs.Servers > math.MaxInt32 {
		return fmt.Errorf("sim: scenario %q: %s servers %d is not positive", sc.Name, sc.CloudPath(p), cs.Servers)
	}
	c.batching = deploy.Batching{MaxBatch: 1}
	if b := cs.Batching; b != nil {
		if b.MaxBatch < 1 || b.MaxWait < 0 {
			return fmt.Errorf("sim: scenario %q: %s batching max_batch %d, max_wait %v: want max_batch ≥ 1, max_wait ≥ 0", sc.Name, sc.CloudPath(p), b.MaxBatch, b.MaxWait.D())
		}
		c.batching = deploy.Batching{MaxBatch: b.MaxBatch, MaxWait: b.MaxWait.D()}
	}
	c.apps = make([]cloudApp, len(apps))
	for a := range apps {
		ca := &c.apps[a]
		ca.reqBytes, ca.respBytes = apps[a].RequestBytes, apps[a].ResponseBytes
		if ca.reqBytes == 0 {
			ca.reqBytes = sc.Link.RequestBytes
		}
		if ca.respBytes == 0 {
			ca.respBytes = sc.Link.ResponseBytes
		}
		if ca.reqBytes <= 0 || ca.respBytes < 0 {
			return fmt.Errorf("sim: scenario %q: request size %d, response size %d: set link.request_bytes (the bundle's input size)", sc.Name, ca.reqBytes, ca.respBytes)
		}
		m := apps[a].CloudModel
		var err error
		if ca.svc, err = newService("cloud", cs.Service, m, c.batching.MaxBatch); err != nil {
			return err
		}
		if cs.Service == nil && len(m.Cold) > 0 {
			ca.cold = m
			c.idleFrom = make([]time.Duration, cs.Servers)
		}
		if cs.Service == nil {
			// Every request pays the serving path's own cost on top of
			// its batch's run, beside the batch (cloud.overhead).
			ca.overhead, _ = deploy.CloudOverhead(m, cs.Protocol)
			if sv := servingCold(m, cs.Protocol); sv != nil {
				ca.serving, ca.model = sv, m
				if c.idleFrom == nil {
					c.idleFrom = make([]time.Duration, cs.Servers)
				}
				c.overhead = make([]time.Duration, cs.Servers)
			}
		}
	}
	c.rng = rand.New(deploy.NewStream(sc.Seed, deploy.StreamCloud, p))
	c.servers = cs.Servers
	c.size = make([]int32, cs.Servers)
	c.app = make([]int32, cs.Servers)
	c.members = make([]int32, cs.Servers*c.batching.MaxBatch)
	c.idle = make([]int32, cs.Servers)
	for i := range c.idle {
		c.idle[i] = int32(cs.Servers - 1 - i) // server 0 on top
	}
	return nil
}

// edgeModelOf is the edge model's profile when any request runs it.
func edgeModelOf(needEdge bool, m *profiles.Model) *profiles.Model {
	if !needEdge {
		return nil
	}
	return m
}

// servingCold is m's serving path over protocol when it has a cold curve,
// else nil.
func servingCold(m *profiles.Model, protocol string) *profiles.Serving {
	for i := range m.Serving {
		if sv := &m.Serving[i]; sv.Protocol == protocol && len(sv.Cold) > 0 {
			return sv
		}
	}
	return nil
}
