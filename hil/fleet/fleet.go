package fleet

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/tandem-edge/tandem/agents/offload"
	"github.com/tandem-edge/tandem/bundles"
	"github.com/tandem-edge/tandem/deploy"
	"github.com/tandem-edge/tandem/dnn"
	"github.com/tandem-edge/tandem/hil/oip"
	"github.com/tandem-edge/tandem/profiles"
	"github.com/tandem-edge/tandem/scenarios"
)

// Model runs the edge model on a batch: hil.Session implements it. One
// Model is used by one goroutine.
type Model interface {
	Run(dst, x []float32, n int) error
}

// Cloud answers offloaded inputs: an oip.Client.
type Cloud interface {
	InferAnswer(ctx context.Context, x []float32, n int) (*oip.Answer, error)
}

// Config is a fleet run: the scenario, its schedule and what executes it.
type Config struct {
	Scenario *scenarios.Scenario
	// Arrivals are the requests, in order (deploy.Schedule).
	Arrivals []deploy.Arrival
	// Outcomes are the bundle's; an arrival replays Outcomes[a.Outcome],
	// whose Sample and Label say which input it sends and what is right.
	Outcomes []bundles.Outcome
	// Input returns the model input (normalised) of a held-out sample.
	Input   func(sample int) []float32
	Classes int

	// NewEdge opens the edge model's i-th session; nil when no request
	// runs the edge model (cloud-only).
	NewEdge func(i int) (Model, error)
	// EdgeSessions bounds the edge sessions the run opens: with more
	// device slots than that, the slots share them, and a run that finds
	// none free waits (Result.SessionWait). 0: one per slot, never shared.
	EdgeSessions int
	// CutValues, when above 0, makes the edge model a split deployment's
	// device part (split.Parts), which gives CutValues values a sample:
	// they, not the input, cross the link, the cloud runs the rest of the
	// model, and no policy is asked, every request going on.
	CutValues int
	// EdgeSlowdown, when above 1, emulates a device that many times
	// slower than this host: each edge run holds its slot for
	// EdgeSlowdown times as long as it took (the edge profile's
	// host.slowdown). EdgeSlowdowns, when set, is each edge group's, in
	// the scenario's group order, in its place.
	EdgeSlowdown  float64
	EdgeSlowdowns []float64
	Cloud         Cloud // nil when no request reaches the cloud (edge-only)
	// CloudFor, when set, is device i's own way to the cloud instead of
	// Cloud: with KernelLinks, a client whose connections cross the
	// device's shaped veth pair.
	CloudFor func(device int) Cloud
	// KernelLinks says the cloud calls' bytes cross links the kernel
	// shapes (kernlink): the run then adds only half the round trip
	// each way, and keeps the link rule (deploy.Link) as its estimate of
	// the kernel's queue, for the policies' Context and the uplink's
	// utilization.
	KernelLinks bool
	// CloudServers is the cloud's size over its pools, for its
	// utilization. Pools, for a cloud of several pools, are each one's
	// name and servers, in the scenario's order, for each one's (an App's
	// Pool indexes them); nil: one pool.
	CloudServers int
	Pools        []Pool

	// Uplink and Downlink return each device's links (as the simulator's
	// Config); RequestBytes and ResponseBytes are what crosses them.
	Uplink, Downlink            func(device int) profiles.Link
	RequestBytes, ResponseBytes int

	// NewPolicy builds each device's policy from its policy stream; nil
	// builds the scenario's (deploy.Policies).
	NewPolicy deploy.PolicyFactory

	// Power is what each edge device draws: the run's measured stage
	// times priced by these figures give its energy, as the simulator
	// prices its modelled ones; nil: no energy in the summary. Powers,
	// when set, is each edge group's, in its place.
	Power  *profiles.Power
	Powers []*profiles.Power

	// Apps, for a fleet whose edge groups run several applications, are
	// each one's outcomes, models and bytes in place of Outcomes, Input,
	// Classes, NewEdge, Cloud, CloudFor, RequestBytes and ResponseBytes,
	// and GroupApps each edge group's application (as the simulator's
	// Config.Apps). An arrival's Outcome indexes its application's
	// outcomes (deploy.Schedule with each group's count).
	Apps      []App
	GroupApps []int

	// Recorder, when set, gets each request's record as it ends, from
	// one goroutine at a time.
	Recorder deploy.Recorder
	// Progress, when set, is told how many requests have ended, and how
	// many of them failed, as they
	// end, from one goroutine at a time.
	Progress func(ended, failed int)
}

