package oip

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
)

// Client calls one model on an Open Inference Protocol server.
type Client struct {
	Base  *url.URL     // the server, e.g. http://10.0.0.2:8000
	Model string       // the model's name
	Input string       // the model's input tensor name
	HTTP  *http.Client // nil: http.DefaultClient
	// Token, when set, is sent as "Authorization: Bearer Token".
	Token string
	// Binary sends inputs and asks for outputs as binary tensor data (the
	// protocol's extension) instead of JSON numbers: a quarter of the bytes
	// and no number formatting, where the server speaks it.
	Binary bool
	// Metadata is what the server said of the model when the client was
	// made.
	Metadata ModelMetadata
	sample   []int64
}

// StatusError is a server's answer with an HTTP status other than 200.
type StatusError struct {
	Method, Path string
	Code         int
	Status       string // e.g. "503 Service Unavailable"
	Message      string // the protocol's error message; empty when none came
	RetryAfter   string // the Retry-After header, when the server sent one
}

func (e *StatusError) Error() string {
	if e.Message != "" {
		return fmt.Sprintf("oip: %s %s: %s: %s", e.Method, e.Path, e.Status, e.Message)
	}
	return fmt.Sprintf("oip: %s %s: %s", e.Method, e.Path, e.Status)
}

// ErrBadAnswer is wrapped by the errors of answers that are not what the
// protocol and the model's metadata say they are.
var ErrBadAnswer = errors.New("not the model's answer")

// NewClient returns a client of model on the server at base, reading the
// model's input name and sample shape from its metadata.
func NewClient(ctx context.Context, base, model string, hc *http.Client) (*Client, error) {
	return NewClientToken(ctx, base, model, hc, "")
}

// NewClientToken is NewClient for a server that wants a bearer token.
func NewClientToken(ctx context.Context, base, model string, hc *http.Client, token string) (*Client, error) {
	u, err := url.Parse(base)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("oip: server URL %q: want http://HOST:PORT", base)
	}
	c := &Client{Base: u, Model: model, HTTP: hc, Token: token}
	var md ModelMetadata
	if _, err := c.do(ctx, http.MethodGet, "v2/models/"+url.PathEscape(model), nil, nil, &md); err != nil {
		return nil, err
	}
	if len(md.Inputs) != 1 || len(md.Inputs[0].Shape) < 1 {
		return nil, fmt.Errorf("oip: model %q at %s: want one input with a batch dimension, metadata says %+v", model, base, md.Inputs)
	}
	c.Metadata = md
	c.Input, c.sample = md.Inputs[0].Name, md.Inputs[0].Shape[1:]
	return c, nil
}

// Expect checks the model's metadata against the model a caller means to
// send to: FP32 input samples of shape sample (without the batch
// dimension) and one FP32 output of classes values a sample. A dimension
// the server leaves variable (-1) matches any.
func (c *Client) Expect(sample []int, classes int) error {
	md := &c.Metadata
	in := md.Inputs[0]
	where := fmt.Sprintf("oip: model %q at %s", c.Model, c.Base)
	if in.Datatype != DatatypeFP32 {
		return fmt.Errorf("%s: input %q is %s, want %s", where, in.Name, in.Datatype, DatatypeFP32)
	}
	if !dimsMatch(in.Shape[1:], sample) {
		return fmt.Errorf("%s: input %q has shape %v, the bundle's model takes [-1 %s]", where, in.Name, in.Shape, dimsInt(sample))
	}
	if len(md.Outputs) != 1 {
		return fmt.Errorf("%s: %d outputs, want 1", where, len(md.Outputs))
	}
	out := md.Outputs[0]
	if out.Datatype != DatatypeFP32 {
		return fmt.Errorf("%s: output %q is %s, want %s", where, out.Name, out.Datatype, DatatypeFP32)
	}
	size := int64(1)
	for _, d := range out.Shape[min(1, len(out.Shape)):] {
		size *= d
	}
	if len(out.Shape) < 2 || size != int64(classes) {
		return fmt.Errorf("%s: output %q has shape %v, the bundle has %d classes", where, out.Name, out.Shape, classes)
	}
	return nil
}

// ExpectExtension checks that the server lists the protocol extension
// name in its metadata.
func (c *Client) ExpectExtension(ctx context.Context, name string) error {
	var md ServerMetadata
	if _, err := c.do(ctx, http.MethodGet, "v2", nil, nil, &md); err != nil {
		return err
	}
	if !slices.Contains(md.Extensions, name) {
		return fmt.Errorf("oip: the server at %s (%s %s) does not speak the %s extension (it lists %v)", c.Base, md.Name, md.Version, name, md.Extensions)
	}
	return nil
}

func dimsMatch(server []int64, want []int) bool {
	if len(server) != len(want) {
		return false
	}
	for i, d := range server {
		if d != -1 && d != int64(want[i]) {
			return false
		}
	}
	return true
}

