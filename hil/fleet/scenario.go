package fleet

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"time"

	"github.com/tandem-edge/tandem/bundles"
	"github.com/tandem-edge/tandem/bundles/build"
	"github.com/tandem-edge/tandem/deploy"
	"github.com/tandem-edge/tandem/dnn/data"
	"github.com/tandem-edge/tandem/dnn/onnx"
	"github.com/tandem-edge/tandem/hil"
	"github.com/tandem-edge/tandem/hil/kernlink"
	"github.com/tandem-edge/tandem/hil/oip"
	"github.com/tandem-edge/tandem/profiles"
	"github.com/tandem-edge/tandem/scenarios"
	"github.com/tandem-edge/tandem/split"
)

// MaxDevices bounds the fleet one process drives: a device is a queue and a
// goroutine per edge slot, cheap, but each is a timer on the run's clock.
const MaxDevices = 10000

// EdgeSessions is how many ONNX Runtime sessions of the edge model a run
// opens at most: up to that many device slots each have their own, as
// real devices do; a larger fleet's slots share them, and a run that finds
// none free waits, which the run reports (Result.SessionWait).
const EdgeSessions = 64

// CheckSize says whether one process can drive sc's fleet.
func CheckSize(sc *scenarios.Scenario) error {
	if n := sc.Edge.Devices(); n > MaxDevices {
		return fmt.Errorf("%s: edge.count: %d devices; one hil run drives at most %d", sc.File, n, MaxDevices)
	}
	return nil
}

// CheckRunnable says whether a real run can honour every key of sc: a
// service-time override replaces a stage's model with a distribution, which
// only the simulator can draw from.
func CheckRunnable(sc *scenarios.Scenario) error {
	for g := range sc.Edge {
		if sc.Edge[g].Service != nil {
			return fmt.Errorf("%s: %s.service: hil run runs the edge model for real; a service-time distribution is the simulator's (tandem sim), remove it to run", sc.File, sc.EdgePath(g))
		}
	}
	for p := range sc.Cloud {
		if sc.Cloud[p].Service != nil {
			return fmt.Errorf("%s: %s.service: hil run runs the heavy model for real; a service-time distribution is the simulator's (tandem sim), remove it to run", sc.File, sc.CloudPath(p))
		}
	}
	return nil
}

// CheckApplications says whether a run of in's fleet can take its cloud
// from one server outside the run (remote) and its held-out inputs from
// dataset: a cloud of several pools needs the servers the run starts, and
// a fleet of several applications replays each bundle's own data.
func CheckApplications(in *scenarios.Inputs, remote bool, dataset string) error {
	sc := in.Scenario
	if n := len(sc.Cloud); n > 1 && remote && sc.Policy.Kind != scenarios.PolicyEdgeOnly {
		return fmt.Errorf("%s: cloud: %d pools; hil run starts a server for each, a --cloud server is one", sc.File, n)
	}
	if n := len(in.Applications()); n > 1 && dataset != "" {
		return fmt.Errorf("%s: the fleet runs %d applications, each replaying its own bundle's held-out data; --dataset names one", in.Scenario.File, n)
	}
	return nil
}

// ScenarioRun is what running a scenario for real needs besides the
// scenario's resolved inputs.
type ScenarioRun struct {
	// Clouds answer offloaded inputs, each application's its own (in
	// Inputs.Apps order; ModelNames names what they serve); nil starts
	// the scenario's server pool on loopback, serving the bundle's heavy
	// model as Model and each other application's as Model-BUNDLE.
	Clouds []*oip.Client
	Model  string // the heavy model's name on the loopback pool; "" is "heavy"
	// Dataset is where the held-out inputs come from; "" is the bundle's.
	// A fleet of several applications reads each bundle's own.
	Dataset string
	// Shaper is what shapes the devices' links: ShaperProcess (""), the
	// link rule on the wall clock, or ShaperKernel, each device's own
	// veth pair rate-limited by tc (kernlink), for the loopback pool only.
	Shaper string

	Recorder deploy.Recorder
	// Progress, when set, is told as requests end how many have, how many
	// of those failed, and how many the run has in all.
	Progress func(ended, failed, total int)
	Log      io.Writer // a line as the run starts and one when it ends; nil: quiet
}

