package onnx

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDecodePyTorchExports decodes models that torch.onnx.export wrote (see
// testdata/pytorch/gen.py) and checks that the reference forward pass of
// each decoded graph gives PyTorch's logits.
func TestDecodePyTorchExports(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "pytorch", "logits.json"))
	if err != nil {
		t.Fatal(err)
	}
	var logits map[string][]float32
	if err := json.Unmarshal(b, &logits); err != nil {
		t.Fatal(err)
	}
	const (
		resnetBN = "Conv BatchNormalization Relu MaxPool Conv BatchNormalization Relu Conv BatchNormalization Add Relu AveragePool Flatten Dense"
		resnet   = "Conv Relu MaxPool Conv Relu Conv Add Relu AveragePool Flatten Dense"
	)
	for _, tc := range []struct{ name, ops string }{
		{"resnet_bn_view_op13", resnetBN},
		{"resnet_mean_op13", "Conv Relu MaxPool Conv Relu Conv Add Relu GlobalAveragePool Flatten Dense"},
		{"resnet_view_static_op13", resnet},
		{"resnet_flatten_op9", resnet},
		{"matmul_add_op13", "Conv Relu Flatten Dense"},
		{"pad_conv_op10", "Conv Relu AveragePool Flatten Dense"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, err := ReadFile(filepath.Join("testdata", "pytorch", tc.name+".onnx"))
			if err != nil {
				t.Fatal(err)
			}
			var ops []string
			for _, n := range g.Nodes {
				ops = append(ops, string(n.Op))
			}
			if got := strings.Join(ops, " "); got != tc.ops {
				t.Errorf("layers %s, want %s", got, tc.ops)
			}
			x := make([]float32, numel(g.InputShape))
			for i := range x {
				x[i] = float32(math.Sin(0.37*float64(i) + 0.1))
			}
			if d := maxAbsDiff(refForward(t, g, x), logits[tc.name]); d > 1e-5 {
				t.Errorf("logits differ from PyTorch's by %g", d)
			}
		})
	}
}