func dimsInt(shape []int) string {
	s := make([]int64, len(shape))
	for i, d := range shape {
		s[i] = int64(d)
	}
	return dims(s)
}

// Answer is a server's answer to one inference request.
type Answer struct {
	Y []float32 // the output values, sample-major
	// Server is what the server said of how it answered; nil when it did
	// not say (a server other than tandem's).
	Server *ResponseParameters
}

// Infer sends n samples (x holds n samples' values, sample-major) and
// returns the model's output values for them.
func (c *Client) Infer(ctx context.Context, x []float32, n int) ([]float32, error) {
	a, err := c.InferAnswer(ctx, x, n)
	if err != nil {
		return nil, err
	}
	return a.Y, nil
}

// InferAnswer is Infer with what the server said of its answer.
func (c *Client) InferAnswer(ctx context.Context, x []float32, n int) (*Answer, error) {
	in := RequestInput{Name: c.Input, Shape: append([]int64{int64(n)}, c.sample...), Datatype: DatatypeFP32}
	req := InferRequest{Inputs: []RequestInput{in}}
	var bin []byte
	if c.Binary {
		bin = make([]byte, 4*len(x))
		for i, v := range x {
			binary.LittleEndian.PutUint32(bin[4*i:], math.Float32bits(v))
		}
		req.Inputs[0].Parameters = map[string]any{"binary_data_size": len(bin)}
		req.Parameters = map[string]any{"binary_data_output": true}
	} else {
		data, err := json.Marshal(x)
		if err != nil {
			return nil, fmt.Errorf("oip: encode input: %w", err)
		}
		req.Inputs[0].Data = data
	}
	var resp InferResponse
	binOut, err := c.do(ctx, http.MethodPost, "v2/models/"+url.PathEscape(c.Model)+"/infer", req, bin, &resp)
	if err != nil {
		return nil, err
	}
	if len(resp.Outputs) != 1 {
		return nil, fmt.Errorf("oip: model %q answered %d outputs: %w", c.Model, len(resp.Outputs), ErrBadAnswer)
	}
	out := &resp.Outputs[0]
	size, err := binarySize(out.Parameters)
	if err != nil || (size < 0) != (binOut == nil) || (size >= 0 && (size%4 != 0 || size != len(binOut))) {
		return nil, fmt.Errorf("oip: model %q: output %q with binary_data_size %v and %d binary bytes: %w", c.Model, out.Name, out.Parameters["binary_data_size"], len(binOut), ErrBadAnswer)
	}
	if size >= 0 {
		out.Data = make([]float32, size/4)
		for i := range out.Data {
			out.Data[i] = math.Float32frombits(binary.LittleEndian.Uint32(binOut[4*i:]))
		}
	}
	return &Answer{Y: out.Data, Server: resp.Parameters}, nil
}

// do sends one request and decodes the answer into out, or turns the
// protocol's error body into an error. With bin, the request is in the
// binary tensor data form: in's JSON, then bin. An answer in that form
// returns its binary part; a JSON one, nil.
func (c *Client) do(ctx context.Context, method, path string, in any, bin []byte, out any) ([]byte, error) {
	var body io.Reader
	var head int
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, err
		}
		head = len(b)
		if bin != nil {
			b = append(b, bin...)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.Base.JoinPath(path).String(), body)
	if err != nil {
		return nil, err
	}
	switch {
	case bin != nil:
		req.Header.Set("Content-Type", "application/octet-stream")
		req.Header.Set(HeaderInferenceContentLength, strconv.Itoa(head))
	case in != nil:
		req.Header.Set("Content-Type", "application/json")
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("oip: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("oip: %s %s: %w", method, path, err)
	}
	if resp.StatusCode != http.StatusOK {
		se := &StatusError{Method: method, Path: path, Code: resp.StatusCode, Status: resp.Status, RetryAfter: resp.Header.Get("Retry-After")}
		var e ErrorResponse
		if json.Unmarshal(raw, &e) == nil {
			se.Message = e.Error
		}
		return nil, se
	}
	var binOut []byte
	if h := resp.Header.Get(HeaderInferenceContentLength); h != "" {
		n, err := strconv.Atoi(h)
		if err != nil || n < 0 || n > len(raw) {
			return nil, fmt.Errorf("oip: %s %s: %s %q for %d bytes: %w", method, path, HeaderInferenceContentLength, h, len(raw), ErrBadAnswer)
		}
		raw, binOut = raw[:n], raw[n:]
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return nil, fmt.Errorf("oip: %s %s: answer: %w (%w)", method, path, ErrBadAnswer, err)
	}
	return binOut, nil
}

// SampleSize is the number of input values of one sample, from the model's
// metadata.
func (c *Client) SampleSize() int {
	n := 1
	for _, d := range c.sample {
		n *= int(d)
	}
	return n
}
