package scenarios

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/tandem-edge/tandem/bundles"
	"github.com/tandem-edge/tandem/profiles"
)

// Inputs are a scenario's references, loaded: what both the simulator and
// hardware-in-the-loop need before a run starts. Resolving them is the only
// file access a simulated run makes.
type Inputs struct {
	Scenario *Scenario
	Bundle   *bundles.Bundle
	// EdgeDevice, EdgeModel, Uplink, Downlink and Power are the first
	// edge group's (Groups[0]'s), all a fleet of one group has.
	EdgeDevice *profiles.Device // nil when no request runs the edge model
	EdgeModel  *profiles.Model  // the bundle's edge model on EdgeDevice
	// CloudDevice is the first cloud pool's device (CloudDevices[0]), and
	// CloudModel the bundle's heavy model on it.
	CloudDevice *profiles.Device
	CloudModel  *profiles.Model
	// CloudDevices are each cloud pool's device, nil where the pool's
	// service is overridden or no request reaches the cloud.
	CloudDevices []*profiles.Device
	Uplink       profiles.Link // shared by every device of the group (see DeviceLinks); nil for edge-only
	Downlink     profiles.Link
	// Groups are the edge groups' inputs, one per scenario edge group.
	Groups []GroupInputs
	// RequestBytes and ResponseBytes are what a request and its answer put
	// on the uplink and the downlink: link.request_bytes and
	// link.response_bytes when given; else what the cloud profile's
	// serving path over cloud.protocol measured (HTTP request and answer),
	// framed in TCP segments with the other's acknowledgements
	// (profiles.FramedBytes, AckBytes); else the bundle's raw
	// input (float32) and DefaultResponseBytes. LinkBytes says which:
	// LinkBytesScenario, LinkBytesServing or LinkBytesTensor.
	RequestBytes, ResponseBytes int
	LinkBytes                   string
	Power                       *profiles.Power
	// HeavyONNX is the bundle's heavy model file, read for a split policy
	// (whose driver cuts it); nil for other policies.
	HeavyONNX []byte
	// Arrivals are the offsets of a trace workload, ascending.
	Arrivals []time.Duration
	// Offloader is the learned policy's offloader file, as read, and
	// OffloaderName where it came from; nil for other policies.
	Offloader     []byte
	OffloaderName string
	// Apps are the applications the fleet runs, each a bundle served by
	// one cloud pool: the scenario's bundle on the first group's pool
	// first, then each other pairing of a bundle and a pool the edge
	// groups name, in group order. Bundle, CloudModel, the bytes and the
	// offloader above are Apps[0]'s.
	Apps []AppInputs
}

// AppInputs are one application's references, loaded: a bundle, the cloud
// pool that serves it, its heavy model's profile on the pool's device, what
// its requests and answers put on the links, and its learned offloader.
type AppInputs struct {
	Bundle                      *bundles.Bundle
	Pool                        int             // its cloud pool, in Scenario.Cloud
	CloudModel                  *profiles.Model // nil as Inputs.CloudModel is
	RequestBytes, ResponseBytes int
	LinkBytes                   string
	Offloader                   []byte
	OffloaderName               string
}

// Applications are in's applications: Apps, or for inputs built in code
// without them the one the top-level fields describe.
func (in *Inputs) Applications() []AppInputs {
	if len(in.Apps) > 0 {
		return in.Apps
	}
	return []AppInputs{{Bundle: in.Bundle, CloudModel: in.CloudModel, RequestBytes: in.RequestBytes, ResponseBytes: in.ResponseBytes,
		LinkBytes: in.LinkBytes, Offloader: in.Offloader, OffloaderName: in.OffloaderName}}
}

// GroupInputs are one edge group's references, loaded.
type GroupInputs struct {
	Name         string // Scenario.Edge.GroupName
	First, Count int    // its devices are First to First+Count-1
	EdgeDevice   *profiles.Device
	EdgeModel    *profiles.Model
	// Power is what each of its devices draws: the group's power, else
	// its profile's figures; nil when neither gives any.
	Power            *profiles.Power
	Uplink, Downlink profiles.Link // nil for edge-only
	Link             *Link         // the group's link section (its own or the scenario's)
	App              int           // the application its devices run, in Inputs.Apps
}

// Group returns the inputs of the group device belongs to.
func (in *Inputs) Group(device int) *GroupInputs {
	g, _ := in.Scenario.Edge.Of(device)
	return &in.Groups[g]
}

