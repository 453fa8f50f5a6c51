package sim

import (
	"fmt"

	"github.com/tandem-edge/tandem/dnn/onnx"
	"github.com/tandem-edge/tandem/profiles"
	"github.com/tandem-edge/tandem/scenarios"
	"github.com/tandem-edge/tandem/split"
)

// splitConfig makes cfg a split deployment's: the device's stage is the
// heavy model up to the scenario's cut (its edge profile's times scaled to
// the layers' share), the cloud's the rest, and a request carries the cut
// tensor in place of the input (framed and acknowledged as the serving path
// measured a request's HTTP). A scenario's own link.request_bytes is the
// input's, so it gives way to the tensor's here.
func splitConfig(cfg *Config, in *scenarios.Inputs) error {
	sc := in.Scenario
	if len(in.Groups) > 1 {
		return fmt.Errorf("%s: policy.kind split: one edge group only (the cut is timed on one device class)", sc.File)
	}
	if in.EdgeModel == nil || in.CloudModel == nil {
		return fmt.Errorf("%s: policy.kind split: the cut is timed from the heavy model's per-layer profiles on the edge and cloud devices; remove edge.service and cloud.service", sc.File)
	}
	g, err := onnx.Decode(in.HeavyONNX)
	if err != nil {
		return fmt.Errorf("bundle %s: heavy model: %w", in.Bundle.Name, err)
	}
	cut, err := split.CutAfter(g, in.EdgeModel, in.CloudModel, sc.Policy.After)
	if err != nil {
		return fmt.Errorf("%s: policy.after: %w", sc.File, err)
	}
	cfg.EdgeModel, cfg.CloudModel = split.Models(in.EdgeModel, in.CloudModel, cut)
	req, resp := cut.TensorBytes, scenarios.DefaultResponseBytes
	if overhead, r, ok := split.RequestOverhead(in.CloudModel, sc.Cloud.Protocol, in.Bundle.InputBytes()); ok {
		req, resp = cut.TensorBytes+overhead, r
		cfg.RequestBytes = profiles.FramedBytes(req) + profiles.AckBytes(resp)
		cfg.ResponseBytes = profiles.FramedBytes(resp) + profiles.AckBytes(req)
		cfg.LinkBytes = scenarios.LinkBytesServing
	} else {
		cfg.RequestBytes, cfg.ResponseBytes, cfg.LinkBytes = req, resp, scenarios.LinkBytesTensor
	}
	if sc.Link.ResponseBytes > 0 {
		cfg.ResponseBytes = sc.Link.ResponseBytes
	}
	return nil
}