// The link shapers of ScenarioRun.Shaper.
const (
	ShaperProcess = "process"
	ShaperKernel  = "kernel"
)

// InputError is an error of what a scenario run was given (the scenario,
// its bundle, the held-out data, the cloud's model), found before any
// request was sent, as opposed to an error of the run itself.
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

func inputErr(err error) error { return &InputError{Err: err} }

// RunScenario runs a resolved scenario for real, on this machine: the
// simulator's schedule (deploy.Schedule) on the wall clock, each device's
// edge model in its own ONNX Runtime sessions, the links shaped in process,
// and the cloud either run.Cloud or the scenario's server pool started on
// loopback, serving every application's heavy model. The summary's wall
// time is the run's.
func RunScenario(ctx context.Context, in *scenarios.Inputs, run ScenarioRun) (*Result, error) {
	sc := in.Scenario
	if err := CheckSize(sc); err != nil {
		return nil, inputErr(err)
	}
	if err := CheckRunnable(sc); err != nil {
		return nil, inputErr(err)
	}
	if err := CheckApplications(in, run.Clouds != nil, run.Dataset); err != nil {
		return nil, inputErr(err)
	}
	apps := in.Applications()
	if run.Clouds != nil && len(run.Clouds) != len(apps) {
		return nil, fmt.Errorf("fleet: %d clouds for %d applications", len(run.Clouds), len(apps))
	}
	setup, err := deploy.SetupFor(in)
	if err != nil {
		return nil, inputErr(err)
	}
	kernel, err := kernelLinks(in, setup, run)
	if err != nil {
		return nil, inputErr(err)
	}
	counts := make([]int, len(in.Groups))
	groupApps := make([]int, len(in.Groups))
	for g, gi := range in.Groups {
		counts[g], groupApps[g] = len(apps[gi.App].Bundle.Outcomes), gi.App
	}
	if len(counts) == 0 {
		counts = []int{len(in.Bundle.Outcomes)}
	}
	arrivals, err := deploy.Schedule(sc, in.Arrivals, counts)
	if err != nil {
		return nil, inputErr(err)
	}
	var cut *cutModels
	if sc.Policy.Kind == scenarios.PolicySplit {
		if cut, err = cutFor(in); err != nil {
			return nil, inputErr(err)
		}
	}
	// Each device runs its model on as many threads as the edge device's
	// profile was measured with.
	edgeThreads := 1
	if in.EdgeDevice != nil {
		edgeThreads = max(in.EdgeDevice.Host.Threads, 1)
	}
	for g, gi := range in.Groups {
		if gi.EdgeDevice != nil && max(gi.EdgeDevice.Host.Threads, 1) != edgeThreads {
			return nil, inputErr(fmt.Errorf("%s: %s.device: measured at %d threads, the first group's at %d; hil run's devices share one pool of edge sessions, on one thread count",
				sc.File, sc.EdgePath(g), max(gi.EdgeDevice.Host.Threads, 1), edgeThreads))
		}
	}
	var sessions []*hil.Session
	defer func() {
		for _, s := range sessions {
			s.Close()
		}
	}()
	open := func(name string, file []byte, threads int) (*hil.Session, error) {
		s, err := hil.OpenBytes(name, file, hil.Options{IntraOpThreads: threads})
		if err == nil {
			sessions = append(sessions, s)
		}
		return s, err
	}
	cfg := Config{
		Scenario: sc, Arrivals: arrivals, GroupApps: groupApps,
		EdgeSessions: EdgeSessions,

		EdgeSlowdown: edgeSlowdown(in.EdgeDevice),
		Uplink:       setup.Uplink, Downlink: setup.Downlink,
		NewPolicy: setup.NewPolicy,
		Recorder:  run.Recorder,
		Power:     in.Power,
	}
	edges := make([]*edgeApp, len(apps))
	for k := range apps {
		e, err := openEdge(&apps[k], cut, open)
		if err != nil {
			return nil, inputErr(err)
		}
		edges[k] = e
		a := &App{Outcomes: apps[k].Bundle.Outcomes, Classes: apps[k].Bundle.Classes, Input: e.input,
			RequestBytes: apps[k].RequestBytes, ResponseBytes: apps[k].ResponseBytes,
			NewEdge: func(int) (Model, error) { return open(e.name, e.file, edgeThreads) }}
		if cut != nil {
			a.RequestBytes, a.ResponseBytes = cut.deployment.RequestBytes, cut.deployment.ResponseBytes
		}
		a.Pool = apps[k].Pool
		cfg.Apps = append(cfg.Apps, *a)
	}
	for p := range sc.Cloud {
		cfg.CloudServers += sc.Cloud[p].Servers
		if len(sc.Cloud) > 1 {
			cfg.Pools = append(cfg.Pools, Pool{Name: sc.Cloud.PoolName(p), Servers: sc.Cloud[p].Servers})
		}
	}
	if len(in.Groups) > 1 {
		for _, g := range in.Groups {
			cfg.EdgeSlowdowns = append(cfg.EdgeSlowdowns, edgeSlowdown(g.EdgeDevice))
			cfg.Powers = append(cfg.Powers, g.Power)
		}
	}
	if cut != nil {
		cfg.CutValues = cut.values
	}
	if run.Progress != nil {
		cfg.Progress = func(ended, failed int) { run.Progress(ended, failed, len(arrivals)) }
	}
	b := in.Bundle
	// The cloud first: a server that does not serve the bundle's model is
	// told before the dataset is read.
	if sc.Policy.Kind != scenarios.PolicyEdgeOnly {
		if run.Clouds != nil {
			for k, c := range run.Clouds {
				ab := apps[k].Bundle
				shape, what := edges[k].probe.SampleShape(), "bundle "+ab.Name
				if cut != nil {
					shape, what = cut.shape, fmt.Sprintf("bundle %s's heavy model from %s on: tandem split --parts writes it", b.Name, cut.deployment.Cut.After)
				}
				if err := c.Expect(shape, ab.Classes); err != nil {
					return nil, inputErr(fmt.Errorf("the cloud: %w (%s)", err, what))
				}
				cfg.Apps[k].Cloud = c
			}
		} else {
			model := run.Model
			if model == "" {
				model = "heavy"
			}
			pool, err := startPool(ctx, in, edges, model, kernel, cut)
			if err != nil {
				return nil, err
			}
			defer pool.stop()
			for k := range cfg.Apps {
				clients := pool.clients[k]
				cfg.Apps[k].Cloud = clients[0]
				if kernel != nil {
					cfg.Apps[k].CloudFor = func(i int) Cloud { return clients[i] }
				}
			}
			cfg.KernelLinks = kernel != nil
		}
	}
	for k, e := range edges {
		if err := e.read(apps[k].Bundle, run.Dataset); err != nil {
			return nil, inputErr(err)
		}
	}

	logLine(run.Log, "hil run: %d requests over %d devices, about %.0f s", len(arrivals), sc.Edge.Devices(), arrivals[len(arrivals)-1].At.Seconds())
	if cut != nil {
		c := cut.deployment.Summary
		logLine(run.Log, "hil run: the heavy model cut after %s (%s): %d bytes of tensor a request", c.After, c.Chosen, c.TensorBytes)
	}
	start := time.Now()
	res, err := Run(ctx, cfg)
	if err != nil {
		return nil, err
	}
	res.Summary.WallSeconds = time.Since(start).Seconds()
	if cut != nil {
		res.Summary.Cut = &cut.deployment.Summary
	}
	q := res.Lateness.Quantiles(0.5, 0.99)
	logLine(run.Log, "hil run: requests reached their devices late by %v (median), %v (p99), %v (max) against the schedule; latencies count from when they did",
		q[0].Round(time.Microsecond), q[1].Round(time.Microsecond), res.Lateness.Max().Round(time.Microsecond))
	if w := res.SessionWait; w.Len() > 0 {
		q := w.Quantiles(0.5, 0.99)
		logLine(run.Log, "hil run: %d device slots shared %d edge sessions an application; runs waited for one %v (median), %v (p99), %v (max), counted in the edge queue",
			slotsOf(sc), EdgeSessions, q[0].Round(time.Microsecond), q[1].Round(time.Microsecond), w.Max().Round(time.Microsecond))
	}
	return res, nil
}

