package dnn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
)

// zooArchs maps each architecture name to its builder.
var zooArchs = map[string]func(b *builder, classes int){
	"vgg":      buildVGG,
	"resnet":   buildResNet,
	"resnet20": buildResNet20,
	"tiny":     buildTiny,
	"vgg13":    buildVGG13,
}

// ZooArchs lists the architectures Zoo builds, sorted.
func ZooArchs() []string {
	names := make([]string, 0, len(zooArchs))
	for name := range zooArchs {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// Zoo builds an untrained model of a named architecture for inputs of one
// sample's shape [C, H, W] and the given number of classes:
//
//   - vgg: the heavy cloud model, four 3x3 Conv-BatchNorm-ReLU stages of
//     16, 32, 64 and 128 channels with 2x2 max pooling after the second and
//     third, then Flatten and a Dense classifier (the built-in bundle's
//     heavy model);
//   - resnet: a ResNet-8, a 3x3 stem of 16 channels and three basic
//     residual blocks of 16, 32 and 64 channels, the last two halving the
//     resolution through a strided 1x1 projection shortcut;
//   - resnet20: He et al.'s ResNet-20 for CIFAR, a 3x3 stem of 16 channels
//     and three stages of three basic blocks of 16, 32 and 64 channels,
//     each later stage starting with a strided block;
//   - tiny: two small Conv-BatchNorm-ReLU stages, for tests and demos;
//   - vgg13: Simonyan and Zisserman's VGG-13 at half width, five pairs of
//     3x3 Conv-BatchNorm-ReLU stages of 32, 64, 128, 256 and 256 channels
//     with 2x2 max pooling between pairs, then global average pooling and
//     a Dense classifier.
//
// width scales every hidden channel count (rounded, at least 1): width 0.25
// to 0.5 gives a uniformly thinner edge model; 0 means 1. Weights are drawn
// from seed: He normal, N(0, 2/fan_in), for convolutions and N(0, 1/fan_in)
// for the classifier; biases are zero and BatchNorm starts as the identity.
// Nodes are named conv1, bn1, relu1, pool1, ..., (gap,) flatten, fc (residual
// blocks: layer1.0.conv1, layer1.0.add, ...). The input normalisation is
// left unset: Train fills it from the training set.
func Zoo(arch string, inputShape []int, classes int, width float64, seed uint64) (*Graph, error) {
	build, ok := zooArchs[arch]
	if !ok {
		return nil, fmt.Errorf("dnn: zoo: unknown architecture %q (have %v)", arch, ZooArchs())
	}
	if len(inputShape) != 3 || inputShape[0] < 1 || inputShape[1] < 4 || inputShape[2] < 4 {
		return nil, fmt.Errorf("dnn: zoo: input shape %v, want [C, H, W] with H, W >= 4", inputShape)
	}
	if classes < 2 {
		return nil, fmt.Errorf("dnn: zoo: %d classes, want at least 2", classes)
	}
	if width == 0 {
		width = 1
	}
	if !(width > 0) || math.IsInf(width, 0) {
		return nil, fmt.Errorf("dnn: zoo: width %g, want > 0", width)
	}
	g := &Graph{Name: arch, Input: "input", InputShape: slices.Clone(inputShape), Classes: classes,
		Meta: map[string]string{"arch": arch, "width": strconv.FormatFloat(width, 'g', -1, 64), "seed": strconv.FormatUint(seed, 10)}}
	b := &builder{g: g, width: width, rng: rand.New(rand.NewPCG(seed, 0x200)), prev: g.Input, c: inputShape[0]}
	build(b, classes)
	if err := g.Validate(); err != nil {
		return nil, fmt.Errorf("dnn: zoo: %s for input %v: %w", arch, inputShape, err)
	}
	return g, nil
}

func buildVGG(b *builder, classes int) {
	b.convBNReLU("1", 16, 1)
	b.convBNReLU("2", 32, 1)
	b.maxPool("pool1")
	b.convBNReLU("3", 64, 1)
	b.maxPool("pool2")
	b.convBNReLU("4", 128, 1)
	b.flatHead(classes)
}

func buildResNet(b *builder, classes int) {
	b.convBNReLU("1", 16, 1)
	b.basicBlock("layer1.0", 16, 1)
	b.basicBlock("layer2.0", 32, 2)
	b.basicBlock("layer3.0", 64, 2)
	b.head(classes)
}

// buildResNet20 is He et al.'s CIFAR ResNet-20: three stages of three basic
// blocks each. Every block's first convolution is free to take any width,
// while each stage's residual stream ties its blocks' second convolutions
// (and the projection) together: twelve independently prunable groups, so
// how channels are spread over layers matters.
func buildResNet20(b *builder, classes int) {
	b.convBNReLU("1", 16, 1)
	for s, c := range []int{16, 32, 64} {
		for i := range 3 {
			stride := 1
			if s > 0 && i == 0 {
				stride = 2
			}
			b.basicBlock(fmt.Sprintf("layer%d.%d", s+1, i), c, stride)
		}
	}
	b.head(classes)
}

// buildVGG13 is VGG-13 at half width, pooled four times as VGG is on
// CIFAR. Its ten convolutions are ten independently prunable groups, and
// their cost is spread unevenly: the early pairs hold most of the FLOPs at
// full resolution, the late pairs most of the parameters at 3x3 and 1x1
// (on 28x28 inputs), which is where AMC-style per-layer allocation is
// known to beat a uniform ratio.
func buildVGG13(b *builder, classes int) {
	for i, c := range []int{32, 32, 64, 64, 128, 128, 256, 256, 256, 256} {
		b.convBNReLU(strconv.Itoa(i+1), c, 1)
		if i%2 == 1 && i < 9 {
			b.maxPool(fmt.Sprintf("pool%d", i/2+1))
		}
	}
	b.head(classes)
}

func buildTiny(b *builder, classes int) {
	b.convBNReLU("1", 8, 1)
	b.maxPool("pool1")
	b.convBNReLU("2", 16, 1)
	b.head(classes)
}

// builder appends nodes to a graph, tracking the current output and its
// channel count.
type builder struct {
	g     *Graph
	width float64
	rng   *rand.Rand
	prev  string // node whose output the next node consumes
	c     int    // its channels
}

func (b *builder) scaled(c int) int { return max(1, int(math.Round(float64(c)*b.width))) }

func (b *builder) add(n *Node) {
	b.g.Nodes = append(b.g.Nodes, n)
	b.prev = n.Name
}

// conv appends a bias-free k×k convolution (a BatchNorm follows every one)
// with "same" padding.
func (b *builder) conv(name string, in string, cin, out, k, stride int) {
	p := (k - 1) / 2
	n := &Node{Name: name, Op: OpConv, Inputs: []string{in}, Out: out, Kernel: [2]int{k, k},
		Stride: [2]int{stride, stride}, Pad: [4]int{p, p, p, p}, Groups: 1, W: NewTensor(out, cin, k, k)}
	b.normal(n.W.Data, math.Sqrt(2/float64(cin*k*k)))
	b.add(n)
}

func (b *builder) bn(name string, c int) {
	n := &Node{Name: name, Op: OpBatchNorm, Inputs: []string{b.prev}, Eps: DefaultBNEps,
		Scale: NewTensor(c), Bias: NewTensor(c), Mean: NewTensor(c), Var: NewTensor(c)}
	for i := range c {
		n.Scale.Data[i], n.Var.Data[i] = 1, 1
	}
	b.add(n)
}

func (b *builder) relu(name string) {
	b.add(&Node{Name: name, Op: OpReLU, Inputs: []string{b.prev}})
}

// convBNReLU appends conv<s>, bn<s>, relu<s> with c channels before scaling.
func (b *builder) convBNReLU(s string, c, stride int) {
	out := b.scaled(c)
	b.conv("conv"+s, b.prev, b.c, out, 3, stride)
	b.bn("bn"+s, out)
	b.relu("relu" + s)
	b.c = out
}

func (b *builder) maxPool(name string) {
	b.add(&Node{Name: name, Op: OpMaxPool, Inputs: []string{b.prev}, Kernel: [2]int{2, 2}, Stride: [2]int{2, 2}})
}

// basicBlock appends a ResNet basic block: two 3x3 Conv-BatchNorm stages
// added to the shortcut, then ReLU. The shortcut is the identity when shape
// is kept and a strided 1x1 Conv-BatchNorm projection otherwise.
func (b *builder) basicBlock(p string, c, stride int) {
	in, cin, out := b.prev, b.c, b.scaled(c)
	b.conv(p+".conv1", in, cin, out, 3, stride)
	b.bn(p+".bn1", out)
	b.relu(p + ".relu1")
	b.conv(p+".conv2", b.prev, out, out, 3, 1)
	b.bn(p+".bn2", out)
	main, short := b.prev, in
	if stride != 1 || cin != out {
		b.conv(p+".down", in, cin, out, 1, stride)
		b.bn(p+".downbn", out)
		short = b.prev
	}
	b.add(&Node{Name: p + ".add", Op: OpAdd, Inputs: []string{main, short}})
	b.relu(p + ".relu2")
	b.c = out
}

// head appends global average pooling and the Dense classifier.
func (b *builder) head(classes int) {
	b.add(&Node{Name: "gap", Op: OpGlobalAvgPool, Inputs: []string{b.prev}})
	b.add(&Node{Name: "flatten", Op: OpFlatten, Inputs: []string{b.prev}})
	fc := &Node{Name: "fc", Op: OpDense, Inputs: []string{b.prev}, Out: classes, W: NewTensor(classes, b.c), B: NewTensor(classes)}
	b.normal(fc.W.Data, math.Sqrt(1/float64(b.c)))
	b.add(fc)
}

// flatHead appends Flatten and the Dense classifier. Unlike global
// pooling, flattening keeps where in the image each feature was found.
func (b *builder) flatHead(classes int) {
	in := numel(b.shape())
	b.add(&Node{Name: "flatten", Op: OpFlatten, Inputs: []string{b.prev}})
	fc := &Node{Name: "fc", Op: OpDense, Inputs: []string{b.prev}, Out: classes, W: NewTensor(classes, in), B: NewTensor(classes)}
	b.normal(fc.W.Data, math.Sqrt(1/float64(in)))
	b.add(fc)
}

// shape is the per-sample output shape of the last node added (nil when the
// nodes do not fit together, which Zoo's validation then reports).
func (b *builder) shape() []int {
	shapes := map[string][]int{b.g.Input: b.g.InputShape}
	for _, n := range b.g.Nodes {
		var in [][]int
		for _, name := range n.Inputs {
			in = append(in, shapes[name])
		}
		s, err := n.outShape(in)
		if err != nil {
			return nil
		}
		shapes[n.Name] = s
	}
	return shapes[b.prev]
}

func (b *builder) normal(x []float32, std float64) {
	for i := range x {
		x[i] = float32(std * b.rng.NormFloat64())
	}
}