// App is one application of a fleet: the outcomes its devices replay, the
// edge model they run and the cloud model that answers them.
type App struct {
	Outcomes                    []bundles.Outcome
	Input                       func(sample int) []float32
	Classes                     int
	NewEdge                     func(i int) (Model, error)
	Cloud                       Cloud
	CloudFor                    func(device int) Cloud
	RequestBytes, ResponseBytes int
	Pool                        int // the cloud pool that serves it, in Config.Pools
}

// Pool is one cloud pool of a fleet's cloud.
type Pool struct {
	Name    string
	Servers int
}

// applications are cfg's applications: Apps, or the one its own fields
// describe.
func (cfg *Config) applications() []App {
	if len(cfg.Apps) > 0 {
		return cfg.Apps
	}
	return []App{{Outcomes: cfg.Outcomes, Input: cfg.Input, Classes: cfg.Classes, NewEdge: cfg.NewEdge,
		Cloud: cfg.Cloud, CloudFor: cfg.CloudFor, RequestBytes: cfg.RequestBytes, ResponseBytes: cfg.ResponseBytes}}
}

// arrived is a request as its device received it.
type arrived struct {
	deploy.Arrival
	at time.Time // when the dispatcher handed it over: the wall-clock arrival
}

// device is one edge device: its slots' queue, its policy and its links.
type device struct {
	app       *App
	appNo     int       // d.app's index in the applications
	sessions  *sessions // its application's edge sessions
	queue     chan arrived
	policyMu  sync.Mutex // slots share the policy
	policy    offload.Policy
	edgeFirst bool
	up, down  *shapedLink
	cloud     Cloud
	slots     int
	slowdown  float64       // above 1: an emulated slower device (Config.EdgeSlowdown)
	edgeBusy  time.Duration // under run.mu
}

type run struct {
	cfg   Config
	start time.Time
	ctx   context.Context

	mu        sync.Mutex // guards what follows
	col       *deploy.Collector
	byGroup   *deploy.Groups
	err       error
	ended     int
	failures  int // of the ended
	lastDone  time.Duration
	cloudBusy []time.Duration // each pool's
	// cloudQueue is each pool's queue as its last answer reported it: what
	// a device can know of it, and what its policy's Context holds.
	cloudQueue []int
	late       []time.Duration // how late each arrival was handed over
	// sessionWait is how long edge runs waited for a shared session.
	sessionWait deploy.Quantiles

	cloudWG sync.WaitGroup
	spin    time.Duration // waitUntil's, for this fleet
}

// sessions are an application's edge model sessions, shared by every slot
// of its devices.
type sessions struct {
	free   chan Model
	shared bool // fewer sessions than slots
}

// spin is how long before a deadline waitUntil stops sleeping and yields
// instead, to hand a request over, or end a transfer, on time. Only a
// fleet of at most spinSlots device slots spins: past that, the waiters
// yielding at once would outnumber the host's cores many times and take
// the time the devices' work needs, so they sleep to their deadlines.
var spin = 400 * time.Microsecond

const spinSlots = 64

// Result is a fleet run's outcome: the summary (mode hil) and how late the
// dispatcher handed requests to their devices, which bounds how well the
// run kept the schedule.
type Result struct {
	Summary  *deploy.Summary
	Lateness *deploy.Quantiles
	// SessionWait is how long edge runs waited for a shared session: the
	// harness's, as Lateness is, and empty when every slot has its own.
	SessionWait *deploy.Quantiles
}