// edgeApp is one application's edge model as a run opens it, and the
// held-out inputs its devices send.
type edgeApp struct {
	name  string
	file  []byte
	probe *hil.Session // the model's tensors and normalisation
	norm  *hil.Normalizer
	held  *data.Set // read once the cloud is known to serve the model
}

// openEdge opens app's edge model, or the split's device part.
func openEdge(app *scenarios.AppInputs, cut *cutModels, open func(string, []byte, int) (*hil.Session, error)) (*edgeApp, error) {
	b := app.Bundle
	e := &edgeApp{name: b.Name + "/edge"}
	if cut != nil {
		e.file, e.name = cut.device, b.Name+"/heavy up to "+cut.deployment.Cut.After
	} else {
		var err error
		if e.file, err = b.ReadModel(bundles.ModelEdge); err != nil {
			return nil, err
		}
	}
	var err error
	if e.probe, err = open(e.name, e.file, 1); err != nil {
		return nil, err
	}
	if e.norm, err = e.probe.Normalizer(); err != nil {
		return nil, err
	}
	return e, nil
}

// read reads the held-out set the devices' inputs come from.
func (e *edgeApp) read(b *bundles.Bundle, dataset string) error {
	held, err := build.HeldOut(b, dataset)
	if err != nil {
		return err
	}
	if got := held.SampleSize(); got != e.probe.InputSize() {
		return fmt.Errorf("bundle %s: its edge model takes %d values a sample, the held-out set has %d", b.Name, e.probe.InputSize(), got)
	}
	e.held = held
	return nil
}

