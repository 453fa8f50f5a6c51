package hil

import (
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/tandem-edge/tandem/dnn/onnx/onnxpb"
)

// initOnlyEnv makes the test binary load ONNX Runtime and exit, so that
// TestInitORTErrors can watch InitORT fail in a fresh process: a process
// sets ONNX Runtime up only once.
const initOnlyEnv = "HIL_TEST_INIT_ONLY"

func TestMain(m *testing.M) {
	if os.Getenv(initOnlyEnv) == "1" {
		if _, err := InitORT(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(3)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// requireORT loads ONNX Runtime. Under CI (CI=true) scripts/setup.sh has
// fetched it, so its absence fails the test; elsewhere the test skips.
func requireORT(t *testing.T) ORTInfo {
	t.Helper()
	info, err := InitORT()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("ONNX Runtime must be present under CI (run scripts/setup.sh): %v", err)
		}
		t.Skip(err)
	}
	return info
}

func TestORTLoads(t *testing.T) {
	info := requireORT(t)
	if !strings.HasPrefix(info.Version, "1.") || info.Library == "" {
		t.Errorf("ONNX Runtime %q from %q", info.Version, info.Library)
	}
	res, err := CheckORT()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("ONNX Runtime %s from %s: linear model off by %g, %v per batch-1 run", res.Version, res.Library, res.MaxAbsError, res.RunTime)
}

func TestFindORT(t *testing.T) {
	cache := t.TempDir()
	t.Setenv("TANDEM_CACHE", cache)

	t.Setenv("ONNXRUNTIME_LIB", filepath.Join(cache, "nope.so"))
	_, err := findORT()
	if !errors.Is(err, ErrORTNotFound) || !strings.Contains(err.Error(), "ONNXRUNTIME_LIB is "+filepath.Join(cache, "nope.so")+": no such file") ||
		!strings.Contains(err.Error(), "scripts/setup.sh") {
		t.Errorf("missing $ONNXRUNTIME_LIB: %v", err)
	}

	t.Setenv("ONNXRUNTIME_LIB", "")
	lib, err := findORT()
	if err != nil || lib.from != fromSystem {
		t.Errorf("empty cache: %+v, %v; want the system's library", lib, err)
	}

	cached, err := CachedORTPath()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(cached, filepath.Join(cache, "onnxruntime", ORTVersion)) {
		t.Errorf("cached library at %s, outside %s", cached, cache)
	}
	if err := os.MkdirAll(filepath.Dir(cached), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cached, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if lib, err := findORT(); err != nil || lib.path != cached {
		t.Errorf("filled cache: %+v, %v; want %s", lib, err, cached)
	}
}

// TestInitORTErrors loads ONNX Runtime in child processes set up to fail.
func TestInitORTErrors(t *testing.T) {
	notALibrary := filepath.Join(t.TempDir(), "libonnxruntime.so")
	if err := os.WriteFile(notALibrary, []byte("not a library"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		env  []string
		want []string
	}{
		{name: "not a library", env: []string{"ONNXRUNTIME_LIB=" + notALibrary},
			want: []string{"hil: loading ONNX Runtime from " + notALibrary + " ($ONNXRUNTIME_LIB)", "run scripts/setup.sh", "set ONNXRUNTIME_LIB"}},
		{name: "nowhere", env: []string{"ONNXRUNTIME_LIB=", "TANDEM_CACHE=" + t.TempDir(), "LD_LIBRARY_PATH=", "DYLD_LIBRARY_PATH="},
			want: []string{"hil: ONNX Runtime library not found: ONNXRUNTIME_LIB is not set", "does not exist, and the system has none", "run scripts/setup.sh"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0])
			cmd.Env = append(append(os.Environ(), initOnlyEnv+"=1"), tt.env...)
			out, err := cmd.CombinedOutput()
			if err == nil {
				if tt.name == "nowhere" {
					t.Skip("the system has an ONNX Runtime library of its own")
				}
				t.Fatal("ONNX Runtime loaded")
			}
			for _, w := range tt.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("error %q does not say %q", out, w)
				}
			}
		})
	}
}

