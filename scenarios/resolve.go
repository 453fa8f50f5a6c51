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
	Scenario    *Scenario
	Bundle      *bundles.Bundle
	EdgeDevice  *profiles.Device // nil when no request runs the edge model
	EdgeModel   *profiles.Model  // the bundle's edge model on EdgeDevice
	CloudDevice *profiles.Device
	CloudModel  *profiles.Model // the bundle's heavy model on CloudDevice
	Uplink      profiles.Link   // shared by every device (see DeviceLinks); nil for edge-only
	Downlink    profiles.Link
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
	// Power is what each edge device draws: edge.power, else the edge
	// profile's figures; nil when neither gives any.
	Power *profiles.Power
	// Arrivals are the offsets of a trace workload, ascending.
	Arrivals []time.Duration
	// Offloader is the learned policy's offloader file, as read, and
	// OffloaderName where it came from; nil for other policies.
	Offloader     []byte
	OffloaderName string
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
	if s.Policy.Kind == PolicyLearned || s.Policy.Kind == PolicyCostAware {
		if err := in.readOffloader(); err != nil {
			return nil, err
		}
	}
	edgeOnly := s.Policy.Kind == PolicyEdgeOnly
	cloudOnly := s.Policy.Kind == PolicyCloudOnly
	if !cloudOnly && s.Edge.Service == nil {
		if in.EdgeDevice, err = s.EdgeProfile(); err != nil {
			return nil, fmt.Errorf("%s: edge.device: %w", s.File, err)
		}
		if in.EdgeModel, err = profileOf(in.EdgeDevice, b, "edge", &b.Models.Edge); err != nil {
			return nil, fmt.Errorf("%s: edge.device: %w", s.File, err)
		}
	}
	if err := in.power(); err != nil {
		return nil, err
	}
	if edgeOnly {
		in.linkBytes()
		return in, nil
	}
	if s.Cloud.Service == nil {
		if in.CloudDevice, err = s.CloudProfile(); err != nil {
			return nil, fmt.Errorf("%s: cloud.device: %w", s.File, err)
		}
		if in.CloudModel, err = profileOf(in.CloudDevice, b, "heavy", &b.Models.Heavy); err != nil {
			return nil, fmt.Errorf("%s: cloud.device: %w", s.File, err)
		}
	}
	in.linkBytes()
	if in.Uplink, err = s.Uplink(); err != nil {
		return nil, fmt.Errorf("%s: link: %w", s.File, err)
	}
	if in.Downlink, err = s.Downlink(); err != nil {
		return nil, fmt.Errorf("%s: link: %w", s.File, err)
	}
	if s.Workload.Arrival == ArrivalTrace {
		if in.Arrivals, err = LoadArrivals(s.Path(s.Workload.Trace)); err != nil {
			return nil, err
		}
	}
	return in, nil
}

// power sets in.Power: the scenario's figures, else the edge profile's.
// A cloud-only scenario runs no edge model but its devices still send and
// receive, so its edge profile is read for its power figures alone.
func (in *Inputs) power() error {
	s := in.Scenario
	if s.Edge.Power != nil {
		in.Power = s.Edge.Power
		return nil
	}
	dev := in.EdgeDevice
	if dev == nil && s.Edge.Service == nil && s.Edge.Device != "" {
		var err error
		if dev, err = s.EdgeProfile(); err != nil {
			return fmt.Errorf("%s: edge.device: %w", s.File, err)
		}
	}
	if dev != nil {
		in.Power = dev.Power
	}
	return nil
}

// Where Inputs.RequestBytes and ResponseBytes come from.
const (
	LinkBytesScenario = "scenario" // link.request_bytes and link.response_bytes
	LinkBytesServing  = "serving"  // the serving path's HTTP bytes, framed in TCP segments
	LinkBytesTensor   = "tensor"   // the bundle's raw input, and DefaultResponseBytes down
)

// linkBytes sets what a request and its answer put on the links (see
// Inputs.RequestBytes).
func (in *Inputs) linkBytes() {
	l := in.Scenario.Link
	in.RequestBytes, in.ResponseBytes, in.LinkBytes = l.RequestBytes, l.ResponseBytes, LinkBytesScenario
	if l.RequestBytes > 0 {
		if l.ResponseBytes == 0 {
			in.ResponseBytes = DefaultResponseBytes
		}
		return
	}
	if in.CloudModel != nil {
		if req, resp, ok := in.CloudModel.ServingBytes(in.Scenario.Cloud.Protocol); ok {
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

// readOffloader reads the learned policy's offloader: policy.offloader when
// given, else the bundle's own.
func (in *Inputs) readOffloader() error {
	s, b := in.Scenario, in.Bundle
	if s.Policy.Offloader != "" {
		path := s.Path(s.Policy.Offloader)
		raw, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("%s: policy.offloader: %w", s.File, err)
		}
		in.Offloader, in.OffloaderName = raw, path
		return nil
	}
	if !b.Has(bundles.OffloaderFile) {
		return fmt.Errorf("%s: policy.offloader: bundle %s has no %s; give policy.offloader, or train one with `tandem offload train --bundle %s --install`",
			s.File, b.Name, bundles.OffloaderFile, s.BundleRef())
	}
	raw, err := b.Offloader()
	if err != nil {
		return fmt.Errorf("%s: policy.offloader: %w", s.File, err)
	}
	in.Offloader, in.OffloaderName = raw, b.Ref+"/"+bundles.OffloaderFile
	return nil
}

// profileOf finds the profile of one of the bundle's models, by the model
// file's SHA-256, so that a profile measured on other weights or another
// architecture is never used by mistake.
func profileOf(d *profiles.Device, b *bundles.Bundle, which string, m *bundles.ModelInfo) (*profiles.Model, error) {
	for i := range d.Models {
		if d.Models[i].SHA256 == m.SHA256 {
			return &d.Models[i], nil
		}
	}
	return nil, fmt.Errorf("profile %q has no measurement of bundle %s's %s model (%s, sha256 %.12s…): profile it with `tandem profile --model %s=FILE`",
		d.Name, b.Name, which, m.File, m.SHA256, b.Name+"/"+which)
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
