// Package hil owns hardware-in-the-loop execution: ONNX Runtime sessions and
// the evaluation of a model on a dataset with them, and later the cloud
// inference server, the edge runner and link shaping.
//
// ONNX Runtime is a shared library loaded at run time (see InitORT for where
// it is looked for); scripts/setup.sh puts a known release into tandem's
// cache folder.
package hil
