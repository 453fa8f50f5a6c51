package onnx

import (
	"errors"
	"fmt"
)

// ErrUnsupported is wrapped by every error about a valid ONNX construct that a
// dnn.Graph cannot express (an operator, an attribute value, a reshape), as
// opposed to a malformed model. Test with errors.Is.
var ErrUnsupported = errors.New("unsupported")

// errUnsupportedOp is the cause reported for an operator outside the mapping.
var errUnsupportedOp = fmt.Errorf("%w operator", ErrUnsupported)

// NodeError reports a problem with one node of a model being encoded or
// decoded. Node is the node's name (its first output when it has none).
type NodeError struct {
	Node string
	Op   string
	Err  error
}

func (e *NodeError) Error() string {
	return fmt.Sprintf("onnx: node %q (op %s): %v", e.Node, e.Op, e.Err)
}

func (e *NodeError) Unwrap() error { return e.Err }

// unsupported returns an error wrapping ErrUnsupported.
func unsupported(format string, args ...any) error {
	return fmt.Errorf("%w %s", ErrUnsupported, fmt.Sprintf(format, args...))
}
