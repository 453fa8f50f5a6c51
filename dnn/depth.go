package dnn

import (
	"fmt"
	"slices"
)

// Block is a residual block whose branch can be removed whole: an Add one
// of whose inputs is the block's own input (an identity shortcut) while the
// other is a chain of single-input layers fed by that input alone and used
// by nothing else. Without its branch the block passes its input on, so
// removing it keeps every shape: depth pruning, where channel pruning
// (Prune) narrows.
type Block struct {
	Add      string   // the Add that closes the block
	Shortcut string   // the block's input, the Add's other operand
	Branch   []string // the branch's nodes, first to last
}

// IdentityBlocks lists g's removable residual blocks in node order.
func (g *Graph) IdentityBlocks() []Block {
	uses := map[string]int{}
	byName := map[string]*Node{}
	for _, n := range g.Nodes {
		byName[n.Name] = n
		for _, in := range n.Inputs {
			uses[in]++
		}
	}
	var blocks []Block
	for _, n := range g.Nodes {
		if n.Op != OpAdd || len(n.Inputs) != 2 {
			continue
		}
		for side := range 2 {
			short, at := n.Inputs[1-side], n.Inputs[side]
			var branch []string
			for at != short {
				m := byName[at]
				if m == nil || len(m.Inputs) != 1 || uses[at] != 1 {
					branch = nil
					break
				}
				branch = append(branch, at)
				at = m.Inputs[0]
			}
			if len(branch) > 0 {
				slices.Reverse(branch)
				blocks = append(blocks, Block{Add: n.Name, Shortcut: short, Branch: branch})
				break
			}
		}
	}
	return blocks
}

// DropBlocks returns a copy of g without the identity blocks closed by the
// Adds named in adds: whatever read an Add reads its block's input instead,
// and a ReLU after the Add that would repeat the ReLU before the block goes
// too. The copy's other weights are g's.
func DropBlocks(g *Graph, adds []string) (*Graph, error) {
	if len(adds) == 0 {
		return g.Clone(), nil
	}
	blocks := map[string]Block{}
	for _, b := range g.IdentityBlocks() {
		blocks[b.Add] = b
	}
	gone := map[string]bool{}
	to := map[string]string{} // an Add removed → the input that replaces it
	for _, a := range adds {
		b, ok := blocks[a]
		if !ok {
			return nil, fmt.Errorf("dnn: dropping blocks of %s: %q closes no identity block", g.Name, a)
		}
		if gone[a] {
			return nil, fmt.Errorf("dnn: dropping blocks of %s: %q named twice", g.Name, a)
		}
		gone[a] = true
		for _, n := range b.Branch {
			gone[n] = true
		}
		to[a] = b.Shortcut
	}
	resolve := func(name string) string {
		for {
			next, ok := to[name]
			if !ok {
				return name
			}
			name = next
		}
	}
	v := g.Clone()
	op := map[string]Op{}
	nodes := v.Nodes[:0]
	for _, n := range v.Nodes {
		if gone[n.Name] {
			continue
		}
		fromAdd := false
		for i, in := range n.Inputs {
			_, fromAdd = to[in]
			n.Inputs[i] = resolve(in)
		}
		// The ReLU after a dropped block's Add would now follow the ReLU
		// that ends the block before it: it changes nothing, so it goes.
		if n.Op == OpReLU && fromAdd && op[n.Inputs[0]] == OpReLU {
			to[n.Name] = n.Inputs[0]
			continue
		}
		op[n.Name] = n.Op
		nodes = append(nodes, n)
	}
	v.Nodes = nodes
	if _, moved := to[g.Output()]; len(v.Nodes) == 0 || moved {
		return nil, fmt.Errorf("dnn: dropping blocks of %s: the output layer would go", g.Name)
	}
	if err := v.Validate(); err != nil {
		return nil, fmt.Errorf("dnn: dropping blocks of %s: %w", g.Name, err)
	}
	return v, nil
}

// BlockGroups maps the index in ConvGroups of each group that is one
// identity block's first convolution, alone, to the Add closing that
// block: the groups whose keep ratio can go to zero, the block dropped
// (DropBlocks) instead of narrowed.
func (g *Graph) BlockGroups() map[int]string {
	first := map[string]string{}
	for _, b := range g.IdentityBlocks() {
		if n := g.Node(b.Branch[0]); n != nil && n.Op == OpConv {
			first[b.Branch[0]] = b.Add
		}
	}
	out := map[int]string{}
	for i, gr := range g.ConvGroups() {
		if add, ok := first[gr[0]]; ok && len(gr) == 1 {
			out[i] = add
		}
	}
	return out
}
