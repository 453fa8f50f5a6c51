package split

import (
	"fmt"
	"maps"
	"slices"

	"github.com/tandem-edge/tandem/dnn"
)

// Parts cuts g after node after into the two models a split deployment
// runs: the device's, g's nodes up to after, whose output is the cut
// tensor flattened (so that it is a model like any other, one flat output
// a sample), and the cloud's, the remaining nodes, whose input is that
// tensor in its own shape and whose output is g's logits. The device's part
// keeps g's input normalisation; the cloud's takes the tensor as the
// device's part gave it. after must be a point Points lists between the
// two ends: past it, only its tensor is still read.
func Parts(g *dnn.Graph, after string) (device, cloud *dnn.Graph, err error) {
	k := slices.IndexFunc(g.Nodes, func(n *dnn.Node) bool { return n.Name == after })
	if k < 0 || k == len(g.Nodes)-1 {
		return nil, nil, fmt.Errorf("split: %s has no node %q to cut after, short of its last", g.Name, after)
	}
	rest := map[string]bool{after: true}
	for _, n := range g.Nodes[k+1:] {
		for _, in := range n.Inputs {
			if !rest[in] {
				return nil, nil, fmt.Errorf("split: %s cut after %q: node %q still reads %q from the device's part", g.Name, after, n.Name, in)
			}
		}
		rest[n.Name] = true
	}
	shapes, err := g.Shapes()
	if err != nil {
		return nil, nil, err
	}
	tensor := shapes[after]

	device = g.Clone()
	device.Name = g.Name + "-to-" + after
	device.Nodes = device.Nodes[:k+1]
	device.Classes = numel(tensor)
	if len(tensor) != 1 {
		flat := after + "/flat"
		for g.Node(flat) != nil {
			flat += "_"
		}
		device.Nodes = append(device.Nodes, &dnn.Node{Name: flat, Op: dnn.OpFlatten, Inputs: []string{after}})
	}
	device.Meta = withCut(g.Meta, after)

	cloud = g.Clone()
	cloud.Name = g.Name + "-from-" + after
	cloud.Nodes = cloud.Nodes[k+1:]
	cloud.Input, cloud.InputShape = after, slices.Clone(tensor)
	cloud.InputMean, cloud.InputStd = nil, nil
	cloud.Meta = withCut(g.Meta, after)

	for _, p := range []*dnn.Graph{device, cloud} {
		if err := p.Validate(); err != nil {
			return nil, nil, fmt.Errorf("split: %s cut after %q: %w", g.Name, after, err)
		}
	}
	return device, cloud, nil
}

// withCut is a copy of meta that also says where its model was cut.
func withCut(meta map[string]string, after string) map[string]string {
	m := maps.Clone(meta)
	if m == nil {
		m = map[string]string{}
	}
	m["split_after"] = after
	return m
}