// Run runs the fleet until every request has ended or ctx is done. A
// request the cloud fails is recorded as failed; an error of the edge model
// or the recorder stops the run.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	sc := cfg.Scenario
	if len(cfg.Arrivals) == 0 {
		return nil, errors.New("fleet: no arrivals")
	}
	if (cfg.EdgeSlowdowns != nil && len(cfg.EdgeSlowdowns) != len(sc.Edge)) || (cfg.Powers != nil && len(cfg.Powers) != len(sc.Edge)) {
		return nil, fmt.Errorf("fleet: %d edge groups, %d slowdowns and %d power figures", len(sc.Edge), len(cfg.EdgeSlowdowns), len(cfg.Powers))
	}
	apps := cfg.applications()
	groupApp := func(int) int { return 0 }
	if cfg.Apps != nil {
		if len(cfg.GroupApps) != len(sc.Edge) {
			return nil, fmt.Errorf("fleet: %d edge groups, %d groups' applications", len(sc.Edge), len(cfg.GroupApps))
		}
		for g, a := range cfg.GroupApps {
			if a < 0 || a >= len(apps) {
				return nil, fmt.Errorf("fleet: edge group %d runs application %d of %d", g, a, len(apps))
			}
		}
		if cfg.CutValues > 0 && len(apps) > 1 {
			return nil, errors.New("fleet: a split deployment of several applications")
		}
		groupApp = func(g int) int { return cfg.GroupApps[g] }
	}
	npools := max(len(cfg.Pools), 1)
	for _, a := range apps {
		if a.Pool < 0 || a.Pool >= npools {
			return nil, fmt.Errorf("fleet: an application is served by cloud pool %d of %d", a.Pool, npools)
		}
	}
	r := &run{cfg: cfg, col: deploy.NewCollector(), byGroup: deploy.NewGroups(sc), ctx: ctx,
		cloudBusy: make([]time.Duration, npools), cloudQueue: make([]int, npools)}
	totalSlots := 0
	appSlots := make([]int, len(apps))
	for g := range sc.Edge {
		n := max(sc.Edge[g].Concurrency, 1) * sc.Edge[g].Count
		totalSlots += n
		appSlots[groupApp(g)] += n
	}
	if totalSlots <= spinSlots {
		r.spin = spin
	}
	devs := make([]*device, sc.Edge.Devices())
	perDevice := make([]int, len(devs))
	for _, a := range cfg.Arrivals {
		perDevice[a.Device]++
	}
	newPolicy := cfg.NewPolicy
	if newPolicy == nil {
		newPolicy = deploy.Policies(sc.Policy, nil, nil)
	}
	for i := range devs {
		p, err := newPolicy(i, deploy.PolicyStream(sc.Seed, i))
		if err != nil {
			return nil, fmt.Errorf("fleet: device %d policy: %w", i, err)
		}
		g, _ := sc.Edge.Of(i)
		app := &apps[groupApp(g)]
		d := &device{app: app, appNo: groupApp(g), queue: make(chan arrived, perDevice[i]), policy: p, edgeFirst: p.EdgeFirst(), cloud: app.Cloud,
			slots: max(sc.Edge[g].Concurrency, 1), slowdown: cfg.EdgeSlowdown}
		if cfg.EdgeSlowdowns != nil {
			d.slowdown = cfg.EdgeSlowdowns[g]
		}
		if app.CloudFor != nil {
			d.cloud = app.CloudFor(i)
		}
		if cfg.Uplink != nil {
			rtt := sc.LinkOf(g).RTT.D()
			d.up = newShapedLink(cfg.Uplink(i), rtt)
			down := cfg.Uplink(i)
			if cfg.Downlink != nil {
				down = cfg.Downlink(i)
			}
			d.down = newShapedLink(down, rtt)
		}
		devs[i] = d
	}

	// Each application's edge sessions, for its devices whose policy runs
	// the edge model first.
	pools := make([]*sessions, len(apps))
	for _, d := range devs {
		a, k := d.app, d.appNo
		if !d.edgeFirst || pools[k] != nil {
			d.sessions = pools[k]
			continue
		}
		if a.NewEdge == nil {
			return nil, errors.New("fleet: the policy runs the edge model and no edge model was given")
		}
		n := appSlots[k]
		if cfg.EdgeSessions > 0 {
			n = min(n, cfg.EdgeSessions)
		}
		p := &sessions{free: make(chan Model, n), shared: n < appSlots[k]}
		for i := range n {
			m, err := a.NewEdge(i)
			if err != nil {
				return nil, fmt.Errorf("fleet: edge model session %d: %w", i, err)
			}
			p.free <- m
		}
		pools[k], d.sessions = p, p
	}
	var workers sync.WaitGroup
	// Time zero a little ahead, so that the first arrivals do not find
	// the workers still starting.
	r.start = time.Now().Add(20 * time.Millisecond)
	for _, d := range devs {
		if d.up != nil {
			d.up.start, d.down.start = r.start, r.start
			d.up.spin, d.down.spin = r.spin, r.spin
			d.up.ctx, d.down.ctx = ctx, ctx
		}
		for range d.slots {
			workers.Go(func() { r.work(d) })
		}
	}

	// Dispatch each arrival at its time.
	for _, a := range cfg.Arrivals {
		if r.failed() {
			break
		}
		t := r.start.Add(a.At)
		waitUntil(ctx, t, r.spin)
		if ctx.Err() != nil {
			break
		}
		now := time.Now()
		r.late = append(r.late, now.Sub(t))
		devs[a.Device].queue <- arrived{Arrival: a, at: now}
	}
	for _, d := range devs {
		close(d.queue)
	}
	workers.Wait()
	r.cloudWG.Wait()
	if r.err != nil {
		return nil, r.err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	late := &deploy.Quantiles{}
	for _, l := range r.late {
		late.Add(l)
	}
	return &Result{Summary: r.summary(devs), Lateness: late, SessionWait: &r.sessionWait}, nil
}