// input is a held-out sample, normalised for the model.
func (e *edgeApp) input(sample int) []float32 {
	x := make([]float32, e.held.SampleSize())
	e.norm.Apply(x, e.held.Sample(sample))
	return x
}

func logLine(w io.Writer, format string, args ...any) {
	if w != nil {
		fmt.Fprintf(w, format+"\n", args...)
	}
}

// pool is the scenario's cloud as a run reaches it: for each application
// one client, or with kernel links one per device, and how to stop it.
type pool struct {
	clients [][]*oip.Client
	stop    func()
}

// startPool starts the scenario's cloud on loopback, or with kernel links
// behind every device's veth pair: a server for each cloud pool, every one
// of its servers holding the heavy model of each application the pool
// serves, the first application's served as model, the others as
// model-BUNDLE (ModelNames). Each server runs its models on as many
// threads as its pool's cloud device's profile was measured with, so that
// the run is the deployment the simulator predicts from that profile.
func startPool(ctx context.Context, in *scenarios.Inputs, edges []*edgeApp, model string, kernel []kernlink.Link, cut *cutModels) (*pool, error) {
	apps := in.Applications()
	p := &pool{clients: make([][]*oip.Client, len(apps))}
	var stops []func()
	p.stop = func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
	}
	var fabric *kernlink.Fabric
	if kernel != nil {
		var err error
		if fabric, err = kernlink.Create(ctx, kernel); err != nil {
			return nil, err
		}
		stops = append(stops, func() { fabric.Close() })
	}
	names := ModelNames(in, model)
	for c := range in.Scenario.Cloud {
		if err := startCloudPool(ctx, in, c, edges, names, cut, fabric, p, &stops); err != nil {
			p.stop()
			return nil, err
		}
	}
	return p, nil
}

