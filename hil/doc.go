// Package hil owns hardware-in-the-loop execution: ONNX Runtime sessions and
// the evaluation of a model on a dataset with them. The cloud inference
// server, the edge runner and link shaping belong here too. Measuring device
// profiles with these sessions is package profiler's.
//
// ONNX Runtime is a shared library loaded at run time (see InitORT for where
// it is looked for); scripts/setup.sh puts a known release into tandem's
// cache folder.
package hil
