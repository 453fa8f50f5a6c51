package profiles

// LayerSpec describes one layer of a network to the latency predictor: what
// its cost depends on, without the network itself (profiles does not know
// dnn's graphs; predict.LayerSpecs converts one).
type LayerSpec struct {
	Op        string // ONNX operator: Conv, Gemm, MaxPool, AveragePool, GlobalAveragePool, BatchNormalization, Relu, Add, Flatten, ...
	InC, OutC int    // input and output channels (Gemm: input and output features)
	H, W      int    // output spatial size; 1 for flat layers
	KH, KW    int    // kernel size (Conv, pooling); 0 otherwise
	Stride    int    // Conv and pooling; 0 means 1
	Groups    int    // Conv; 0 means 1
	FLOPs     int64  // at batch 1, as dnn.LayerCost counts them
	Bytes     int64  // weights and output activation at batch 1, as dnn.LayerCost counts them
}

// Kernel is the class of ONNX Runtime CPU kernel a layer runs as: the
// predictor keeps one latency model per class. Which kernel a convolution
// gets depends on its channel counts: ONNX Runtime's NCHWc optimiser works
// on blocks of B channels (B = Predictor.ChannelBlock: 16 with AVX-512, 8
// with AVX2) and pads a tensor to whole blocks only when its channel count
// is a multiple of A (Predictor.ChannelAlign: 4 in ONNX Runtime 1.30):
//
//	conv-nchwc     groups 1, InC ≥ B and a multiple of A: blocked input and output
//	conv-nchwc-in  groups 1, InC < B: plain input, blocked output
//	conv           any other convolution: im2col and GEMM, plain layout
//
// The cost of a blocked convolution includes turning its padded output back
// into the plain layout when the next layer needs that. Pooling is blocked
// too when its channel count is a multiple of B.
type Kernel string

// The kernel classes.
const (
	KernelConvNCHWc   Kernel = "conv-nchwc"
	KernelConvNCHWcIn Kernel = "conv-nchwc-in"
	KernelConv        Kernel = "conv"
	KernelGemm        Kernel = "gemm"
	KernelPoolNCHWc   Kernel = "pool-nchwc"  // MaxPool, AveragePool over a multiple of B channels
	KernelPool        Kernel = "pool"        // other MaxPool, AveragePool
	KernelGlobalPool  Kernel = "global-pool" // GlobalAveragePool, GlobalMaxPool
	KernelElementwise Kernel = "elementwise" // BatchNormalization, Relu, Add, ... when not fused into a Conv
	KernelReshape     Kernel = "reshape"     // Flatten, Reshape, Identity, Dropout: a copy at most
	KernelFused       Kernel = "fused"       // runs inside the preceding Conv's kernel: costs nothing of its own
)

// fusable are the operators ONNX Runtime computes inside the kernel of the
// convolution they follow: a BatchNormalization folded into its weights,
// an activation, a residual sum.
var fusable = map[string]bool{"BatchNormalization": true, "Relu": true, "Add": true, "Sum": true, "Clip": true, "LeakyRelu": true}

// layout is what decides ONNX Runtime's choice of kernels: its NCHWc
// channel block and the alignment it needs to pad channels to a block.
type layout struct{ block, align int }

// kernelOf classifies layer l; prevFusing says whether the layer before it
// in the list is a Conv or a layer fused into one.
func (lo layout) kernelOf(l *LayerSpec, prevFusing bool) Kernel {
	switch l.Op {
	case "Conv":
		switch {
		case max(l.Groups, 1) != 1 || lo.block <= 1:
			return KernelConv
		case l.InC < lo.block:
			return KernelConvNCHWcIn
		case lo.align > 0 && l.InC%lo.align == 0:
			return KernelConvNCHWc
		}
		return KernelConv
	case "Gemm", "MatMul":
		return KernelGemm
	case "MaxPool", "AveragePool":
		if lo.block > 1 && l.OutC%lo.block == 0 {
			return KernelPoolNCHWc
		}
		return KernelPool
	case "GlobalAveragePool", "GlobalMaxPool":
		return KernelGlobalPool
	case "Flatten", "Reshape", "Identity", "Dropout", "Squeeze", "Unsqueeze":
		return KernelReshape
	}
	if fusable[l.Op] && prevFusing {
		return KernelFused
	}
	return KernelElementwise
}

// effectiveFLOPs counts a blocked convolution's FLOPs with its channels
// padded to whole blocks, as its kernel computes them:
//
//	F_eff = F · ⌈OutC/B⌉B/OutC · ⌈InC/B⌉B/InC   (conv-nchwc; conv-nchwc-in pads OutC only)
func (lo layout) effectiveFLOPs(l *LayerSpec, k Kernel) float64 {
	f := float64(l.FLOPs)
	b := lo.block
	if (k == KernelConvNCHWc || k == KernelConvNCHWcIn) && l.OutC > 0 {
		f *= float64((l.OutC+b-1)/b*b) / float64(l.OutC)
	}
	if k == KernelConvNCHWc && l.InC > 0 {
		f *= float64((l.InC+b-1)/b*b) / float64(l.InC)
	}
	return f
}

// fuses reports whether a layer of class k lets a following fusable layer
// run inside the same kernel.
func fuses(k Kernel) bool {
	return k == KernelConvNCHWc || k == KernelConvNCHWcIn || k == KernelConv || k == KernelFused
}
