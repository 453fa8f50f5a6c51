package onnx

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/tandem-edge/tandem/dnn/onnx/onnxpb"
)

// GraphDigest returns the SHA-256, in hex, of the model in b with the values
// of its floating-point tensors taken out and its descriptive fields (doc
// strings, producer, graph name, metadata) cleared: what is left is the
// computation, its layer names, operators, attributes and every tensor's
// type and shape. Two files with one digest, such as one network fine-tuned
// twice, do the same arithmetic on the same shapes, so a runtime takes the
// same time on either; integer tensors stay, because their values can be
// shapes. A device profile ties its measurements to this digest as well as
// to the file's, so that new weights need no new profile.
func GraphDigest(b []byte) (string, error) {
	var m onnxpb.ModelProto
	if err := proto.Unmarshal(b, &m); err != nil {
		return "", fmt.Errorf("onnx: graph digest: decode model: %w", err)
	}
	m.ProducerName, m.ProducerVersion, m.DocString, m.MetadataProps = nil, nil, nil, nil
	if g := m.Graph; g != nil {
		g.Name, g.DocString = nil, nil
		for _, t := range g.Initializer {
			stripFloats(t)
		}
		for _, n := range g.Node {
			n.DocString = nil
			for _, a := range n.Attribute {
				if a.T != nil {
					stripFloats(a.T)
				}
				for _, t := range a.Tensors {
					stripFloats(t)
				}
			}
		}
	}
	out, err := proto.MarshalOptions{Deterministic: true}.Marshal(&m)
	if err != nil {
		return "", fmt.Errorf("onnx: graph digest: %w", err)
	}
	sum := sha256.Sum256(out)
	return hex.EncodeToString(sum[:]), nil
}

// stripFloats empties the values of t when they are floating-point,
// keeping its name, type and dimensions.
func stripFloats(t *onnxpb.TensorProto) {
	switch onnxpb.TensorProto_DataType(t.GetDataType()) {
	case onnxpb.TensorProto_FLOAT, onnxpb.TensorProto_DOUBLE, onnxpb.TensorProto_FLOAT16, onnxpb.TensorProto_BFLOAT16:
		t.FloatData, t.DoubleData, t.RawData, t.Int32Data = nil, nil, nil, nil
	}
}
