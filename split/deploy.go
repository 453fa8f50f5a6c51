package split

import (
	"fmt"

	"github.com/tandem-edge/tandem/deploy"
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
	// Summary is the cut as summary.json reports it.
	Summary deploy.Cut
}

// For is the split deployment of resolved inputs whose policy is split:
// cut after the scenario's policy.after, or where it leaves that out, at
// the fastest cut between the two ends (LinkOf, Points, Best).
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
	after, chosen := sc.Policy.After, deploy.CutByScenario
	if after == "" {
		if after, err = fastest(in, g); err != nil {
			return nil, err
		}
		chosen = deploy.CutFastest
	}
	cut, err := CutAfter(g, in.EdgeModel, in.CloudModel, after)
	if err != nil {
		return nil, fmt.Errorf("%s: policy.after: %w", sc.File, err)
	}
	d := &Deployment{Heavy: g, Cut: cut, Summary: deploy.Cut{After: after, TensorBytes: cut.TensorBytes, Chosen: chosen}}
	d.Device, d.Server = Models(in.EdgeModel, in.CloudModel, cut)
	req, resp := cut.TensorBytes, scenarios.DefaultResponseBytes
	if overhead, r, ok := RequestOverhead(in.CloudModel, sc.Cloud[0].Protocol, in.Bundle.InputBytes()); ok {
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

// LinkOf is what a cut tensor crosses in sc: the first edge group's link,
// a trace taken at its mean rate, and the bytes HTTP adds to a request and
// an answer puts on the wire as cloud's serving path measured them for
// inputs of inputBytes (the raw tensor and DefaultResponseBytes without
// that measurement).
func LinkOf(sc *scenarios.Scenario, up, down profiles.Link, cloud *profiles.Model, inputBytes int) Link {
	l := Link{UplinkMbps: up.MeanMbps(), DownlinkMbps: down.MeanMbps(), RTT: sc.LinkOf(0).RTT.D(),
		ResponseBytes: scenarios.DefaultResponseBytes}
	if overhead, resp, ok := RequestOverhead(cloud, sc.Cloud[0].Protocol, inputBytes); ok {
		l.RequestOverhead, l.ResponseBytes = overhead, resp
	}
	return l
}

// fastest is the node after which cutting g is fastest for one unqueued
// request, short of both ends: a split that runs everything on one side is
// not one.
func fastest(in *scenarios.Inputs, g *dnn.Graph) (string, error) {
	sc := in.Scenario
	overhead, _ := deploy.CloudOverhead(in.CloudModel, sc.Cloud[0].Protocol)
	points, err := Points(g, in.EdgeModel, in.CloudModel, overhead, LinkOf(sc, in.Uplink, in.Downlink, in.CloudModel, in.Bundle.InputBytes()))
	if err != nil {
		return "", fmt.Errorf("%s: policy.after left out, so the fastest cut: %w", sc.File, err)
	}
	if len(points) < 3 {
		return "", fmt.Errorf("%s: policy.after left out: %s has no cut between its two ends", sc.File, g.Name)
	}
	return Best(points[1 : len(points)-1]).After, nil
}
