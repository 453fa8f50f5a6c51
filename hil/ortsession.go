package hil

import (
	"fmt"
	"os"

	ort "github.com/yalue/onnxruntime_go"
)

// Options configure a Session. The zero value is valid: ONNX Runtime's own
// thread defaults, no profiling.
type Options struct {
	// IntraOpThreads is how many threads ONNX Runtime uses inside one
	// operator; 0 leaves its default (one per core). Edge runs pin 1, so that
	// a measurement stands for one core of a board.
	IntraOpThreads int

	// InterOpThreads is how many threads run independent operators at once;
	// 0 leaves ONNX Runtime's default.
	InterOpThreads int

	// ProfilePrefix, when not empty, turns on ONNX Runtime's profiler: it
	// records every node run and writes the trace as JSON to a file whose
	// name starts with ProfilePrefix when the session is closed.
	ProfilePrefix string
}

// TensorInfo names a model input or output and gives its shape, batch
// dimension first; a dynamic dimension is -1.
type TensorInfo struct {
	Name  string
	Shape []int64
}

// Session runs one ONNX model with ONNX Runtime: a model of one float32
// input and one float32 output whose first dimension is the batch. A Session
// is not safe for concurrent use.
type Session struct {
	Name          string // the model file, or the name given to OpenBytes
	Input, Output TensorInfo

	meta map[string]string
	sess *ort.DynamicAdvancedSession

	inSize, outSize int // values per sample
	batch           int // batch size of in and out, 0 before the first Run
	in, out         *ort.Tensor[float32]
}

// Open loads the ONNX model in the file path, setting up ONNX Runtime first
// if this process has not yet (see InitORT). ONNX Runtime reads the file
// itself, so tensors stored beside it as external data are found.
func Open(path string, opts Options) (*Session, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("hil: model: %w", err)
	}
	return open(path, opts, modelSource{
		info: func(so *ort.SessionOptions) ([]ort.InputOutputInfo, []ort.InputOutputInfo, error) {
			return ort.GetInputOutputInfoWithOptions(path, so)
		},
		create: func(in, out []string, so *ort.SessionOptions) (*ort.DynamicAdvancedSession, error) {
			return ort.NewDynamicAdvancedSession(path, in, out, so)
		},
	})
}

// OpenBytes loads an ONNX model from its encoding; name stands for it in
// errors.
func OpenBytes(name string, model []byte, opts Options) (*Session, error) {
	return open(name, opts, modelSource{
		info: func(*ort.SessionOptions) ([]ort.InputOutputInfo, []ort.InputOutputInfo, error) {
			return ort.GetInputOutputInfoWithONNXData(model)
		},
		create: func(in, out []string, so *ort.SessionOptions) (*ort.DynamicAdvancedSession, error) {
			return ort.NewDynamicAdvancedSessionWithONNXData(model, in, out, so)
		},
	})
}

// modelSource reaches a model in a file or in memory; onnxruntime_go has a
// function of each kind for each step.
type modelSource struct {
	info   func(*ort.SessionOptions) (ins, outs []ort.InputOutputInfo, err error)
	create func(inputs, outputs []string, so *ort.SessionOptions) (*ort.DynamicAdvancedSession, error)
}

func open(name string, opts Options, src modelSource) (*Session, error) {
	if _, err := InitORT(); err != nil {
		return nil, err
	}
	so, err := sessionOptions(opts)
	if err != nil {
		return nil, fmt.Errorf("hil: %s: %w", name, err)
	}
	defer so.Destroy()
	// Names and shapes come from a first, temporary session: onnxruntime_go
	// reads them only that way, and needs the names to build the real one.
	// It runs nothing, so one thread will do, and it must not profile, or
	// it would leave a trace of its own.
	infoSO, err := sessionOptions(Options{IntraOpThreads: 1})
	if err != nil {
		return nil, fmt.Errorf("hil: %s: %w", name, err)
	}
	ins, outs, err := src.info(infoSO)
	infoSO.Destroy()
	if err != nil {
		return nil, fmt.Errorf("hil: %s: %v", name, err)
	}
	s := &Session{Name: name}
	if s.Input, s.inSize, err = checkTensor(ins, "input"); err != nil {
		return nil, fmt.Errorf("hil: %s: %w", name, err)
	}
	if s.Output, s.outSize, err = checkTensor(outs, "output"); err != nil {
		return nil, fmt.Errorf("hil: %s: %w", name, err)
	}
	if b, ob := s.Input.Shape[0], s.Output.Shape[0]; b != ob && ob != -1 {
		return nil, fmt.Errorf("hil: %s: input batch dimension is %d but output's is %d", name, b, ob)
	}
	if s.sess, err = src.create([]string{s.Input.Name}, []string{s.Output.Name}, so); err != nil {
		return nil, fmt.Errorf("hil: %s: %v", name, err)
	}
	if s.meta, err = readMetadata(s.sess); err != nil {
		s.Close()
		return nil, fmt.Errorf("hil: %s: metadata: %v", name, err)
	}
	return s, nil
}

func sessionOptions(opts Options) (*ort.SessionOptions, error) {
	so, err := ort.NewSessionOptions()
	if err != nil {
		return nil, err
	}
	if opts.IntraOpThreads < 0 || opts.InterOpThreads < 0 {
		so.Destroy()
		return nil, fmt.Errorf("thread counts %d, %d: want 0 (ONNX Runtime's default) or more", opts.IntraOpThreads, opts.InterOpThreads)
	}
	set := []struct {
		on   bool
		do   func() error
		what string
	}{
		{opts.IntraOpThreads > 0, func() error { return so.SetIntraOpNumThreads(opts.IntraOpThreads) }, "intra-op threads"},
		{opts.InterOpThreads > 0, func() error { return so.SetInterOpNumThreads(opts.InterOpThreads) }, "inter-op threads"},
		{opts.ProfilePrefix != "", func() error { return so.EnableProfiling(opts.ProfilePrefix) }, "profiling"},
	}
	for _, s := range set {
		if !s.on {
			continue
		}
		if err := s.do(); err != nil {
			so.Destroy()
			return nil, fmt.Errorf("setting %s: %v", s.what, err)
		}
	}
	return so, nil
}

