package dnn

import "fmt"

// Features returns a copy of g without its classifier: the network up to
// the input of its last layer, a Dense over flat features, whose output is
// those features (Classes set to their number). For the zoo's models they
// are the pooled activations the classifier reads: what the model knows of
// an input before it decides, which an offloader may read besides the
// decision itself.
func (g *Graph) Features() (*Graph, error) {
	last := g.Nodes[len(g.Nodes)-1]
	if last.Op != OpDense || len(g.Nodes) < 2 {
		return nil, fmt.Errorf("dnn: features of %s: its last layer is %s, not a Dense classifier", g.Name, last.Op)
	}
	shapes, err := g.Shapes()
	if err != nil {
		return nil, err
	}
	in := shapes[last.Inputs[0]]
	if len(in) != 1 || last.Inputs[0] == g.Input {
		return nil, fmt.Errorf("dnn: features of %s: its classifier reads %v, not flat features of a layer", g.Name, in)
	}
	v := g.Clone()
	v.Nodes = v.Nodes[:len(v.Nodes)-1]
	if v.Output() != last.Inputs[0] {
		return nil, fmt.Errorf("dnn: features of %s: its classifier reads %s, not the layer before it", g.Name, last.Inputs[0])
	}
	v.Classes = in[0]
	if err := v.Validate(); err != nil {
		return nil, fmt.Errorf("dnn: features of %s: %w", g.Name, err)
	}
	return v, nil
}
