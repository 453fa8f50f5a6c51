package oip

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
)

// The binary tensor data extension of the protocol (Triton's
// binary_tensor_data, which KServe's clients speak too): the body is the
// JSON request, Inference-Header-Content-Length bytes long, then each
// input's raw data (little-endian, row-major) in the order of the inputs
// whose parameters say binary_data_size. An output is answered the same
// way when the request's parameters say binary_data_output or the output's
// say binary_data.
const (
	// HeaderInferenceContentLength is the extension's header.
	HeaderInferenceContentLength = "Inference-Header-Content-Length"
	// ExtensionBinaryTensorData is the extension's name in server metadata.
	ExtensionBinaryTensorData = "binary_tensor_data"
)

// readRequest reads an inference request body, JSON or, with the
// extension's header, JSON then binary; for the latter it returns the
// binary part.
func readRequest(r *http.Request, body io.Reader) (*InferRequest, []byte, error) {
	h := r.Header.Get(HeaderInferenceContentLength)
	if h == "" {
		var req InferRequest
		dec := json.NewDecoder(body)
		if err := dec.Decode(&req); err != nil {
			return nil, nil, err
		}
		// One JSON value and nothing after it, as the protocol has it.
		if _, tail := dec.Token(); tail != io.EOF {
			return nil, nil, errors.New("data after the JSON object")
		}
		return &req, nil, nil
	}
	all, err := io.ReadAll(body)
	if err != nil {
		return nil, nil, err
	}
	n, err := strconv.Atoi(h)
	if err != nil || n < 0 || n > len(all) {
		return nil, nil, fmt.Errorf("%s: %q is not a length within the body's %d bytes", HeaderInferenceContentLength, h, len(all))
	}
	var req InferRequest
	if err := json.Unmarshal(all[:n], &req); err != nil {
		return nil, nil, fmt.Errorf("the JSON part (%s %d): %w", HeaderInferenceContentLength, n, err)
	}
	return &req, all[n:], nil
}

// binarySize is a tensor's parameters' binary_data_size, or -1 when it has
// none.
func binarySize(params map[string]any) (int, error) {
	v, ok := params["binary_data_size"]
	if !ok {
		return -1, nil
	}
	f, ok := v.(float64)
	if !ok || f < 0 || f != math.Trunc(f) || f > math.MaxInt32 {
		return 0, fmt.Errorf("parameters.binary_data_size: %v is not a byte count", v)
	}
	return int(f), nil
}

// decodeBinary reads want float32 values, little-endian, from the first
// size bytes of raw.
func decodeBinary(raw []byte, size, want int) ([]float32, error) {
	if size != 4*want {
		return nil, fmt.Errorf("binary_data_size %d: the shape needs %d FP32 values, %d bytes", size, want, 4*want)
	}
	if len(raw) < size {
		return nil, fmt.Errorf("binary_data_size %d: only %d bytes follow the JSON", size, len(raw))
	}
	x := make([]float32, want)
	for i := range x {
		x[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	return x, checkFinite(x, 0)
}

// wantsBinary reports whether a request asks for its output as binary data.
func wantsBinary(req *InferRequest) bool {
	if b, ok := req.Parameters["binary_data_output"].(bool); ok && b {
		return true
	}
	for _, o := range req.Outputs {
		if b, ok := o.Parameters["binary_data"].(bool); ok && b {
			return true
		}
	}
	return false
}

// writeBinary writes resp with its one output's values as binary data after
// the JSON.
func writeBinary(w http.ResponseWriter, resp InferResponse) int {
	y := resp.Outputs[0].Data
	resp.Outputs[0].Data = nil
	resp.Outputs[0].Parameters = map[string]any{"binary_data_size": 4 * len(y)}
	head, err := json.Marshal(resp)
	if err != nil {
		return writeError(w, http.StatusInternalServerError, "encoding the answer: %v", err)
	}
	var b bytes.Buffer
	b.Grow(len(head) + 4*len(y))
	b.Write(head)
	var word [4]byte
	for _, v := range y {
		binary.LittleEndian.PutUint32(word[:], math.Float32bits(v))
		b.Write(word[:])
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set(HeaderInferenceContentLength, strconv.Itoa(len(head)))
	w.WriteHeader(http.StatusOK)
	w.Write(b.Bytes()) // the status is sent; a failed write is the client's loss
	return http.StatusOK
}
