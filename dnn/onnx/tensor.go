package onnx

import (
	"encoding/binary"
	"fmt"
	"math"

	"google.golang.org/protobuf/proto"

	"github.com/tandem-edge/tandem/dnn"
	"github.com/tandem-edge/tandem/dnn/onnx/onnxpb"
)

// maxElems bounds the element count of any tensor or input read from a file,
// so that a corrupt size fails cleanly instead of overflowing int arithmetic.
const maxElems = 1 << 31

// floatTensor encodes t as a FLOAT initializer with little-endian raw_data,
// the layout ONNX Runtime maps without copying element by element.
func floatTensor(name string, t *dnn.Tensor) *onnxpb.TensorProto {
	dims := make([]int64, len(t.Shape))
	for i, d := range t.Shape {
		dims[i] = int64(d)
	}
	raw := make([]byte, 4*len(t.Data))
	for i, v := range t.Data {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
	}
	return &onnxpb.TensorProto{
		Name:     proto.String(name),
		Dims:     dims,
		DataType: proto.Int32(int32(onnxpb.TensorProto_FLOAT)),
		RawData:  raw,
	}
}

// tensorDims checks the dims of t and returns them with the element count.
func tensorDims(t *onnxpb.TensorProto) ([]int, int, error) {
	if t.GetDataLocation() == onnxpb.TensorProto_EXTERNAL || len(t.GetExternalData()) > 0 {
		return nil, 0, unsupported("external data (keep weights inside the model file)")
	}
	if t.Segment != nil {
		return nil, 0, unsupported("segmented tensor")
	}
	dims := make([]int, len(t.GetDims()))
	n := 1
	for i, d := range t.GetDims() {
		if d < 0 || (d > 0 && int64(n) > maxElems/d) {
			return nil, 0, fmt.Errorf("dims %v are not a valid size", t.GetDims())
		}
		dims[i] = int(d)
		n *= int(d)
	}
	return dims, n, nil
}

func dataTypeName(dt int32) string {
	if s, ok := onnxpb.TensorProto_DataType_name[dt]; ok {
		return s
	}
	return fmt.Sprint(dt)
}

// decodeFloats reads a FLOAT tensor from raw_data or float_data. Any other
// element type is an error: the layers compute in float32 and a silent
// conversion from DOUBLE or FLOAT16 would hide a mistake in the export.
func decodeFloats(t *onnxpb.TensorProto) (*dnn.Tensor, error) {
	if dt := t.GetDataType(); dt != int32(onnxpb.TensorProto_FLOAT) {
		return nil, fmt.Errorf("data type %s, want FLOAT", dataTypeName(dt))
	}
	dims, n, err := tensorDims(t)
	if err != nil {
		return nil, err
	}
	out := &dnn.Tensor{Shape: dims}
	switch {
	case t.RawData != nil:
		if len(t.RawData) != 4*n {
			return nil, fmt.Errorf("raw_data holds %d bytes for %d floats", len(t.RawData), n)
		}
		out.Data = make([]float32, n)
		for i := range out.Data {
			out.Data[i] = math.Float32frombits(binary.LittleEndian.Uint32(t.RawData[4*i:]))
		}
	default:
		if len(t.FloatData) != n {
			return nil, fmt.Errorf("float_data holds %d values for shape %v", len(t.FloatData), dims)
		}
		out.Data = append([]float32(nil), t.FloatData...)
	}
	return out, nil
}

// decodeInts reads an INT64 or INT32 tensor, the types shapes, axes and
// indices come in.
func decodeInts(t *onnxpb.TensorProto) ([]int64, []int, error) {
	dims, n, err := tensorDims(t)
	if err != nil {
		return nil, nil, err
	}
	out := make([]int64, 0, min(n, 1<<16))
	switch dt := t.GetDataType(); {
	case dt == int32(onnxpb.TensorProto_INT64) && t.RawData != nil:
		if len(t.RawData) != 8*n {
			return nil, nil, fmt.Errorf("raw_data holds %d bytes for %d int64s", len(t.RawData), n)
		}
		for i := range n {
			out = append(out, int64(binary.LittleEndian.Uint64(t.RawData[8*i:])))
		}
	case dt == int32(onnxpb.TensorProto_INT64):
		out = append(out, t.Int64Data...)
	case dt == int32(onnxpb.TensorProto_INT32) && t.RawData != nil:
		if len(t.RawData) != 4*n {
			return nil, nil, fmt.Errorf("raw_data holds %d bytes for %d int32s", len(t.RawData), n)
		}
		for i := range n {
			out = append(out, int64(int32(binary.LittleEndian.Uint32(t.RawData[4*i:]))))
		}
	case dt == int32(onnxpb.TensorProto_INT32):
		for _, v := range t.Int32Data {
			out = append(out, int64(v))
		}
	default:
		return nil, nil, fmt.Errorf("data type %s, want INT64 or INT32", dataTypeName(dt))
	}
	if len(out) != n {
		return nil, nil, fmt.Errorf("holds %d integers for shape %v", len(out), dims)
	}
	return out, dims, nil
}
