package profiler

import (
	"fmt"
	"os"

	"google.golang.org/protobuf/proto"

	"github.com/tandem-edge/tandem/dnn/onnx/onnxpb"
)

// ModelLayer is one layer of a model as its ONNX file has it: what
// MapTrace needs to charge ONNX Runtime's nodes to layers.
type ModelLayer struct {
	Name    string   // the ONNX node's name, or its first output's when it has none
	Op      string   // the ONNX operator
	Inputs  []string // names of the layers it reads; the graph input and initializers are left out
	Outputs []string // its output tensors: ONNX Runtime names rewritten nodes after them
	Weight  []int64  // shape of its second input when that is an initializer (Conv [Out, In/groups, kH, kW], Gemm's B)
}

// ReadModelLayers reads the layers of the ONNX model in the file path, in
// the file's node order.
func ReadModelLayers(path string) ([]ModelLayer, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("profiler: model: %w", err)
	}
	var m onnxpb.ModelProto
	if err := proto.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("profiler: %s: not an ONNX model: %v", path, err)
	}
	g := m.GetGraph()
	if g == nil || len(g.GetNode()) == 0 {
		return nil, fmt.Errorf("profiler: %s: graph: the model has no nodes", path)
	}
	inits := map[string][]int64{}
	for _, t := range g.GetInitializer() {
		inits[t.GetName()] = t.GetDims()
	}
	producer := map[string]string{} // tensor → layer
	layers := make([]ModelLayer, 0, len(g.GetNode()))
	seen := map[string]int{}
	for i, n := range g.GetNode() {
		l := ModelLayer{Name: n.GetName(), Op: n.GetOpType(), Outputs: n.GetOutput()}
		if l.Name == "" && len(l.Outputs) > 0 {
			l.Name = l.Outputs[0]
		}
		if l.Name == "" {
			return nil, fmt.Errorf("profiler: %s: graph.node[%d] (%s): no name and no output", path, i, l.Op)
		}
		if j, dup := seen[l.Name]; dup {
			return nil, fmt.Errorf("profiler: %s: graph.node[%d]: name %q already used by graph.node[%d]", path, i, l.Name, j)
		}
		seen[l.Name] = i
		for k, in := range n.GetInput() {
			if p, ok := producer[in]; ok {
				l.Inputs = append(l.Inputs, p)
			} else if w, ok := inits[in]; ok && k == 1 {
				l.Weight = w
			}
		}
		for _, out := range l.Outputs {
			producer[out] = l.Name
		}
		layers = append(layers, l)
	}
	return layers, nil
}