func (r *run) failed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err != nil
}

// work serves a device's queue on one edge slot.
func (r *run) work(d *device) {
	app := d.app
	logits := make([]float32, max(app.Classes, r.cfg.CutValues))
	for a := range d.queue {
		if r.failed() {
			continue // drain
		}
		o := &app.Outcomes[a.Outcome]
		rec := &deploy.Record{ID: a.ID, Device: a.Device, Sample: o.Sample, Arrival: a.At, Decision: offload.Cloud}
		// Latency counts from when the request reached its device, not
		// from when it was scheduled to: the dispatcher's own lateness is
		// the harness's, not the deployment's (Lateness reports it).
		arrived := a.at
		x := app.Input(o.Sample)
		if d.edgeFirst {
			picked := time.Now()
			m := <-d.sessions.free
			began := time.Now()
			if d.sessions.shared {
				r.mu.Lock()
				r.sessionWait.Add(began.Sub(picked))
				r.mu.Unlock()
			}
			rec.EdgeQueue = max(began.Sub(arrived), 0)
			err := m.Run(logits, x, 1)
			d.sessions.free <- m
			if err != nil {
				r.fail(fmt.Errorf("fleet: device %d edge model: %w", a.Device, err))
				continue
			}
			if k := d.slowdown; k > 1 {
				// The emulated device is still computing: the slot waits,
				// the host's core is free for the other devices.
				waitUntil(r.ctx, began.Add(time.Duration(k*float64(time.Since(began)))), r.spin)
			}
			rec.Edge = time.Since(began)
			r.mu.Lock()
			d.edgeBusy += rec.Edge
			r.mu.Unlock()
			if n := r.cfg.CutValues; n > 0 {
				// The cut tensor goes on; the slot's buffer is the next run's.
				cut := slices.Clone(logits[:n])
				r.cloudWG.Go(func() { r.offload(d, rec, cut, o.Label, arrived) })
				continue
			}
			pred := dnn.Argmax(logits)
			s := offload.NewSample(logits, pred == o.Label, o.CloudCorrect())
			r.mu.Lock()
			ctx := offload.Context{EdgeQueue: len(d.queue), CloudQueue: r.cloudQueue[app.Pool]}
			r.mu.Unlock()
			if d.up != nil {
				ctx.UplinkMbps, ctx.UplinkBacklog = d.up.meanMbps(), d.up.backlog()
			}
			d.policyMu.Lock()
			rec.Decision = d.policy.Decide(&s, &ctx)
			d.policyMu.Unlock()
			if rec.Decision == offload.Edge {
				rec.Correct = pred == o.Label
				rec.Latency = time.Since(arrived)
				r.end(rec)
				continue
			}
		}
		// The edge slot is free again while the request crosses the link.
		r.cloudWG.Go(func() { r.offload(d, rec, x, o.Label, arrived) })
	}
}

