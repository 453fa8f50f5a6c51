// Package profiler owns measuring models layer by layer on the machine at
// hand with ONNX Runtime: whole-model latency against batch size, per-layer
// times from ONNX Runtime's own profiler charged back to the model's layers,
// and the single-layer sweeps and pruned networks that the latency predictor
// is fitted on (profiles.FitPredictor). It produces the device profiles that
// package profiles reads.
//
// It runs models through package hil's ONNX Runtime sessions; hil never
// imports it, so executing a model does not depend on how a device was
// measured.
package profiler
