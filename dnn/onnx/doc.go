// Package onnx owns the conversion between dnn.Graph and ONNX model files.
//
// Encode writes a Graph as a standard ONNX model (IR version 8, opset 13)
// that ONNX Runtime executes as it is: weights as float32 initializers, a
// symbolic batch dimension N on the input and the logits, and the input
// normalisation and provenance in metadata_props. Optionally it folds batch
// normalisation into the convolutions for deployment.
//
// Decode reads such a model back, and also the models other tools write for
// the same layers, notably torch.onnx.export: defaulted attributes,
// auto_pad, Gemm in either weight layout, MatMul plus a bias Add, the
// reshapes PyTorch emits for x.view(x.size(0), -1), ReduceMean as global
// average pooling and zero padding by Pad are all mapped onto the layer
// kinds of dnn.Graph. Anything a Graph cannot express is reported as an
// error naming the node, never approximated.
//
// The protobuf types come from the generated package onnxpb.
package onnx
