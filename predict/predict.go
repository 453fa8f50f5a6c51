// Package predict predicts how long a dnn.Graph takes on a profiled device.
// It is the adapter between dnn's graphs and the layer-level latency
// predictor of package profiles, which does not import dnn, so that the
// compressor and the simulator can price a candidate network without ONNX
// Runtime or the hardware-in-the-loop package.
package predict

import (
	"fmt"
	"time"

	"github.com/tandem-edge/tandem/dnn"
	"github.com/tandem-edge/tandem/profiles"
)

// LayerSpecs describes each layer of g, in node order, to the latency
// predictor (profiles.Predictor), which does not import dnn. Dense layers
// are described as the ONNX Gemm they are encoded as.
func LayerSpecs(g *dnn.Graph) ([]profiles.LayerSpec, error) {
	shapes, err := g.Shapes()
	if err != nil {
		return nil, err
	}
	costs, err := g.Cost()
	if err != nil {
		return nil, err
	}
	specs := make([]profiles.LayerSpec, len(g.Nodes))
	for i, n := range g.Nodes {
		in, out := shapes[n.Inputs[0]], shapes[n.Name]
		s := profiles.LayerSpec{Op: string(n.Op), InC: in[0], OutC: out[0], H: 1, W: 1,
			FLOPs: costs[i].FLOPs, Bytes: costs[i].Bytes}
		if len(out) == 3 {
			s.H, s.W = out[1], out[2]
		}
		switch n.Op {
		case dnn.OpDense:
			s.Op = "Gemm"
		case dnn.OpConv, dnn.OpMaxPool, dnn.OpAvgPool:
			s.KH, s.KW, s.Stride = n.Kernel[0], n.Kernel[1], max(n.Stride[0], 1)
			s.Groups = max(n.Groups, 1)
		}
		specs[i] = s
	}
	return specs, nil
}

// Graph predicts the latency of g at batch size batch with the
// predictor of device d; see profiles.Predictor.Predict.
func Graph(d *profiles.Device, g *dnn.Graph, batch int) (time.Duration, error) {
	specs, err := LayerSpecs(g)
	if err != nil {
		return 0, fmt.Errorf("predict: %s: %w", g.Name, err)
	}
	return d.Predict(specs, batch)
}