// Resolve loads the bundle, the device profiles, the link and the arrival
// trace a scenario names, and checks that the profiles describe the bundle's
// models. Errors name the scenario file and key.
func Resolve(s *Scenario) (*Inputs, error) {
	in := &Inputs{Scenario: s}
	b, err := bundles.Load(s.BundleRef())
	if err != nil {
		return nil, fmt.Errorf("%s: bundle: %w", s.File, err)
	}
	in.Bundle = b
	type app struct {
		ref  string
		pool int
	}
	in.Apps = []AppInputs{{Bundle: b, Pool: s.PoolOf(0)}}
	apps := map[app]int{{s.BundleRef(), s.PoolOf(0)}: 0}
	loaded := map[string]*bundles.Bundle{s.BundleRef(): b}
	groupApp := make([]int, len(s.Edge))
	for g := range s.Edge {
		ref := s.BundleRef()
		if s.Edge[g].Bundle != "" {
			ref = s.Path(s.Edge[g].Bundle)
		}
		key := app{ref, s.PoolOf(g)}
		a, ok := apps[key]
		if !ok {
			ab := loaded[ref]
			if ab == nil {
				if ab, err = bundles.Load(ref); err != nil {
					return nil, fmt.Errorf("%s: %s.bundle: %w", s.File, s.EdgePath(g), err)
				}
				loaded[ref] = ab
			}
			a = len(in.Apps)
			apps[key] = a
			in.Apps = append(in.Apps, AppInputs{Bundle: ab, Pool: key.pool})
		}
		groupApp[g] = a
	}
	if s.Policy.Kind == PolicyLearned || s.Policy.Kind == PolicyCostAware {
		for a := range in.Apps {
			if err := in.readOffloader(&in.Apps[a]); err != nil {
				return nil, err
			}
		}
		in.Offloader, in.OffloaderName = in.Apps[0].Offloader, in.Apps[0].OffloaderName
	}
	edgeOnly := s.Policy.Kind == PolicyEdgeOnly
	cloudOnly := s.Policy.Kind == PolicyCloudOnly
	first := 0
	for g := range s.Edge {
		gi := GroupInputs{Name: s.Edge.GroupName(g), First: first, Count: s.Edge[g].Count, Link: s.LinkOf(g), App: groupApp[g]}
		gb := in.Apps[gi.App].Bundle
		first += gi.Count
		p := s.EdgePath(g)
		if !cloudOnly && s.Edge[g].Service == nil {
			if gi.EdgeDevice, err = s.EdgeProfile(g); err != nil {
				return nil, fmt.Errorf("%s: %s.device: %w", s.File, p, err)
			}
			// A split runs the heavy model's first layers on the device.
			which, info := "edge", &gb.Models.Edge
			if s.Policy.Kind == PolicySplit {
				which, info = "heavy", &gb.Models.Heavy
			}
			if gi.EdgeModel, err = profileOf(gi.EdgeDevice, gb, which, info); err != nil {
				return nil, fmt.Errorf("%s: %s.device: %w", s.File, p, err)
			}
		}
		if gi.Power, err = s.power(g, gi.EdgeDevice); err != nil {
			return nil, err
		}
		if !edgeOnly {
			if gi.Uplink, err = s.Uplink(g); err != nil {
				return nil, fmt.Errorf("%s: link: %w", s.File, err)
			}
			if gi.Downlink, err = s.Downlink(g); err != nil {
				return nil, fmt.Errorf("%s: link: %w", s.File, err)
			}
		}
		in.Groups = append(in.Groups, gi)
	}
	g0 := &in.Groups[0]
	in.EdgeDevice, in.EdgeModel, in.Power, in.Uplink, in.Downlink = g0.EdgeDevice, g0.EdgeModel, g0.Power, g0.Uplink, g0.Downlink
	in.CloudDevices = make([]*profiles.Device, len(s.Cloud))
	for p := range s.Cloud {
		if edgeOnly || s.Cloud[p].Service != nil {
			continue
		}
		if in.CloudDevices[p], err = s.CloudProfile(p); err != nil {
			return nil, fmt.Errorf("%s: %s.device: %w", s.File, s.CloudPath(p), err)
		}
	}
	in.CloudDevice = in.CloudDevices[0]
	for a := range in.Apps {
		ab, p := in.Apps[a].Bundle, in.Apps[a].Pool
		if dev := in.CloudDevices[p]; dev != nil {
			if in.Apps[a].CloudModel, err = profileOf(dev, ab, "heavy", &ab.Models.Heavy); err != nil {
				return nil, fmt.Errorf("%s: %s.device: %w", s.File, s.CloudPath(p), err)
			}
		}
	}
	in.CloudModel = in.Apps[0].CloudModel
	for a := range in.Apps {
		in.Apps[a].linkBytes(s)
	}
	a0 := &in.Apps[0]
	in.RequestBytes, in.ResponseBytes, in.LinkBytes = a0.RequestBytes, a0.ResponseBytes, a0.LinkBytes
	if s.Policy.Kind == PolicySplit {
		if in.HeavyONNX, err = b.ReadModel(bundles.ModelHeavy); err != nil {
			return nil, fmt.Errorf("%s: bundle: %w", s.File, err)
		}
	}
	if s.Workload.Arrival == ArrivalTrace {
		if in.Arrivals, err = LoadArrivals(s.Path(s.Workload.Trace)); err != nil {
			return nil, err
		}
	}
	return in, nil
}

// power is what edge group g's devices draw: the group's figures, else
// its profile's (dev, nil when the group runs no edge model). A cloud-only
// scenario runs no edge model but its devices still send and receive, so
// its edge profile is read for its power figures alone.
func (s *Scenario) power(g int, dev *profiles.Device) (*profiles.Power, error) {
	e := &s.Edge[g]
	if e.Power != nil {
		return e.Power, nil
	}
	if dev == nil && e.Service == nil && e.Device != "" {
		var err error
		if dev, err = s.EdgeProfile(g); err != nil {
			return nil, fmt.Errorf("%s: %s.device: %w", s.File, s.EdgePath(g), err)
		}
	}
	if dev != nil {
		return dev.Power, nil
	}
	return nil, nil
}

