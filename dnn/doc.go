// Package dnn owns tandem's neural networks: the layer graph that describes a
// model, its float32 forward and backward passes (convolution by im2col and
// GEMM), training, the model zoo and structured pruning. ONNX encoding lives in
// dnn/onnx and datasets in dnn/data; neither this package nor they import any
// other tandem package.
package dnn
