// Package hil owns hardware-in-the-loop execution: ONNX Runtime sessions,
// the evaluation of a model on a dataset with them, and the measurement of
// device profiles (whole-model latency against batch size, per-layer times
// from ONNX Runtime's own profiler mapped back to the model's layers, and the
// single-layer sweeps the latency predictor is fitted on). The cloud
// inference server, the edge runner and link shaping belong here too.
//
// ONNX Runtime is a shared library loaded at run time (see InitORT for where
// it is looked for); scripts/setup.sh puts a known release into tandem's
// cache folder.
package hil
