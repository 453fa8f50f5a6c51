package sim

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/tandem-edge/tandem/agents/offload"
	"github.com/tandem-edge/tandem/deploy"
	"github.com/tandem-edge/tandem/profiles"
)

// Sim is one simulation run: built by New, run once by Run.
type Sim struct {
	name string
	seed uint64

	now        time.Duration
	seq        uint64
	q          eventHeap
	topPending bool // the event being handled is still the heap's top
	events     int64

	devices  []device
	groups   []group
	idle     idleCharges
	service  *deploy.Service // which measurements the service times came from
	cut      *deploy.Cut     // a split deployment's, for the summary
	byGroup  *deploy.Groups  // per-group figures of a fleet of several groups; nil for one
	hasCloud bool
	clouds   []cloud // the scenario's pools
	lanes    []lane  // each application's pool and queue there
	timerGen int32   // the last batching timer's generation, over the pools

	reqs    []request        // pool, indexed by int32 in events and queues
	free    []int32          // indices of Free requests
	samples []offload.Sample // what the policies see, per outcome
	answers []answer         // what completion needs, per outcome, packed

	maxRequests int64         // 0: no limit
	until       time.Duration // 0: no limit
	timeout     time.Duration // answers later than this fail; 0: none
	arrived     int64
	closed      bool // the fleet reached maxRequests: later arrivals are dropped
	lastDone    time.Duration

	ctx    offload.Context // reused for every decision
	record deploy.Record   // reused for every completion
	col    *deploy.Collector
	rec    deploy.Recorder
	tracer Tracer
	err    error
	ran    bool
}

// device is one edge device: its workload, its edge server, its links.
type device struct {
	group int32 // index in Sim.groups
	app   int32 // the application it runs, index in Sim.lanes
	// pool and lane are its application's cloud pool and queue there (its
	// lane's); nil without a cloud.
	pool *cloud
	lane *cloudApp
	// Its application's outcomes are firstOutcome onwards, outcomes many.
	firstOutcome int32
	outcomes     int
	work         deploy.Workload
	arrivals     *rand.Rand
	sampler      *rand.Rand
	edgeRng      *rand.Rand
	policy       offload.Policy
	edgeFirst    bool
	upMbps       float64

	// The edge server: slots run requests, the rest wait in queue, FIFO.
	slots, idle int
	queue       ring
	idleFrom    time.Duration // when its last edge run ended: its core idles from then
	busy        time.Duration

	up, down deploy.Link
}

// group is what the devices of one edge group share.
type group struct {
	svc service
	// cold, when set, charges each edge run the idle penalty of its
	// device's idle time (its profile's cold curve).
	cold  *profiles.Model
	power *profiles.Power // what each device draws; nil: no energy
}

// answer is what completing a request needs of its outcome, packed small
// because completions read it at random.
type answer struct {
	sample          int
	edgeOK, cloudOK bool
}

// request is one request in flight; its times are when it reached each
// point of its path.
type request struct {
	id          uint64
	arrival     time.Duration
	edgeStart   time.Duration
	edgeEnd     time.Duration
	upJoin      time.Duration
	cloudArrive time.Duration
	cloudStart  time.Duration
	cloudEnd    time.Duration
	device      int32
	outcome     int32
	batch       int32
	state       State
	decision    offload.Decision
}

// Run simulates until every arrival is answered and returns the summary;
// each answered request is handed to rec (nil: none) as it completes, and a
// rec with a Flush() error method is flushed at the end. deploy.Summary.WallSeconds
// is left for the caller. Run may be called once.
func (s *Sim) Run(rec deploy.Recorder) (*deploy.Summary, error) {
	if s.ran {
		return nil, errors.New("sim: Run called twice on one Sim")
	}
	s.ran = true
	s.rec = rec
	for i := range s.devices {
		d := &s.devices[i]
		if t := d.work.First(d.arrivals); s.until == 0 || t < s.until {
			s.schedule(t, EventArrival, int32(i))
		}
	}
	for s.q.len() > 0 && s.err == nil {
		e := s.q.top()
		s.now = e.at
		s.topPending = true
		s.events++
		switch e.kind {
		case EventArrival:
			s.onArrival(e.id)
		case EventEdgeDone:
			s.onEdgeDone(e.id)
		case EventUplinkDone:
			s.onUplinkDone(e.id)
		case EventBatchTimer:
			s.onBatchTimer(e.id)
		case EventCloudDone:
			s.onCloudDone(e.id)
		case EventDownlinkDone:
			s.complete(e.id)
		default:
			panic(fmt.Sprintf("sim: unknown %v", e.kind))
		}
		if s.topPending {
			s.q.pop()
			s.topPending = false
		}
	}
	if s.err != nil {
		return nil, s.err
	}
	if f, ok := rec.(interface{ Flush() error }); ok {
		if err := f.Flush(); err != nil {
			return nil, fmt.Errorf("sim: flushing records: %w", err)
		}
	}
	return s.summary(), nil
}

// schedule adds an event at t; the first event a handler schedules takes
// the place of the one being handled.
func (s *Sim) schedule(t time.Duration, kind EventKind, id int32) {
	if t < s.now {
		panic(fmt.Sprintf("sim: %v event scheduled at %v, in the past of %v", kind, t, s.now))
	}
	e := event{at: t, seq: s.seq, id: id, kind: kind}
	s.seq++
	if s.topPending {
		s.topPending = false
		s.q.replaceTop(e)
		return
	}
	s.q.push(e)
}

// fail stops the run with err at the end of the current event.
func (s *Sim) fail(err error) {
	if s.err == nil {
		s.err = err
	}
}

