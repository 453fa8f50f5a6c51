package oip

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

func le(vs ...float32) []byte {
	b := make([]byte, 4*len(vs))
	for i, v := range vs {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return b
}

// TestBinaryTensorData sends requests in the binary tensor data form, as
// the extension's examples lay them out, and checks the answers, binary or
// JSON, and the refusals.
func TestBinaryTensorData(t *testing.T) {
	s := newTestServer(t, &sumModel{}, testConfig)
	const binIn = `{"inputs": [{"name": "x", "shape": [1, 1, 2, 2], "datatype": "FP32", "parameters": {"binary_data_size": 16}}]`
	cases := []struct {
		name   string
		head   string // the JSON part
		bin    []byte
		length string // the header; "": the JSON part's length
		code   int
		want   string // in the JSON part
		binOut []float32
	}{
		{name: "binary in, JSON out", head: binIn + `}`, bin: le(1, 2, 3, 4), code: 200, want: `"data":[10,20,30]`},
		{name: "binary in and out", head: binIn + `, "parameters": {"binary_data_output": true}}`, bin: le(1, 2, 3, 4), code: 200,
			want: `"parameters":{"binary_data_size":12}`, binOut: []float32{10, 20, 30}},
		{name: "binary output asked of the output", head: strings.Replace(oneSample, `"id": "a1",`, `"outputs": [{"name": "y", "parameters": {"binary_data": true}}],`, 1),
			code: 200, want: `"binary_data_size":12`, binOut: []float32{10, 20, 30}},
		// Laid out as the extension's own example: pretty-printed, with
		// model_name, the binary output asked of the output.
		{name: "the extension's example", head: `{
  "model_name" : "sum",
  "inputs" : [
    {
      "name" : "x",
      "shape" : [ 1, 1, 2, 2 ],
      "datatype" : "FP32",
      "parameters" : {
        "binary_data_size" : 16
      }
    }
  ],
  "outputs" : [
    {
      "name" : "y",
      "parameters" : {
        "binary_data" : true
      }
    }
  ]
}`, bin: le(1, 2, 3, 4), code: 200, want: `"binary_data_size":12`, binOut: []float32{10, 20, 30}},
		{name: "size disagrees with shape", head: strings.Replace(binIn, "16", "12", 1) + `}`, bin: le(1, 2, 3), code: 400, want: "binary_data_size 12: the shape needs 4 FP32 values, 16 bytes"},
		{name: "too few bytes", head: binIn + `}`, bin: le(1, 2, 3), code: 400, want: "only 12 bytes follow the JSON"},
		{name: "bytes left over", head: binIn + `}`, bin: le(1, 2, 3, 4, 5), code: 400, want: "4 bytes of binary data past"},
		{name: "NaN", head: binIn + `}`, bin: le(1, float32(math.NaN()), 3, 4), code: 400, want: "value 1 is out of float32 range"},
		{name: "binary without a size", head: oneSample, bin: le(1), code: 400, want: "no input says binary_data_size"},
		{name: "data and a size", head: strings.Replace(oneSample, `"datatype": "FP32",`, `"datatype": "FP32", "parameters": {"binary_data_size": 16},`, 1), bin: le(1, 2, 3, 4), code: 400, want: "both data and binary_data_size"},
		{name: "bad size", head: strings.Replace(binIn, "16", `"16"`, 1) + `}`, bin: le(1, 2, 3, 4), code: 400, want: "binary_data_size: 16 is not a byte count"},
		{name: "header past the body", head: binIn + `}`, bin: le(1, 2, 3, 4), length: "9999", code: 400, want: "is not a length within the body's"},
		{name: "header not a number", head: binIn + `}`, bin: le(1, 2, 3, 4), length: "x", code: 400, want: `\"x\" is not a length`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body := append([]byte(tc.head), tc.bin...)
			req := httptest.NewRequest("POST", "/v2/models/sum/infer", bytes.NewReader(body))
			length := tc.length
			if length == "" {
				length = strconv.Itoa(len(tc.head))
			}
			if tc.bin != nil || tc.length != "" {
				req.Header.Set(HeaderInferenceContentLength, length)
			}
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, req)
			raw := rec.Body.Bytes()
			var got []float32
			if h := rec.Header().Get(HeaderInferenceContentLength); h != "" {
				n, err := strconv.Atoi(h)
				if err != nil || n > len(raw) {
					t.Fatalf("%s %q for %d bytes", HeaderInferenceContentLength, h, len(raw))
				}
				for i := n; i+4 <= len(raw); i += 4 {
					got = append(got, math.Float32frombits(binary.LittleEndian.Uint32(raw[i:])))
				}
				raw = raw[:n]
			}
			if rec.Code != tc.code || !strings.Contains(string(raw), tc.want) {
				t.Errorf("%d %s; want %d and %s", rec.Code, raw, tc.code, tc.want)
			}
			if len(got) != len(tc.binOut) || (tc.binOut != nil && (got[0] != tc.binOut[0] || got[2] != tc.binOut[2])) {
				t.Errorf("binary output %v, want %v", got, tc.binOut)
			}
			if tc.binOut != nil && json.Valid(raw) && strings.Contains(string(raw), `"data"`) {
				t.Errorf("binary output also given as data: %s", raw)
			}
		})
	}
	if _, body := call(t, s, "GET", "/v2", ""); !strings.Contains(body, `"extensions":["binary_tensor_data"]`) {
		t.Errorf("server metadata %s", body)
	}
}