// startCloudPool starts cloud pool c's server, serving the applications it
// serves (none: nothing starts), and adds their clients to p and how to
// stop it to stops.
func startCloudPool(ctx context.Context, in *scenarios.Inputs, c int, edges []*edgeApp, names []string, cut *cutModels, fabric *kernlink.Fabric, p *pool, stops *[]func()) error {
	sc, apps := in.Scenario, in.Applications()
	cl := &sc.Cloud[c]
	var served []int
	for k := range apps {
		if apps[k].Pool == c {
			served = append(served, k)
		}
	}
	if len(served) == 0 {
		return nil
	}
	dev, threads := in.CloudDevice, 1
	if c < len(in.CloudDevices) {
		dev = in.CloudDevices[c]
	}
	if dev != nil {
		threads = max(dev.Host.Threads, 1)
	}
	var sessions []*hil.Session
	*stops = append(*stops, func() {
		for _, s := range sessions {
			s.Close()
		}
	})
	cfgs := make([]oip.Config, len(served))
	models := make([][]oip.Model, len(served))
	for i, k := range served {
		s, err := openHeavy(&apps[k], edges[k], cut, threads, cl.Servers, &sessions, &models[i])
		if err == nil {
			cfgs[i], err = oip.SessionConfig(s, names[k])
		}
		if err != nil {
			return inputErr(err)
		}
	}
	if bt := cl.Batching; bt != nil {
		cfgs[0].MaxBatch, cfgs[0].MaxWait = bt.MaxBatch, bt.MaxWait.D()
	}
	// The simulator's cloud queues without bound: so does this one, as far
	// as any run's requests go.
	cfgs[0].MaxQueue = 1 << 20
	srv, err := oip.NewShared(cfgs, models)
	if err != nil {
		return inputErr(err)
	}
	*stops = append(*stops, srv.Close)
	var ln net.Listener
	if fabric != nil {
		ln, err = fabric.Listen()
	} else {
		ln, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln)
	*stops = append(*stops, func() {
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		hs.Shutdown(shutdown)
	})
	for _, k := range served {
		newClient := func(url string, hc *http.Client) error {
			cli, err := oip.NewClient(ctx, url, names[k], hc)
			if err != nil {
				return err
			}
			cli.Binary = cl.Protocol == profiles.ProtocolBinary
			p.clients[k] = append(p.clients[k], cli)
			return nil
		}
		if fabric == nil {
			if err := newClient("http://"+ln.Addr().String(), HTTPClient()); err != nil {
				return err
			}
			continue
		}
		port := ln.Addr().(*net.TCPAddr).Port
		for i := range fabric.Links() {
			hc := HTTPClient()
			hc.Transport.(*http.Transport).DialContext = fabric.DialContext(i, port)
			if err := newClient("http://"+fabric.CloudAddr(i, port), hc); err != nil {
				return err
			}
		}
	}
	return nil
}

// ModelNames are the names of in's applications' heavy models on a server
// pool: the first model, each other model-BUNDLE, made unique by its index
// where two bundles share a name.
func ModelNames(in *scenarios.Inputs, model string) []string {
	apps := in.Applications()
	names := []string{model}
	for k := 1; k < len(apps); k++ {
		n := model + "-" + apps[k].Bundle.Name
		if slices.Contains(names, n) {
			n = fmt.Sprintf("%s-%d", n, k)
		}
		names = append(names, n)
	}
	return names
}

