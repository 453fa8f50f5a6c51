package oip

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
)

// Tensor data types of the protocol that tandem uses.
const DatatypeFP32 = "FP32"

// InferRequest is the body of POST v2/models/NAME/infer.
type InferRequest struct {
	ID         string           `json:"id,omitempty"`
	Parameters map[string]any   `json:"parameters,omitempty"`
	Inputs     []RequestInput   `json:"inputs"`
	Outputs    []RequestedOuput `json:"outputs,omitempty"`
}

// RequestInput is one input tensor of a request.
type RequestInput struct {
	Name       string          `json:"name"`
	Shape      []int64         `json:"shape"`
	Datatype   string          `json:"datatype"`
	Parameters map[string]any  `json:"parameters,omitempty"`
	Data       json.RawMessage `json:"data,omitempty"` // absent when the data is binary
}

// RequestedOuput names an output a request wants.
type RequestedOuput struct {
	Name       string         `json:"name"`
	Parameters map[string]any `json:"parameters,omitempty"`
}

// InferResponse is the body of a successful inference.
type InferResponse struct {
	ModelName    string              `json:"model_name"`
	ModelVersion string              `json:"model_version,omitempty"`
	ID           string              `json:"id,omitempty"`
	Parameters   *ResponseParameters `json:"parameters,omitempty"`
	Outputs      []ResponseOutput    `json:"outputs"`
}

// ResponseParameters are what tandem's server says of how it answered, in
// the response's parameters: the protocol leaves their names to servers.
// Other servers leave them out.
type ResponseParameters struct {
	QueueMS      float64 `json:"queue_ms"`      // waiting for the batch to start
	ComputeMS    float64 `json:"compute_ms"`    // running the batch
	BatchSamples int     `json:"batch_samples"` // samples in the batch
	// QueuedSamples is how many samples waited for a batch when the answer
	// left, over every model the server serves (the simulator's cloud
	// queue): what a client can know of the server's queue, as of its last
	// answer.
	QueuedSamples int64 `json:"queued_samples"`
}

// ResponseOutput is one output tensor of a response.
type ResponseOutput struct {
	Name       string         `json:"name"`
	Shape      []int64        `json:"shape"`
	Datatype   string         `json:"datatype"`
	Parameters map[string]any `json:"parameters,omitempty"` // binary_data_size, when the data follows as binary
	Data       []float32      `json:"data,omitempty"`
}

// ErrorResponse is the body of every failed request.
type ErrorResponse struct {
	Error string `json:"error"`
}

// MetadataTensor describes a model input or output.
type MetadataTensor struct {
	Name     string  `json:"name"`
	Datatype string  `json:"datatype"`
	Shape    []int64 `json:"shape"`
}

// ModelMetadata is the body of GET v2/models/NAME.
type ModelMetadata struct {
	Name     string           `json:"name"`
	Versions []string         `json:"versions,omitempty"`
	Platform string           `json:"platform"`
	Inputs   []MetadataTensor `json:"inputs"`
	Outputs  []MetadataTensor `json:"outputs"`
}

// ServerMetadata is the body of GET v2.
type ServerMetadata struct {
	Name       string   `json:"name"`
	Version    string   `json:"version"`
	Extensions []string `json:"extensions"`
}

// tooManySamplesError is a request of more samples than the server takes.
type tooManySamplesError struct{ n, limit int64 }

func (e *tooManySamplesError) Error() string {
	return fmt.Sprintf("inputs[0].shape: %d samples; this server takes at most %d a request (split it)", e.n, e.limit)
}

