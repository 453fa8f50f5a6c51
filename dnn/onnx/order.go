package onnx

import (
	"container/heap"
	"fmt"
	"slices"

	"github.com/tandem-edge/tandem/dnn/onnx/onnxpb"
)

// sortNodes returns nodes ordered so that each follows the producers of its
// inputs, keeping the file's order wherever it already is one (ONNX requires
// topological order, but a reordered file is still a well-defined model).
// sources are the values no node produces: initializers and graph inputs.
// A dangling input, a value produced twice and a cycle are errors naming the
// node. The sort is iterative, so a deep corrupt graph cannot exhaust the stack.
func sortNodes(nodes []*onnxpb.NodeProto, sources map[string]bool) ([]*onnxpb.NodeProto, error) {
	producer := map[string]int{}
	for i, n := range nodes {
		for _, out := range n.GetOutput() {
			if out == "" {
				continue
			}
			if sources[out] {
				return nil, &NodeError{nodeLabel(n, i), opName(n), fmt.Errorf("output %q shadows an initializer or graph input", out)}
			}
			if j, dup := producer[out]; dup {
				return nil, &NodeError{nodeLabel(n, i), opName(n), fmt.Errorf("output %q is also produced by node %q", out, nodeLabel(nodes[j], j))}
			}
			producer[out] = i
		}
	}
	pending := make([]int, len(nodes)) // unsorted producers of each node's inputs
	readers := make([][]int, len(nodes))
	for i, n := range nodes {
		for _, in := range n.GetInput() {
			if in == "" || sources[in] {
				continue
			}
			p, ok := producer[in]
			if !ok {
				return nil, &NodeError{nodeLabel(n, i), opName(n), fmt.Errorf("input %q is produced by no node, initializer or graph input", in)}
			}
			pending[i]++
			readers[p] = append(readers[p], i)
		}
	}
	ready := &intHeap{}
	for i := range nodes {
		if pending[i] == 0 {
			heap.Push(ready, i)
		}
	}
	sorted := make([]*onnxpb.NodeProto, 0, len(nodes))
	for ready.Len() > 0 {
		i := heap.Pop(ready).(int)
		sorted = append(sorted, nodes[i])
		for _, r := range readers[i] {
			if pending[r]--; pending[r] == 0 {
				heap.Push(ready, r)
			}
		}
	}
	if len(sorted) == len(nodes) {
		return sorted, nil
	}
	// Every unsorted node waits on an unsorted producer. Walking back along
	// those edges from any of them must come round to a node twice: that
	// node lies on a cycle.
	at := slices.IndexFunc(pending, func(p int) bool { return p > 0 })
	seen := map[int]bool{}
	for !seen[at] {
		seen[at] = true
		for _, in := range nodes[at].GetInput() {
			if p, ok := producer[in]; ok && pending[p] > 0 {
				at = p
				break
			}
		}
	}
	n := nodes[at]
	for _, in := range n.GetInput() {
		if p, ok := producer[in]; ok && pending[p] > 0 {
			return nil, &NodeError{nodeLabel(n, at), opName(n), fmt.Errorf("input %q closes a cycle", in)}
		}
	}
	return nil, fmt.Errorf("onnx: nodes form a cycle")
}

// intHeap is a min-heap of node indices: among the nodes ready to run, the
// earliest in the file goes first.
type intHeap []int

func (h intHeap) Len() int           { return len(h) }
func (h intHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h intHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *intHeap) Push(x any)        { *h = append(*h, x.(int)) }
func (h *intHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
