package profiler

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/tandem-edge/tandem/dnn"
	"github.com/tandem-edge/tandem/dnn/onnx"
	"github.com/tandem-edge/tandem/hil"
	"github.com/tandem-edge/tandem/hil/hiltest"
)

// record rewrites the recorded ONNX Runtime profiles in testdata/profile:
//
//	go test ./profiler -run TestRecordProfileFixtures -record
var record = flag.Bool("record", false, "record the ONNX Runtime profile fixtures in testdata/profile")

// fixtureModels are the models whose ONNX Runtime profiles are recorded:
// small zoo networks, the resnet for its residual sums fused into
// convolutions and its pruned widths for the layout nodes.
var fixtureModels = []struct {
	name   string
	arch   string
	widths map[string]int
}{
	{name: "tiny", arch: "tiny"},
	{name: "resnet", arch: "resnet", widths: map[string]int{"conv1": 4, "layer1.0.conv2": 4, "layer1.0.conv1": 6,
		"layer2.0.conv1": 8, "layer2.0.conv2": 10, "layer2.0.down": 10, "layer3.0.conv1": 18, "layer3.0.conv2": 20, "layer3.0.down": 20}},
}

// fixtureRuns is how many runs each recorded profile keeps.
const fixtureRuns = 3

func fixturePaths(name string) (model, trace string) {
	dir := filepath.Join("testdata", "profile")
	return filepath.Join(dir, name+".onnx"), filepath.Join(dir, name+".ort.json")
}

func TestRecordProfileFixtures(t *testing.T) {
	if !*record {
		t.Skip("run with -record to rewrite testdata/profile")
	}
	hiltest.RequireORT(t)
	for _, f := range fixtureModels {
		g, err := dnn.Zoo(f.arch, []int{1, 8, 8}, 4, 0.5, 1)
		if err != nil {
			t.Fatal(err)
		}
		if f.widths != nil {
			if g, err = WithWidths(g, f.widths, 1); err != nil {
				t.Fatal(err)
			}
		}
		model, trace := fixturePaths(f.name)
		if err := onnx.WriteFile(model, g); err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		s, err := hil.Open(model, hil.Options{IntraOpThreads: 1, ProfilePrefix: filepath.Join(dir, "ort")})
		if err != nil {
			t.Fatal(err)
		}
		x, y := probeInput(s, 1), make([]float32, s.OutputSize())
		for range fixtureRuns {
			if err := s.Run(y, x, 1); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		files, _ := filepath.Glob(filepath.Join(dir, "ort*.json"))
		b, err := os.ReadFile(files[0])
		if err != nil {
			t.Fatal(err)
		}
		// Keep the events one per line: the file stays small and diffable.
		var events []json.RawMessage
		if err := json.Unmarshal(b, &events); err != nil {
			t.Fatal(err)
		}
		out := []byte("[\n")
		for i, e := range events {
			if i > 0 {
				out = append(out, ",\n"...)
			}
			out = append(out, e...)
		}
		out = append(out, "\n]\n"...)
		if err := os.WriteFile(trace, out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
