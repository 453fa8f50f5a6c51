package split

import (
	"fmt"

	"github.com/tandem-edge/tandem/dnn"
	"github.com/tandem-edge/tandem/dnn/onnx"
	"github.com/tandem-edge/tandem/profiles"
	"github.com/tandem-edge/tandem/scenarios"
)

// Deployment is a scenario's split (policy.kind split) as both drivers run
// it: the simulator times each side from its profile, a real run executes
// the two Parts of Heavy, and both carry the same bytes a request.
type Deployment struct {
	Heavy *dnn.Graph // the bundle's heavy model
	Cut   Cut
	// Device and Server are the profiles of the two parts: the device's
	// part the edge profile's heavy model with every latency (its cold
	// curve included) scaled to its share, the server's likewise, each
	// serving path keeping its overhead over the model.
	Device, Server *profiles.Model
	// A request carries the cut tensor in place of the input, framed and
	// acknowledged as the serving path measured a request's HTTP where
	// the cloud profile measured it (LinkBytes scenarios.LinkBytesServing),
	// the raw tensor otherwise (scenarios.LinkBytesTensor). A scenario's
	// link.request_bytes is the input's, so it gives way to the tensor's;
	// its link.response_bytes stands.
	RequestBytes, ResponseBytes int
	LinkBytes                   string
}

// For is the split deployment of resolved inputs whose policy is split.
func For(in *scenarios.Inputs) (*Deployment, error) {
	sc := in.Scenario
	if len(in.Groups) > 1 {
		return nil, fmt.Errorf("%s: policy.kind split: one edge group only (the cut is timed on one device class)", sc.File)
	}
	if in.EdgeModel == nil || in.CloudModel == nil {
		return nil, fmt.Errorf("%s: policy.kind split: the cut is timed from the heavy model's per-layer profiles on the edge and cloud devices; remove edge.service and cloud.service", sc.File)
	}
	g, err := onnx.Decode(in.HeavyONNX)
	if err != nil {
		return nil, fmt.Errorf("bundle %s: heavy model: %w", in.Bundle.Name, err)
	}
	cut, err := CutAfter(g, in.EdgeModel, in.CloudModel, sc.Policy.After)
	if err != nil {
		return nil, fmt.Errorf("%s: policy.after: %w", sc.File, err)
	}
	d := &Deployment{Heavy: g, Cut: cut}
	d.Device, d.Server = Models(in.EdgeModel, in.CloudModel, cut)
	req, resp := cut.TensorBytes, scenarios.DefaultResponseBytes
	if overhead, r, ok := RequestOverhead(in.CloudModel, sc.Cloud.Protocol, in.Bundle.InputBytes()); ok {
		req, resp = cut.TensorBytes+overhead, r
		d.RequestBytes = profiles.FramedBytes(req) + profiles.AckBytes(resp)
		d.ResponseBytes = profiles.FramedBytes(resp) + profiles.AckBytes(req)
		d.LinkBytes = scenarios.LinkBytesServing
	} else {
		d.RequestBytes, d.ResponseBytes, d.LinkBytes = req, resp, scenarios.LinkBytesTensor
	}
	if sc.Link.ResponseBytes > 0 {
		d.ResponseBytes = sc.Link.ResponseBytes
	}
	return d, nil
}
