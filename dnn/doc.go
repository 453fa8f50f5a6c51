// Package dnn owns tandem's neural networks: the layer graph that describes a
// model, its float32 forward and backward passes (convolution by im2col and
// GEMM), training, the model zoo and structured pruning. ONNX encoding lives in
// dnn/onnx and datasets in dnn/data; neither this package nor they import any
// other tandem package.
//
// A Graph describes a model and is what the rest of tandem exchanges. Shapes,
// Cost, Params and FLOPs read it; NewNet makes it executable, with every
// buffer allocated up front and the Graph's own tensors as the parameters, so
// Train (or any Optimizer step) leaves the Graph describing the trained model.
// Zoo builds the untrained architectures tandem starts from.
//
// Matrix products go through one function backed by a CBLAS library loaded
// at run time (OpenBLAS from Debian's libopenblas-dev, or Accelerate on
// macOS) or, when none is found, with TANDEM_BLAS=gonum, without cgo or with
// the build tag noopenblas, by gonum's pure-Go blas32. OpenBLAS is pinned
// to one thread: a Net splits each layer across
// GOMAXPROCS goroutines itself (at most 16), in units whose results are
// combined in a fixed order, so a seeded training run on one machine and
// build gives bit-identical weights whatever the number of cores. The
// backends (and OpenBLAS's kernels for different CPUs) round differently, so
// results agree across them only to float32 precision.
package dnn