// checkTensor accepts a single float32 tensor with a leading batch dimension
// and fixed other dimensions, and returns it with its size per sample.
func checkTensor(infos []ort.InputOutputInfo, what string) (TensorInfo, int, error) {
	if len(infos) != 1 {
		return TensorInfo{}, 0, fmt.Errorf("%d %ss: tandem runs models of one input and one output", len(infos), what)
	}
	in := infos[0]
	if in.OrtValueType != ort.ONNXTypeTensor || in.DataType != ort.TensorElementDataTypeFloat {
		return TensorInfo{}, 0, fmt.Errorf("%s %s: want a float32 tensor", what, in.String())
	}
	if len(in.Dimensions) < 2 {
		return TensorInfo{}, 0, fmt.Errorf("%s %q has shape %v: want a batch dimension and at least one more", what, in.Name, in.Dimensions)
	}
	size := 1
	for i, d := range in.Dimensions[1:] {
		if d <= 0 {
			return TensorInfo{}, 0, fmt.Errorf("%s %q has shape %v: dimension %d is dynamic; only the batch (first) dimension may be", what, in.Name, in.Dimensions, i+1)
		}
		size *= int(d)
	}
	if in.Dimensions[0] == 0 {
		return TensorInfo{}, 0, fmt.Errorf("%s %q has shape %v: batch dimension 0", what, in.Name, in.Dimensions)
	}
	return TensorInfo{Name: in.Name, Shape: append([]int64(nil), in.Dimensions...)}, size, nil
}

// SampleShape is the shape of one input sample: the input's shape without
// the batch dimension.
func (s *Session) SampleShape() []int {
	shape := make([]int, len(s.Input.Shape)-1)
	for i, d := range s.Input.Shape[1:] {
		shape[i] = int(d)
	}
	return shape
}

// InputName is the name of the model's input tensor.
func (s *Session) InputName() string { return s.Input.Name }

// OutputName is the name of the model's output tensor.
func (s *Session) OutputName() string { return s.Output.Name }

// InputSize is the number of input values of one sample.
func (s *Session) InputSize() int { return s.inSize }

// OutputSize is the number of output values of one sample (the classes of a
// classifier).
func (s *Session) OutputSize() int { return s.outSize }

// Run runs the model on a batch of n samples: x holds n·InputSize() values,
// sample-major, and dst receives n·OutputSize(). Input and output tensors
// are kept between runs of the same n, so a steady batch size allocates
// nothing per run.
func (s *Session) Run(dst, x []float32, n int) error {
	if s.sess == nil {
		return fmt.Errorf("hil: %s: session is closed", s.Name)
	}
	if n < 1 {
		return fmt.Errorf("hil: %s: batch of %d samples", s.Name, n)
	}
	if b := s.Input.Shape[0]; b > 0 && int64(n) != b {
		return fmt.Errorf("hil: %s: batch of %d samples, but the model's batch dimension is fixed at %d", s.Name, n, b)
	}
	if len(x) != n*s.inSize || len(dst) != n*s.outSize {
		return fmt.Errorf("hil: %s: batch of %d needs %d input and %d output values, got %d and %d",
			s.Name, n, n*s.inSize, n*s.outSize, len(x), len(dst))
	}
	if n != s.batch {
		if err := s.allocate(n); err != nil {
			return err
		}
	}
	copy(s.in.GetData(), x)
	if err := s.sess.Run([]ort.Value{s.in}, []ort.Value{s.out}); err != nil {
		return fmt.Errorf("hil: %s: %v", s.Name, err)
	}
	copy(dst, s.out.GetData())
	return nil
}

// allocate replaces the input and output tensors with ones for n samples.
func (s *Session) allocate(n int) error {
	s.freeTensors()
	// Clone: ort.NewShape keeps the slice it is given.
	inShape := ort.Shape(s.Input.Shape).Clone()
	outShape := ort.Shape(s.Output.Shape).Clone()
	inShape[0], outShape[0] = int64(n), int64(n)
	var err error
	if s.in, err = ort.NewEmptyTensor[float32](inShape); err != nil {
		return fmt.Errorf("hil: %s: input tensor %v: %v", s.Name, inShape, err)
	}
	if s.out, err = ort.NewEmptyTensor[float32](outShape); err != nil {
		s.freeTensors()
		return fmt.Errorf("hil: %s: output tensor %v: %v", s.Name, outShape, err)
	}
	s.batch = n
	return nil
}

func (s *Session) freeTensors() {
	if s.in != nil {
		s.in.Destroy()
	}
	if s.out != nil {
		s.out.Destroy()
	}
	s.in, s.out, s.batch = nil, nil, 0
}

// Close releases the session and its tensors; with profiling on, ONNX Runtime
// writes its trace now. Closing twice is harmless.
func (s *Session) Close() error {
	s.freeTensors()
	if s.sess == nil {
		return nil
	}
	err := s.sess.Destroy()
	s.sess = nil
	if err != nil {
		return fmt.Errorf("hil: %s: closing: %w", s.Name, err)
	}
	return nil
}