// TestClientBinary checks that a client speaking the binary extension gets
// the answers a JSON one does.
func TestClientBinary(t *testing.T) {
	s := newTestServer(t, &sumModel{}, testConfig)
	ts := httptest.NewServer(s)
	defer ts.Close()
	c, err := NewClient(context.Background(), ts.URL, "sum", &http.Client{})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.ExpectExtension(context.Background(), ExtensionBinaryTensorData); err != nil {
		t.Error(err)
	}
	if err := c.ExpectExtension(context.Background(), "shared_memory"); err == nil || !strings.Contains(err.Error(), "does not speak the shared_memory extension") {
		t.Errorf("ExpectExtension(shared_memory): %v", err)
	}
	var answers [2][]float32
	for i, bin := range []bool{false, true} {
		c, err := NewClient(context.Background(), ts.URL, "sum", &http.Client{})
		if err != nil {
			t.Fatal(err)
		}
		c.Binary = bin
		a, err := c.InferAnswer(context.Background(), []float32{1, 2, 3, 4, 0.5, 0.25, 0, 0}, 2)
		if err != nil {
			t.Fatalf("binary %v: %v", bin, err)
		}
		if a.Server == nil || a.Server.BatchSamples != 1 { // no batching: the two samples run apart
			t.Errorf("binary %v: server parameters %+v", bin, a.Server)
		}
		answers[i] = a.Y
	}
	want := []float32{10, 20, 30, 0.75, 1.5, 2.25}
	for i, a := range answers {
		if len(a) != len(want) {
			t.Fatalf("answer %d: %v, want %v", i, a, want)
		}
		for j := range want {
			if a[j] != want[j] {
				t.Errorf("answer %d: %v, want %v", i, a, want)
				break
			}
		}
	}
}

// An output JSON cannot carry (finite inputs whose sum overflows to +Inf)
// is a 500 that says so as JSON, and reaches a client that asks for binary
// data as it is.
func TestInferNotFinite(t *testing.T) {
	s, err := NewServer(&sumModel{}, testConfig)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const big = float32(3e38)
	for _, tc := range []struct {
		params string
		code   int
	}{
		{``, http.StatusInternalServerError},
		{`, "parameters": {"binary_data_output": true}`, http.StatusOK},
	} {
		head := `{"inputs": [{"name": "x", "shape": [1, 1, 2, 2], "datatype": "FP32", "parameters": {"binary_data_size": 16}}]` + tc.params + `}`
		req := httptest.NewRequest("POST", "/v2/models/sum/infer", bytes.NewReader(append([]byte(head), le(big, big, 3, 4)...)))
		req.Header.Set(HeaderInferenceContentLength, strconv.Itoa(len(head)))
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if rec.Code != tc.code {
			t.Fatalf("params %q: status %d, want %d: %s", tc.params, rec.Code, tc.code, rec.Body.Bytes())
		}
		if tc.code == http.StatusInternalServerError {
			var e ErrorResponse
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || !strings.Contains(e.Error, "binary_data_output") {
				t.Errorf("500 body %s (%v): want an error naming binary_data_output", rec.Body.Bytes(), err)
			}
		}
	}
}

// FuzzInferBinary posts arbitrary bodies in the binary tensor data form,
// with arbitrary header lengths: the server answers 200 with three values
// a sample, as JSON or binary, 4xx with an error body, or 500 saying why
// when the sums are not finite and the answer is JSON, which cannot carry
// them; it never panics.
func FuzzInferBinary(f *testing.F) {
	head := `{"inputs": [{"name": "x", "shape": [1, 1, 2, 2], "datatype": "FP32", "parameters": {"binary_data_size": 16}}], "parameters": {"binary_data_output": true}}`
	f.Add([]byte(head+string(le(1, 2, 3, 4))), len(head))
	f.Add([]byte(head+string(le(1, 2, 3))), len(head))
	f.Add([]byte(oneSample), len(oneSample))
	f.Add([]byte(head), -1)
	s, err := NewServer(&sumModel{}, testConfig)
	if err != nil {
		f.Fatal(err)
	}
	defer s.Close()
	f.Fuzz(func(t *testing.T, body []byte, length int) {
		req := httptest.NewRequest("POST", "/v2/models/sum/infer", bytes.NewReader(body))
		req.Header.Set(HeaderInferenceContentLength, strconv.Itoa(length))
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		raw := rec.Body.Bytes()
		switch {
		case rec.Code == http.StatusOK:
			var bin []byte
			if h := rec.Header().Get(HeaderInferenceContentLength); h != "" {
				n, err := strconv.Atoi(h)
				if err != nil || n < 0 || n > len(raw) {
					t.Fatalf("200 with %s %q for %d bytes", HeaderInferenceContentLength, h, len(raw))
				}
				raw, bin = raw[:n], raw[n:]
			}
			var resp InferResponse
			if err := json.Unmarshal(raw, &resp); err != nil || len(resp.Outputs) != 1 {
				t.Fatalf("200 with body %s (%v)", raw, err)
			}
			values := len(resp.Outputs[0].Data) + len(bin)/4
			if values != 3*int(resp.Outputs[0].Shape[0]) {
				t.Fatalf("200 with %d values for shape %v", values, resp.Outputs[0].Shape)
			}
		case rec.Code >= 400 && rec.Code < 500:
			var e ErrorResponse
			if err := json.Unmarshal(raw, &e); err != nil || e.Error == "" {
				t.Fatalf("%d with body %s", rec.Code, raw)
			}
		case rec.Code == http.StatusInternalServerError:
			var e ErrorResponse
			if err := json.Unmarshal(raw, &e); err != nil || !strings.Contains(e.Error, "not a finite number") {
				t.Fatalf("500 with body %s", raw)
			}
		default:
			t.Fatalf("status %d: %s", rec.Code, raw)
		}
	})
}
