package onnx

import (
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/tandem-edge/tandem/dnn/onnx/onnxpb"
)

// Attribute constructors for Encode.

func attrInt(name string, v int64) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_INT.Enum(), I: proto.Int64(v)}
}

func attrFloat(name string, v float32) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_FLOAT.Enum(), F: proto.Float32(v)}
}

func attrInts(name string, v ...int) *onnxpb.AttributeProto {
	ints := make([]int64, len(v))
	for i, x := range v {
		ints[i] = int64(x)
	}
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_INTS.Enum(), Ints: ints}
}

// attrs gives typed access to a node's attributes, each getter taking the
// default ONNX specifies for an absent attribute. A present attribute of the
// wrong type is an error: guessing would turn a corrupt file into a wrong model.
type attrs map[string]*onnxpb.AttributeProto

func nodeAttrs(n *onnxpb.NodeProto) attrs {
	a := attrs{}
	for _, p := range n.GetAttribute() {
		a[p.GetName()] = p
	}
	return a
}

// typed returns the attribute called name if it has type t. Files written
// before IR version 2 leave the type out; has tells what the field would be.
func (a attrs) typed(name string, t onnxpb.AttributeProto_AttributeType,
	has func(*onnxpb.AttributeProto) bool) (*onnxpb.AttributeProto, error) {
	p, ok := a[name]
	if !ok {
		return nil, nil
	}
	if p.Type == nil && has(p) || p.GetType() == t {
		return p, nil
	}
	return nil, fmt.Errorf("attribute %s has type %s, want %s", name, p.GetType(), t)
}

func (a attrs) int(name string, def int64) (int64, error) {
	p, err := a.typed(name, onnxpb.AttributeProto_INT, func(p *onnxpb.AttributeProto) bool { return p.I != nil })
	if p == nil {
		return def, err
	}
	return p.GetI(), nil
}

func (a attrs) float(name string, def float32) (float32, error) {
	p, err := a.typed(name, onnxpb.AttributeProto_FLOAT, func(p *onnxpb.AttributeProto) bool { return p.F != nil })
	if p == nil {
		return def, err
	}
	return p.GetF(), nil
}

func (a attrs) string(name, def string) (string, error) {
	p, err := a.typed(name, onnxpb.AttributeProto_STRING, func(p *onnxpb.AttributeProto) bool { return p.S != nil })
	if p == nil {
		return def, err
	}
	return string(p.GetS()), nil
}

// ints returns the list attribute called name, or def, with its length
// checked against want when want > 0.
func (a attrs) ints(name string, def []int64, want int) ([]int64, error) {
	p, err := a.typed(name, onnxpb.AttributeProto_INTS, func(p *onnxpb.AttributeProto) bool { return p.Ints != nil })
	if err != nil {
		return nil, err
	}
	v := def
	if p != nil {
		v = p.GetInts()
	}
	if want > 0 && v != nil && len(v) != want {
		return nil, fmt.Errorf("attribute %s = %v, want %d values", name, v, want)
	}
	return v, nil
}

func (a attrs) tensor(name string) (*onnxpb.TensorProto, error) {
	p, err := a.typed(name, onnxpb.AttributeProto_TENSOR, func(p *onnxpb.AttributeProto) bool { return p.T != nil })
	if p == nil {
		return nil, err
	}
	return p.GetT(), nil
}

func (a attrs) floats(name string) ([]float32, error) {
	p, err := a.typed(name, onnxpb.AttributeProto_FLOATS, func(p *onnxpb.AttributeProto) bool { return p.Floats != nil })
	if p == nil {
		return nil, err
	}
	return p.GetFloats(), nil
}

// pair converts a two-element attribute to ints, each at least lo.
func pair(name string, v []int64, lo int64) ([2]int, error) {
	if len(v) != 2 || v[0] < lo || v[1] < lo || v[0] > maxElems || v[1] > maxElems {
		return [2]int{}, fmt.Errorf("attribute %s = %v, want two values ≥ %d", name, v, lo)
	}
	return [2]int{int(v[0]), int(v[1])}, nil
}
