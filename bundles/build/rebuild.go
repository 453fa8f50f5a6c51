package build

import (
	"fmt"
	"math"

	"github.com/tandem-edge/tandem/bundles"
	"github.com/tandem-edge/tandem/dnn"
)

// Architecture builds, untrained, the network a bundle's provenance says
// one of its models is: the zoo architecture and width it was trained as,
// or for an edge model made by tandem compress, the heavy model's
// architecture with each layer group cut to the kept fraction the
// compression recorded. A shipped model whose layers differ from it cannot
// be rebuilt by the command its provenance names.
func Architecture(b *bundles.Bundle, which string) (*dnn.Graph, error) {
	if which == bundles.ModelEdge {
		if c, ok := b.Provenance["compress"].(map[string]any); ok {
			heavy, err := Architecture(b, bundles.ModelHeavy)
			if err != nil {
				return nil, err
			}
			return cut(heavy, c["keep"])
		}
	}
	spec, ok := b.Provenance[which].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("bundle %s: provenance.%s is missing", b.Name, which)
	}
	arch, _ := spec["arch"].(string)
	width := number(spec["width"])
	if arch == "" || !(width > 0) {
		return nil, fmt.Errorf("bundle %s: provenance.%s names architecture %q at width %v, want a zoo architecture and a positive width", b.Name, which, arch, spec["width"])
	}
	return dnn.Zoo(arch, b.InputShape, b.Classes, width, 1)
}

// cut prunes g's layer groups to the kept fractions keep (a list of
// numbers, one per dnn.ConvGroups group; 0 for a residual block the
// compression dropped, dnn.BlockGroups); which channels does not matter to
// the architecture, so each keeps its first ones.
func cut(g *dnn.Graph, keep any) (*dnn.Graph, error) {
	list, _ := keep.([]any)
	groups := g.ConvGroups()
	if len(list) != len(groups) {
		return nil, fmt.Errorf("provenance.compress.keep has %d fractions for the heavy architecture's %d layer groups", len(list), len(groups))
	}
	blocks := g.BlockGroups()
	var drop []string
	sets := map[string][]int{}
	for i, gr := range groups {
		if add, ok := blocks[i]; ok && number(list[i]) == 0 {
			drop = append(drop, add)
			continue
		}
		n := g.Node(gr[0]).Out
		k := int(math.Round(number(list[i]) * float64(n)))
		if k < 1 || k > n {
			return nil, fmt.Errorf("provenance.compress.keep[%d] = %v of %d channels", i, list[i], n)
		}
		idx := make([]int, k)
		for j := range idx {
			idx[j] = j
		}
		for _, name := range gr {
			sets[name] = idx
		}
	}
	p, err := dnn.Prune(g, sets)
	if err != nil {
		return nil, err
	}
	return dnn.DropBlocks(p, drop)
}

// number reads a YAML number, decoded as an int or a float.
func number(v any) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case int:
		return float64(x)
	}
	return math.NaN()
}