// decodeInput reads the one FP32 input of a request for a model whose input
// is called name and holds sampleSize values a sample of shape sample. It
// returns the values and the number of samples. Data may be flat or nested
// (the protocol allows both); nested, every level must have the length its
// dimension of the shape says (no ragged arrays); either way it must hold
// exactly the values the shape claims, and at most maxSamples samples, so that a request's
// claimed shape cannot make the server allocate without limit.
//
// With the binary tensor data extension, an input whose parameters say
// binary_data_size takes its values from bin instead, and bin must hold
// exactly those bytes.
func decodeInput(req *InferRequest, bin []byte, name string, sample []int64, sampleSize, maxSamples int) ([]float32, int, error) {
	if len(req.Inputs) != 1 {
		return nil, 0, fmt.Errorf("inputs: the model takes 1 input (%q), the request has %d", name, len(req.Inputs))
	}
	in := &req.Inputs[0]
	if in.Name != name {
		return nil, 0, fmt.Errorf("inputs[0].name: the model's input is %q, got %q", name, in.Name)
	}
	if in.Datatype != DatatypeFP32 {
		return nil, 0, fmt.Errorf("inputs[0].datatype: want %s, got %q", DatatypeFP32, in.Datatype)
	}
	if len(in.Shape) != len(sample)+1 {
		return nil, 0, fmt.Errorf("inputs[0].shape: want [N %s], got %v", dims(sample), in.Shape)
	}
	for i, d := range sample {
		if d > 0 && in.Shape[i+1] != d {
			return nil, 0, fmt.Errorf("inputs[0].shape: want [N %s], got %v", dims(sample), in.Shape)
		}
	}
	n := in.Shape[0]
	if n < 1 {
		return nil, 0, fmt.Errorf("inputs[0].shape: %d samples; want 1 to %d", n, maxSamples)
	}
	if n > int64(maxSamples) {
		return nil, 0, &tooManySamplesError{n: n, limit: int64(maxSamples)}
	}
	want := int(n) * sampleSize
	size, err := binarySize(in.Parameters)
	if err != nil {
		return nil, 0, fmt.Errorf("inputs[0].%w", err)
	}
	if size >= 0 {
		x, err := decodeBinary(bin, size, want)
		switch {
		case err != nil:
			return nil, 0, fmt.Errorf("inputs[0]: %w", err)
		case len(bin) != size:
			return nil, 0, fmt.Errorf("%d bytes of binary data past the inputs' binary_data_size", len(bin)-size)
		case len(in.Data) > 0 && string(bytes.TrimSpace(in.Data)) != "null":
			return nil, 0, errors.New("inputs[0]: both data and binary_data_size")
		}
		return x, int(n), nil
	}
	if len(bin) > 0 {
		return nil, 0, fmt.Errorf("%d bytes of binary data, and no input says binary_data_size", len(bin))
	}
	// Size the buffer by what the body can hold (every value takes at least
	// two bytes: a digit and a comma), not by what the shape claims.
	x := make([]float32, 0, min(want, len(in.Data)/2+1))
	x, err = appendValues(x, in.Data, in.Shape, 0, want)
	if err != nil {
		return nil, 0, fmt.Errorf("inputs[0].data: %w", err)
	}
	if len(x) != want {
		return nil, 0, fmt.Errorf("inputs[0].data: shape %v needs %d values, got %d", in.Shape, want, len(x))
	}
	return x, int(n), nil
}

// appendValues appends the numbers of the JSON array raw to x, refusing to
// let x grow past limit values and anything that is not a finite float32.
// raw is level's array of a tensor of shape: at level 0 it may be flat (all
// the values) or nested; below, its length must be its dimension's, and
// only the last level holds numbers.
func appendValues(x []float32, raw json.RawMessage, shape []int64, level, limit int) ([]float32, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '[' {
		return nil, errors.New("want an array of numbers")
	}
	var flat []float64
	if err := json.Unmarshal(raw, &flat); err == nil {
		if len(x)+len(flat) > limit {
			return nil, fmt.Errorf("more than the %d values the shape claims", limit)
		}
		if level > 0 && (level != len(shape)-1 || int64(len(flat)) != shape[level]) {
			return nil, ragged(shape, level, len(flat))
		}
		start := len(x)
		for _, v := range flat {
			x = append(x, float32(v))
		}
		return x, checkFinite(x[start:], start)
	}
	var nested []json.RawMessage
	if err := json.Unmarshal(raw, &nested); err != nil {
		return nil, errors.New("want an array of numbers")
	}
	for _, e := range nested {
		if e = bytes.TrimSpace(e); len(e) == 0 || e[0] != '[' {
			return nil, errors.New("want an array of numbers") // a string, an object, a mix
		}
	}
	if level >= len(shape)-1 {
		return nil, fmt.Errorf("nested deeper than shape %v", shape)
	}
	if int64(len(nested)) != shape[level] {
		return nil, ragged(shape, level, len(nested))
	}
	for _, e := range nested {
		var err error
		if x, err = appendValues(x, e, shape, level+1, limit); err != nil {
			return nil, err
		}
	}
	return x, nil
}

// ragged is the error of nested data whose array at level has n elements
// where shape says otherwise.
func ragged(shape []int64, level, n int) error {
	return fmt.Errorf("nested data does not match shape %v: an array of dimension %d has %d elements, want %d", shape, level, n, shape[level])
}

// checkFinite reports the first value of x that is not a finite float32;
// offset is x's position in the whole tensor, for the message.
func checkFinite(x []float32, offset int) error {
	for i, v := range x {
		if math.IsInf(float64(v), 0) || math.IsNaN(float64(v)) {
			return fmt.Errorf("value %d is out of float32 range", offset+i)
		}
	}
	return nil
}

func dims(shape []int64) string {
	var b bytes.Buffer
	for i, d := range shape {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprint(&b, d)
	}
	return b.String()
}
