package profiles

import "time"

// ModelSample is one measured network, the unit FitPredictor learns from:
// a single-layer probe of a width sweep or a whole profiled model.
type ModelSample struct {
	Name   string
	Layers []LayerSpec
	// Profiled is each layer's time as ONNX Runtime's profiler measured it
	// (midmean over runs), the nodes of fused and layout kernels charged as
	// profiler.MapTrace charges them; len(Profiled) == len(Layers).
	Profiled []time.Duration
	// Nodes is how many ONNX Runtime nodes were charged to each layer: the
	// profiler inflates each node's time by about the same amount.
	Nodes []int
	// Latency is the whole network's median batch-1 latency without the
	// profiler.
	Latency time.Duration
}