// offload carries a request up the device's link, through the cloud and
// back. The scenario's timeout bounds the cloud call: a request its client
// has given up on is not waited for, however long the cloud takes.
func (r *run) offload(d *device, rec *deploy.Record, x []float32, label int, arrived time.Time) {
	t := time.Now()
	if err := r.cross(d.up, d.app.RequestBytes); err != nil {
		r.fail(fmt.Errorf("fleet: device %d uplink: %w", rec.Device, err))
		return
	}
	rec.Uplink = time.Since(t)
	ctx := r.ctx
	if to := r.cfg.Scenario.Timeout.D(); to > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, arrived.Add(to))
		defer cancel()
	}
	t = time.Now()
	ans, err := d.cloud.InferAnswer(ctx, x, 1)
	roundTrip := time.Since(t)
	if err == nil && len(ans.Y) != d.app.Classes {
		err = fmt.Errorf("fleet: %d output values, want %d: %w", len(ans.Y), d.app.Classes, oip.ErrBadAnswer)
	}
	if err != nil {
		rec.Status, rec.Failure = deploy.StatusFailed, oip.Classify(err)
		if r.ctx.Err() == nil && ctx.Err() != nil {
			// The deadline passed, whatever the transport made of it.
			rec.Failure = deploy.FailureTimeout
		}
		rec.Cloud = roundTrip
		rec.Latency = time.Since(arrived)
		r.end(rec)
		return
	}
	rec.Cloud = roundTrip
	if p := ans.Server; p != nil {
		rec.CloudQueue = time.Duration(p.QueueMS * 1e6)
		rec.Cloud = roundTrip - rec.CloudQueue
		rec.Batch = p.BatchSamples
		r.mu.Lock()
		r.cloudQueue[d.app.Pool] = int(p.QueuedSamples)
		if p.BatchSamples > 0 {
			r.cloudBusy[d.app.Pool] += time.Duration(p.ComputeMS * 1e6 / float64(p.BatchSamples))
		}
		r.mu.Unlock()
	}
	t = time.Now()
	if err := r.cross(d.down, d.app.ResponseBytes); err != nil {
		r.fail(fmt.Errorf("fleet: device %d downlink: %w", rec.Device, err))
		return
	}
	rec.Downlink = time.Since(t)
	rec.Correct = dnn.Argmax(ans.Y) == label
	rec.Latency = time.Since(arrived)
	r.end(rec)
}

// cross carries n bytes over one direction of a device's link. Shaped in
// process, it waits for the transfer's delivery by the link rule; with
// kernel links the bytes cross the kernel's link within the cloud call,
// and it waits only for the half round trip, the link rule noting the
// transfer as its estimate of the kernel's queue.
func (r *run) cross(l *shapedLink, n int) error {
	if !r.cfg.KernelLinks {
		return l.send(n)
	}
	t := time.Now()
	if _, err := l.note(n); err != nil {
		return err
	}
	waitUntil(r.ctx, t.Add(l.link.Half()), r.spin)
	return nil
}

// end records a request that has ended: failed when the cloud failed it
// or when it came later than the scenario's timeout.
func (r *run) end(rec *deploy.Record) {
	if rec.Status == deploy.StatusOK && deploy.Late(rec.Latency, r.cfg.Scenario.Timeout.D()) {
		rec.Status, rec.Failure = deploy.StatusFailed, deploy.FailureTimeout
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.col.Add(rec)
	r.byGroup.Add(rec)
	r.lastDone = max(r.lastDone, rec.Arrival+rec.Latency)
	if r.cfg.Recorder != nil && r.err == nil {
		if err := r.cfg.Recorder.Record(rec); err != nil {
			r.err = fmt.Errorf("fleet: recording request %d: %w", rec.ID, err)
		}
	}
	r.ended++
	if rec.Status != deploy.StatusOK {
		r.failures++
	}
	if r.cfg.Progress != nil {
		r.cfg.Progress(r.ended, r.failures)
	}
}

func (r *run) fail(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err == nil {
		r.err = err
	}
}

// summary builds summary.json's object the way the simulator does: stage
// utilizations are busy time over the run's span, per device or server.
func (r *run) summary(devs []*device) *deploy.Summary {
	sc := r.cfg.Scenario
	sum := &deploy.Summary{Scenario: sc.Name, Mode: deploy.ModeHIL, Seed: sc.Seed, Requests: int64(len(r.cfg.Arrivals))}
	r.col.Fill(sum)
	n := len(devs)
	b := deploy.Busy{Edge: make([]time.Duration, n), Slots: make([]int, n), Power: make([]*profiles.Power, n),
		Uplink: make([]time.Duration, n), Downlink: make([]time.Duration, n),
		Servers: r.cfg.CloudServers}
	for p, busy := range r.cloudBusy {
		b.Cloud += busy
		if len(r.cfg.Pools) > 1 {
			b.Pools = append(b.Pools, deploy.PoolBusy{Name: r.cfg.Pools[p].Name, Busy: busy, Servers: r.cfg.Pools[p].Servers})
		}
	}
	for i, d := range devs {
		b.Edge[i], b.Slots[i], b.Power[i] = d.edgeBusy, d.slots, r.cfg.Power
		if r.cfg.Powers != nil {
			g, _ := sc.Edge.Of(i)
			b.Power[i] = r.cfg.Powers[g]
		}
		if d.up != nil {
			b.Uplink[i], b.Downlink[i] = d.up.busyTime(), d.down.busyTime()
		}
	}
	b.Fill(sum, r.lastDone)
	r.byGroup.Fill(sum, &b, r.lastDone)
	return sum
}