// openHeavy opens servers sessions of app's heavy model (or the split's
// cloud part) on threads threads each, adding them to all and to models,
// and returns the first. The edge device sends the input it normalised for
// its own model; the heavy model must expect the same.
func openHeavy(app *scenarios.AppInputs, edge *edgeApp, cut *cutModels, threads, servers int, all *[]*hil.Session, models *[]oip.Model) (*hil.Session, error) {
	b := app.Bundle
	name, heavy := b.Name+"/heavy", []byte(nil)
	if cut != nil {
		name, heavy = b.Name+"/heavy from "+cut.deployment.Cut.After, cut.cloud
	} else {
		var err error
		if heavy, err = b.ReadModel(bundles.ModelHeavy); err != nil {
			return nil, err
		}
	}
	for range servers {
		s, err := hil.OpenBytes(name, heavy, hil.Options{IntraOpThreads: threads})
		if err != nil {
			return nil, err
		}
		*all, *models = append(*all, s), append(*models, s)
	}
	first := (*models)[0].(*hil.Session)
	// A split's device part is the heavy model's own beginning.
	em, es, _ := edge.probe.Normalization()
	hm, hs, _ := first.Normalization()
	if cut == nil && (!slices.Equal(em, hm) || !slices.Equal(es, hs)) {
		return nil, fmt.Errorf("bundle %s: its edge and heavy models normalise inputs differently (mean %v std %v against %v %v)", b.Name, em, es, hm, hs)
	}
	return first, nil
}

// kernelLinks is each device's link for the kernel shaper, or nil when the
// run shapes its links in process. The kernel shapes a constant rate, so a
// replayed trace, and a --cloud server outside the run's namespaces, are
// refused.
func kernelLinks(in *scenarios.Inputs, setup deploy.Setup, run ScenarioRun) ([]kernlink.Link, error) {
	switch run.Shaper {
	case "", ShaperProcess:
		return nil, nil
	case ShaperKernel:
	default:
		return nil, fmt.Errorf("shaper %q: want %s or %s", run.Shaper, ShaperProcess, ShaperKernel)
	}
	sc := in.Scenario
	if run.Clouds != nil {
		return nil, errors.New("the kernel shaper shapes the links to the server pool the run starts; with a --cloud server the links are the real network's")
	}
	if sc.Policy.Kind == scenarios.PolicyEdgeOnly {
		return nil, nil
	}
	links := make([]kernlink.Link, sc.Edge.Devices())
	for i := range links {
		up, okUp := profiles.ConstantMbps(setup.Uplink(i))
		down, okDown := profiles.ConstantMbps(setup.Downlink(i))
		if !okUp || !okDown {
			return nil, fmt.Errorf("%s: link: device %d's link is a trace (%s); the kernel shaper shapes constant rates (uplink_mbps, downlink_mbps), the in-process shaper traces", sc.File, i, setup.Uplink(i).Name())
		}
		links[i] = kernlink.Link{UpMbps: up, DownMbps: down}
	}
	return links, nil
}

// HTTPClient is the client a fleet's devices share: a connection kept
// open per concurrent request, as edge devices each keep theirs, instead of
// one opened for most requests.
func HTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 256
	return &http.Client{Transport: t, Timeout: time.Minute}
}

// edgeSlowdown is how many times slower than this host an edge device's
// profile says the device is (an emulated device), 1 for the host itself.
func edgeSlowdown(dev *profiles.Device) float64 {
	if dev != nil && dev.Host.Slowdown > 1 {
		return dev.Host.Slowdown
	}
	return 1
}

// slotsOf is how many edge slots sc's fleet has over its groups.
func slotsOf(sc *scenarios.Scenario) int {
	n := 0
	for _, e := range sc.Edge {
		n += e.Count * max(e.Concurrency, 1)
	}
	return n
}

// cutModels are a split deployment's two parts (split.Parts), encoded as
// ONNX for the devices and the server pool.
type cutModels struct {
	deployment    *split.Deployment
	device, cloud []byte
	values        int   // the device part's output, a sample
	shape         []int // the cloud part's input, a sample
}

func cutFor(in *scenarios.Inputs) (*cutModels, error) {
	d, err := split.For(in)
	if err != nil {
		return nil, err
	}
	dev, cloud, err := split.Parts(d.Heavy, d.Cut.After)
	if err != nil {
		return nil, err
	}
	c := &cutModels{deployment: d, values: dev.Classes, shape: cloud.InputShape}
	if c.device, err = onnx.Encode(dev); err != nil {
		return nil, err
	}
	if c.cloud, err = onnx.Encode(cloud); err != nil {
		return nil, err
	}
	return c, nil
}