// linearSession opens LinearModel over samples of shape with W and b.
func linearSession(t *testing.T, shape []int, w, b []float32, meta map[string]string, opts Options) *Session {
	t.Helper()
	model, err := LinearModel(shape, w, b, meta)
	if err != nil {
		t.Fatal(err)
	}
	s, err := OpenBytes("linear.onnx", model, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestSessionLinear(t *testing.T) {
	requireORT(t)
	// logits = x·Wᵀ + b for 2x3 samples and 2 classes.
	w := []float32{1, 2, 3, 4, 5, 6, -1, 0, 1, 0, -1, 0.5}
	b := []float32{0.25, -2}
	s := linearSession(t, []int{1, 2, 3}, w, b, nil, Options{IntraOpThreads: 1})
	if s.Input.Name != "x" || s.Output.Name != "logits" ||
		fmt.Sprint(s.Input.Shape) != "[-1 1 2 3]" || fmt.Sprint(s.Output.Shape) != "[-1 2]" ||
		s.InputSize() != 6 || s.OutputSize() != 2 || fmt.Sprint(s.SampleShape()) != "[1 2 3]" {
		t.Fatalf("input %+v (%d), output %+v (%d)", s.Input, s.InputSize(), s.Output, s.OutputSize())
	}
	// Batch sizes change and come back, exercising tensor reuse.
	for _, n := range []int{1, 3, 3, 1, 2} {
		x := make([]float32, n*6)
		for i := range x {
			x[i] = float32((i*7)%11) / 10
		}
		got := make([]float32, n*2)
		if err := s.Run(got, x, n); err != nil {
			t.Fatal(err)
		}
		for j := range n {
			for c := range 2 {
				want := b[c]
				for i := range 6 {
					want += x[j*6+i] * w[c*6+i]
				}
				if math.Abs(float64(got[j*2+c]-want)) > 1e-5 {
					t.Errorf("batch %d, sample %d, class %d: ORT %g, by hand %g", n, j, c, got[j*2+c], want)
				}
			}
		}
	}
}

func TestSessionConv(t *testing.T) {
	requireORT(t)
	// One 3x3 kernel over a 1x4x4 image, no padding: a 1x2x2 output.
	kernel := []float32{1, 0, -1, 2, 0, -2, 1, 0, -1}
	const bias = 0.5
	g := &onnxpb.GraphProto{
		Name: proto.String("conv"),
		Node: []*onnxpb.NodeProto{{
			OpType: proto.String("Conv"), Name: proto.String("conv"),
			Input: []string{"image", "K", "B"}, Output: []string{"edges"},
			Attribute: []*onnxpb.AttributeProto{{Name: proto.String("kernel_shape"), Type: onnxpb.AttributeProto_INTS.Enum(), Ints: []int64{3, 3}}},
		}},
		Initializer: []*onnxpb.TensorProto{floatTensor("K", []int64{1, 1, 3, 3}, kernel), floatTensor("B", []int64{1}, []float32{bias})},
		Input:       []*onnxpb.ValueInfoProto{floatValue("image", -1, 1, 4, 4)},
		Output:      []*onnxpb.ValueInfoProto{floatValue("edges", -1, 1, 2, 2)},
	}
	model, err := encodeModel(g, nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := OpenBytes("conv.onnx", model, Options{IntraOpThreads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	x := make([]float32, 2*16)
	for i := range x {
		x[i] = float32(i*i%13) / 13
	}
	got := make([]float32, 2*4)
	if err := s.Run(got, x, 2); err != nil {
		t.Fatal(err)
	}
	for n := range 2 {
		for oy := range 2 {
			for ox := range 2 {
				want := float32(bias)
				for ky := range 3 {
					for kx := range 3 {
						want += x[n*16+(oy+ky)*4+ox+kx] * kernel[ky*3+kx]
					}
				}
				if g := got[n*4+oy*2+ox]; math.Abs(float64(g-want)) > 1e-5 {
					t.Errorf("sample %d, output (%d,%d): ORT %g, by hand %g", n, oy, ox, g, want)
				}
			}
		}
	}
}

func TestSessionErrors(t *testing.T) {
	requireORT(t)
	s := linearSession(t, []int{1, 2, 2}, make([]float32, 8), make([]float32, 2), nil, Options{})
	runs := []struct {
		name    string
		dst, x  int
		n       int
		wantErr string
	}{
		{name: "no samples", dst: 0, x: 0, n: 0, wantErr: "batch of 0 samples"},
		{name: "short input", dst: 2, x: 3, n: 1, wantErr: "batch of 1 needs 4 input and 2 output values, got 3 and 2"},
		{name: "short output", dst: 3, x: 8, n: 2, wantErr: "got 8 and 3"},
	}
	for _, tt := range runs {
		err := s.Run(make([]float32, tt.dst), make([]float32, tt.x), tt.n)
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.wantErr)
		}
	}
	s.Close()
	if err := s.Run(make([]float32, 2), make([]float32, 4), 1); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("run after close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second close: %v", err)
	}

	twoInputs := &onnxpb.GraphProto{
		Name:   proto.String("sum"),
		Node:   []*onnxpb.NodeProto{node("Add", []string{"a", "b"}, "sum")},
		Input:  []*onnxpb.ValueInfoProto{floatValue("a", -1, 3), floatValue("b", -1, 3)},
		Output: []*onnxpb.ValueInfoProto{floatValue("sum", -1, 3)},
	}
	twoInputsModel, err := encodeModel(twoInputs, nil)
	if err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), "missing.onnx")
	opens := []struct {
		name    string
		open    func() (*Session, error)
		wantErr string
	}{
		{name: "missing file", open: func() (*Session, error) { return Open(missing, Options{}) },
			wantErr: "hil: model: stat " + missing + ": no such file"},
		{name: "not ONNX", open: func() (*Session, error) { return OpenBytes("junk.onnx", []byte("junk"), Options{}) },
			wantErr: "hil: junk.onnx: "},
		{name: "two inputs", open: func() (*Session, error) { return OpenBytes("sum.onnx", twoInputsModel, Options{}) },
			wantErr: "hil: sum.onnx: 2 inputs: tandem runs models of one input and one output"},
		{name: "negative threads", open: func() (*Session, error) {
			m, _ := LinearModel([]int{1}, []float32{1}, []float32{0}, nil)
			return OpenBytes("m.onnx", m, Options{IntraOpThreads: -1})
		}, wantErr: "thread counts -1, 0"},
	}
	for _, tt := range opens {
		s, err := tt.open()
		if err == nil {
			s.Close()
		}
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.wantErr)
		}
	}
}

