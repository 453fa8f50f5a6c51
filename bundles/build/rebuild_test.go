package build

import (
	"fmt"
	"slices"
	"testing"

	"github.com/tandem-edge/tandem/bundles"
	"github.com/tandem-edge/tandem/dnn"
	"github.com/tandem-edge/tandem/dnn/onnx"
)

// TestBuiltinModelsMatchTheirProvenance builds, for every model of every
// built-in bundle, the architecture its provenance names and checks that the
// shipped file has exactly its layers, weight shapes and parameter count, so
// that the command the provenance records would make the same network again.
func TestBuiltinModelsMatchTheirProvenance(t *testing.T) {
	for _, name := range bundles.Builtins() {
		b, err := bundles.Load("builtin:" + name)
		if err != nil {
			t.Fatal(err)
		}
		for _, which := range []string{bundles.ModelHeavy, bundles.ModelEdge} {
			t.Run(name+"/"+which, func(t *testing.T) {
				raw, err := b.ReadModel(which)
				if err != nil {
					t.Fatal(err)
				}
				shipped, err := onnx.Decode(raw)
				if err != nil {
					t.Fatal(err)
				}
				built, err := Architecture(b, which)
				if err != nil {
					t.Fatal(err)
				}
				checkArchitecture(t, shipped, built)
				if info, _ := b.ModelInfo(which); info != nil && info.Params != shipped.Params() {
					t.Errorf("bundle.yaml says %d parameters, the file has %d", info.Params, shipped.Params())
				}
			})
		}
	}
}

// checkArchitecture compares a shipped model with the architecture its
// provenance names.
func checkArchitecture(t *testing.T, shipped, built *dnn.Graph) {
	t.Helper()
	if got, want := layers(shipped), layers(built); !slices.Equal(got, want) {
		t.Errorf("the shipped model's layers are not those its provenance names:\nshipped %v\nrebuilt %v", got, want)
	}
	if got, want := shipped.Params(), built.Params(); got != want {
		t.Errorf("the shipped model has %d parameters, the architecture its provenance names %d", got, want)
	}
}

// layers describes each node by name, operator and weight shape.
func layers(g *dnn.Graph) []string {
	var out []string
	for _, n := range g.Nodes {
		s := fmt.Sprintf("%s:%s", n.Name, n.Op)
		if n.W != nil {
			s += fmt.Sprint(n.W.Shape)
		}
		out = append(out, s)
	}
	return out
}

// TestCutDropsBlocks checks that a kept fraction of 0 for a group that
// opens an identity block rebuilds the model without that block, as
// 'tandem compress --drop-blocks' made it, and is refused elsewhere.
func TestCutDropsBlocks(t *testing.T) {
	g, err := dnn.Zoo("resnet20", []int{1, 28, 28}, 10, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	keep := make([]any, len(g.ConvGroups()))
	for i := range keep {
		keep[i] = 0.5
	}
	keep[7] = 0 // layer2.2's first convolution
	c, err := cut(g, keep)
	if err != nil {
		t.Fatal(err)
	}
	if c.Node("layer2.2.conv1") != nil || c.Node("layer2.2.add") != nil || c.Node("layer2.1.conv1") == nil {
		t.Error("layer2.2 should be gone, layer2.1 kept")
	}
	keep[7], keep[5] = 0.5, 0 // the second stage's residual stream
	if _, err := cut(g, keep); err == nil {
		t.Error("a stream group cut to nothing: no error")
	}
}