// Where Inputs.RequestBytes and ResponseBytes come from.
const (
	LinkBytesScenario = "scenario" // link.request_bytes and link.response_bytes
	LinkBytesServing  = "serving"  // the serving path's HTTP bytes, framed in TCP segments
	LinkBytesTensor   = "tensor"   // the bundle's raw input, and DefaultResponseBytes down
)

// linkBytes sets what a request and its answer of application in put on
// the links (see Inputs.RequestBytes).
func (in *AppInputs) linkBytes(sc *Scenario) {
	l := sc.Link
	in.RequestBytes, in.ResponseBytes, in.LinkBytes = l.RequestBytes, l.ResponseBytes, LinkBytesScenario
	if l.RequestBytes > 0 {
		if l.ResponseBytes == 0 {
			in.ResponseBytes = DefaultResponseBytes
		}
		return
	}
	if in.CloudModel != nil {
		if req, resp, ok := in.CloudModel.ServingBytes(sc.Cloud[in.Pool].Protocol); ok {
			// Each direction carries its message in TCP segments and
			// the acknowledgements of the other's.
			in.RequestBytes = profiles.FramedBytes(req) + profiles.AckBytes(resp)
			in.LinkBytes = LinkBytesServing
			if l.ResponseBytes == 0 {
				in.ResponseBytes = profiles.FramedBytes(resp) + profiles.AckBytes(req)
			}
			return
		}
	}
	in.RequestBytes, in.LinkBytes = in.Bundle.InputBytes(), LinkBytesTensor
	if l.ResponseBytes == 0 {
		in.ResponseBytes = DefaultResponseBytes
	}
}

// readOffloader reads application a's learned offloader: policy.offloader
// when given (a fleet of one application), else its bundle's own.
func (in *Inputs) readOffloader(a *AppInputs) error {
	s, b := in.Scenario, a.Bundle
	if s.Policy.Offloader != "" {
		path := s.Path(s.Policy.Offloader)
		raw, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("%s: policy.offloader: %w", s.File, err)
		}
		a.Offloader, a.OffloaderName = raw, path
		return nil
	}
	if !b.Has(bundles.OffloaderFile) {
		return fmt.Errorf("%s: policy.offloader: bundle %s has no %s; give policy.offloader, or train one with `tandem offload train --bundle %s --install`",
			s.File, b.Name, bundles.OffloaderFile, b.Ref)
	}
	raw, err := b.Offloader()
	if err != nil {
		return fmt.Errorf("%s: policy.offloader: %w", s.File, err)
	}
	a.Offloader, a.OffloaderName = raw, b.Ref+"/"+bundles.OffloaderFile
	return nil
}

// profileOf finds the profile of one of the bundle's models, by the model
// file's SHA-256, or else by its graph's (the file without its weights), so
// that a profile measured on another architecture is never used by mistake,
// and one measured on other weights of the same network is: the runtime
// does the same arithmetic on the same shapes whatever the weights are.
func profileOf(d *profiles.Device, b *bundles.Bundle, which string, m *bundles.ModelInfo) (*profiles.Model, error) {
	for i := range d.Models {
		if d.Models[i].SHA256 == m.SHA256 {
			return &d.Models[i], nil
		}
	}
	for i := range d.Models {
		if m.GraphSHA256 != "" && d.Models[i].GraphSHA256 == m.GraphSHA256 {
			return &d.Models[i], nil
		}
	}
	return nil, fmt.Errorf("profile %q has no measurement of bundle %s's %s model (%s, sha256 %.12s…, graph_sha256 %.12s…): profile it with `tandem profile --model %s=FILE`",
		d.Name, b.Name, which, m.File, m.SHA256, m.GraphSHA256, b.Name+"/"+which)
}

// LoadArrivals reads an arrival trace: one offset a line, as a duration
// ("12.5ms") or a bare number of milliseconds, ascending; blank lines and
// lines starting with # are skipped.
func LoadArrivals(path string) ([]time.Duration, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("scenarios: arrival trace: %w", err)
	}
	var out []time.Duration
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for line := 1; sc.Scan(); line++ {
		t := strings.TrimSpace(sc.Text())
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		d, err := time.ParseDuration(t)
		if err != nil {
			ms, ferr := strconv.ParseFloat(t, 64)
			if ferr != nil || ms < 0 {
				return nil, fmt.Errorf("%s:%d: want a duration (12.5ms) or milliseconds, got %q", path, line, t)
			}
			d = time.Duration(ms * float64(time.Millisecond))
		}
		if n := len(out); n > 0 && d < out[n-1] {
			return nil, fmt.Errorf("%s:%d: arrival %v comes before the previous one (%v): offsets must ascend", path, line, d, out[n-1])
		}
		out = append(out, d)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no arrivals", path)
	}
	return out, nil
}
