package dnn

// Op names a layer kind. The names follow ONNX where ONNX has the same
// operator, so that a Graph and its ONNX encoding read alike.
type Op string

// The layer kinds a Graph may hold.
const (
	OpConv          Op = "Conv"               // 2-D convolution, NCHW, with groups
	OpBatchNorm     Op = "BatchNormalization" // per-channel affine with running statistics
	OpReLU          Op = "Relu"
	OpMaxPool       Op = "MaxPool"
	OpAvgPool       Op = "AveragePool" // padding is excluded from the average
	OpGlobalAvgPool Op = "GlobalAveragePool"
	OpFlatten       Op = "Flatten" // [N,C,H,W] -> [N, C*H*W]
	OpDense         Op = "Dense"   // y = x·Wᵀ + b (ONNX Gemm with transB=1)
	OpAdd           Op = "Add"     // element-wise sum of two inputs of one shape (residual)
	OpDropout       Op = "Dropout" // identity at inference
)

// Tensor is a dense float32 array in row-major order.
type Tensor struct {
	Shape []int
	Data  []float32
}

// NewTensor returns a zero tensor of the given shape.
func NewTensor(shape ...int) *Tensor {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return &Tensor{Shape: append([]int(nil), shape...), Data: make([]float32, n)}
}

// Len is the number of elements of t.
func (t *Tensor) Len() int { return len(t.Data) }

// Clone returns a deep copy of t; a nil t gives nil.
func (t *Tensor) Clone() *Tensor {
	if t == nil {
		return nil
	}
	return &Tensor{Shape: append([]int(nil), t.Shape...), Data: append([]float32(nil), t.Data...)}
}

// Node is one layer. Which attribute and parameter fields are used depends on
// Op; the others stay zero or nil.
//
//	Conv:      Out, Kernel, Stride, Pad, Groups; W [Out, In/Groups, kH, kW], B [Out] or nil
//	Dense:     Out; W [Out, In], B [Out] or nil
//	BatchNorm: Eps; Scale, Bias, Mean, Var [C]
//	MaxPool, AveragePool: Kernel, Stride, Pad
//	Dropout:   Rate
type Node struct {
	Name   string
	Op     Op
	Inputs []string // names of the producing nodes, or Graph.Input; Add has two

	Out    int     // output channels (Conv) or units (Dense)
	Kernel [2]int  // kH, kW
	Stride [2]int  // sH, sW
	Pad    [4]int  // top, left, bottom, right (ONNX pads order: begins then ends)
	Groups int     // Conv; 0 means 1
	Eps    float32 // BatchNorm
	Rate   float32 // Dropout

	W, B                   *Tensor // Conv, Dense
	Scale, Bias, Mean, Var *Tensor // BatchNorm
}

// Graph describes a whole model: an input of one sample's shape, layers in
// topological order, and the output of the last layer as logits. A Graph is
// the unit that training, pruning, ONNX encoding and profiling exchange.
type Graph struct {
	Name       string
	Input      string // name of the graph input, referenced by Node.Inputs
	InputShape []int  // one sample: C, H, W
	Classes    int    // width of the output logits
	Nodes      []*Node

	// Normalisation the model expects of its input: each channel c is fed as
	// (x - InputMean[c]) / InputStd[c], x being the pixel scaled to [0, 1].
	// ONNX files carry it in metadata_props (tandem.input_mean, tandem.input_std).
	InputMean, InputStd []float32

	// Meta is free-form provenance (arch, dataset, seed, accuracy) kept in the
	// ONNX metadata_props under the same keys.
	Meta map[string]string
}

// Output is the name of the node whose output is the graph's logits.
func (g *Graph) Output() string { return g.Nodes[len(g.Nodes)-1].Name }

// Node returns the node called name, or nil.
func (g *Graph) Node(name string) *Node {
	for _, n := range g.Nodes {
		if n.Name == name {
			return n
		}
	}
	return nil
}