// setState moves r to state to, panicking on a transition the request life
// cycle does not have: that is a bug in the engine.
func (s *Sim) setState(r *request, to State) {
	if !legal(r.state, to) {
		panic(fmt.Sprintf("sim: illegal transition of request %d: %v → %v", r.id, r.state, to))
	}
	if s.tracer != nil {
		s.tracer.Transition(s.now, r.id, r.state, to)
	}
	r.state = to
}

// alloc takes a Free request from the pool. It may move the pool: pointers
// into s.reqs taken before it are stale after it.
func (s *Sim) alloc() int32 {
	if n := len(s.free); n > 0 {
		i := s.free[n-1]
		s.free = s.free[:n-1]
		return i
	}
	if len(s.reqs) == math.MaxInt32 {
		panic("sim: 2^31 requests in flight")
	}
	s.reqs = append(s.reqs, request{})
	return int32(len(s.reqs) - 1)
}

// onArrival creates a request at device dev and schedules the device's next
// arrival.
func (s *Sim) onArrival(dev int32) {
	if s.closed {
		s.events-- // dropped: the fleet already sent its last request
		return
	}
	d := &s.devices[dev]
	s.arrived++
	s.byGroup.Arrived(int(dev))
	if s.maxRequests > 0 && s.arrived >= s.maxRequests {
		s.closed = true
	} else if t := d.work.Next(d.arrivals, s.now); s.until == 0 || t < s.until {
		s.schedule(t, EventArrival, dev)
	}
	i := s.alloc()
	r := &s.reqs[i]
	*r = request{
		id:      uint64(s.arrived - 1),
		arrival: s.now,
		device:  dev,
		outcome: d.firstOutcome + int32(d.sampler.IntN(d.outcomes)),
	}
	if d.edgeFirst {
		s.edgeArrive(d, i)
	} else {
		s.uplink(d, i)
	}
}

// complete answers request i now, records it and returns it to the pool.
func (s *Sim) complete(i int32) {
	r := &s.reqs[i]
	s.setState(r, StateDone)
	s.lastDone = s.now
	a := &s.answers[r.outcome]
	cloud := r.decision == offload.Cloud
	correct := a.edgeOK
	if cloud {
		correct = a.cloudOK
	}
	status, why := deploy.StatusOK, deploy.FailureNone
	if deploy.Late(s.now-r.arrival, s.timeout) {
		status, why = deploy.StatusFailed, deploy.FailureTimeout
		s.col.AddFailure(why)
		s.byGroup.AddFailure(int(r.device), why)
	} else {
		s.col.AddAnswer(s.now-r.arrival, correct, cloud)
		s.byGroup.AddAnswer(int(r.device), s.now-r.arrival, correct, cloud)
	}
	if s.rec != nil {
		s.record = deploy.Record{
			ID:       r.id,
			Device:   int(r.device),
			Sample:   a.sample,
			Arrival:  r.arrival,
			Decision: r.decision,
			Latency:  s.now - r.arrival,
			Correct:  correct,
			Status:   status,
			Failure:  why,
		}
		if s.devices[r.device].edgeFirst {
			s.record.EdgeQueue = r.edgeStart - r.arrival
			s.record.Edge = r.edgeEnd - r.edgeStart
		}
		if cloud {
			s.record.Uplink = r.cloudArrive - r.upJoin
			s.record.CloudQueue = r.cloudStart - r.cloudArrive
			s.record.Cloud = r.cloudEnd - r.cloudStart
			s.record.Downlink = s.now - r.cloudEnd
			s.record.Batch = int(r.batch)
		}
		if err := s.rec.Record(&s.record); err != nil {
			s.fail(fmt.Errorf("sim: recording request %d: %w", r.id, err))
		}
	}
	s.setState(r, StateFree)
	s.free = append(s.free, i)
}

// summary builds the run's summary from the collector and the stages.
func (s *Sim) summary() *deploy.Summary {
	sum := &deploy.Summary{
		Scenario: s.name,
		Mode:     deploy.ModeSim,
		Seed:     s.seed,
		Requests: s.arrived,
		Events:   s.events,
		Service:  s.service,
		Cut:      s.cut,
	}
	s.col.Fill(sum)
	if sum.Service != nil {
		sv := *sum.Service
		sv.EdgeIdleMS, sv.CloudIdleMS = s.idle.edge.meanMS(), s.idle.cloud.meanMS()
		sv.CloudOverheadIdleMS = s.idle.serving.meanMS()
		sum.Service = &sv
	}
	n := len(s.devices)
	b := deploy.Busy{Edge: make([]time.Duration, n), Slots: make([]int, n), Power: make([]*profiles.Power, n)}
	if s.hasCloud {
		b.Uplink = make([]time.Duration, n)
		b.Downlink = make([]time.Duration, n)
		for p := range s.clouds {
			c := &s.clouds[p]
			b.Cloud += c.busy
			b.Servers += c.servers
			if len(s.clouds) > 1 {
				b.Pools = append(b.Pools, deploy.PoolBusy{Name: c.name, Busy: c.busy, Servers: c.servers})
			}
		}
	}
	for i := range s.devices {
		d := &s.devices[i]
		b.Edge[i], b.Slots[i], b.Power[i] = d.busy, d.slots, s.groups[d.group].power
		if b.Uplink != nil {
			b.Uplink[i], b.Downlink[i] = d.up.Busy(), d.down.Busy()
		}
	}
	b.Fill(sum, s.lastDone)
	s.byGroup.Fill(sum, &b, s.lastDone)
	return sum
}