func TestSessionMetadata(t *testing.T) {
	requireORT(t)
	tests := []struct {
		name      string
		meta      map[string]string
		mean, std string
		wantErr   string
	}{
		{name: "none", meta: map[string]string{"arch": "lin"}, mean: "[]", std: "[]"},
		{name: "json", meta: map[string]string{MetaInputMean: "[0.5, 0.25]", MetaInputStd: "[0.5, 2]"}, mean: "[0.5 0.25]", std: "[0.5 2]"},
		{name: "commas", meta: map[string]string{MetaInputMean: "0.1307", MetaInputStd: "0.3081"}, mean: "[0.1307]", std: "[0.3081]"},
		{name: "one only", meta: map[string]string{MetaInputMean: "0.5"}, wantErr: "only one of"},
		{name: "zero std", meta: map[string]string{MetaInputMean: "0.5", MetaInputStd: "0"}, wantErr: "deviation 0 is not positive"},
		{name: "three for two", meta: map[string]string{MetaInputMean: "1,2,3", MetaInputStd: "1,2,3"}, wantErr: "3 means and 3 deviations for 2 channels"},
		{name: "not numbers", meta: map[string]string{MetaInputMean: "a", MetaInputStd: "1"}, wantErr: `"a" is not a number`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := linearSession(t, []int{2, 1, 1}, []float32{1, 1}, []float32{0}, tt.meta, Options{})
			if got := s.Metadata(); len(got) != len(tt.meta) {
				t.Errorf("metadata %v, want %v", got, tt.meta)
			}
			mean, std, err := s.Normalization()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(append([]float32{}, mean...)) != tt.mean || fmt.Sprint(append([]float32{}, std...)) != tt.std {
				t.Errorf("mean %v, std %v; want %s, %s", mean, std, tt.mean, tt.std)
			}
		})
	}
}

func TestProfiling(t *testing.T) {
	requireORT(t)
	dir := t.TempDir()
	model, err := LinearModel([]int{4}, make([]float32, 8), make([]float32, 2), nil)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "m.onnx")
	if err := os.WriteFile(path, model, 0o644); err != nil {
		t.Fatal(err)
	}
	prefix := filepath.Join(dir, "trace")
	s, err := Open(path, Options{IntraOpThreads: 1, ProfilePrefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Run(make([]float32, 2), make([]float32, 4), 1); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	traces, _ := filepath.Glob(prefix + "*.json")
	if len(traces) != 1 {
		t.Fatalf("traces %v, want one file %s*.json", traces, prefix)
	}
	trace, err := os.ReadFile(traces[0])
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(trace), `"op_name" : "Gemm"`) && !strings.Contains(string(trace), `"op_name":"Gemm"`) {
		t.Errorf("trace names no Gemm node: %.300s", trace)
	}
}
