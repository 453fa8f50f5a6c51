package profiles

import (
	"reflect"
	"strings"
	"testing"
)

// predictorYAML is deviceYAML with the fields a measured profile adds: the
// profiler's overhead, layer spreads, and a predictor.
var predictorYAML = strings.Replace(deviceYAML, "    spread: 0.05\n", "    spread: 0.05\n    profiler_overhead: 1.42\n", 1) + `predictor:
  channel_block: 16
  channel_align: 4
  overhead: 1.5us
  kernels:
    - kernel: conv-nchwc
      samples: 40
      knots:
        - {flops: 25088, latency: 1.153us}
        - {flops: 7225344, latency: 68.248us}
      ns_per_byte: 0.0011
    - kernel: reshape
      samples: 20
      knots:
        - {flops: 0, latency: 151ns}
      ns_per_byte: 0
  batches:
    - {size: 8, factor: 6.5}
  samples: 60
  fit_error: 0.0267
  held_out:
    networks: 30
    within_10pct: 0.9667
    median_error: 0.0272
    seed: 7
`

func TestDecodeDevicePredictor(t *testing.T) {
	src := strings.Replace(predictorYAML, "latency: 850us}", "latency: 850us, spread: 0.07}", 1)
	d, err := DecodeDevice("board.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	p := d.Predictor
	if p == nil || p.ChannelBlock != 16 || p.Overhead != 1500 || len(p.Kernels) != 2 || p.Kernels[0].Knots[1].Latency != 68248 ||
		p.HeldOut == nil || p.HeldOut.Within10 != 0.9667 || d.Models[0].ProfilerOverhead != 1.42 || d.Models[0].Layers[0].Spread != 0.07 {
		t.Fatalf("decoded predictor %+v, model %+v", p, d.Models[0])
	}
	out, err := EncodeDevice(d)
	if err != nil {
		t.Fatal(err)
	}
	back, err := DecodeDevice("board.yaml", out)
	if err != nil {
		t.Fatalf("decoding EncodeDevice's output: %v\n%s", err, out)
	}
	if !reflect.DeepEqual(d, back) {
		t.Errorf("round trip changed the profile:\n got %+v\nwant %+v", back.Predictor, d.Predictor)
	}
}

func TestDecodeDevicePredictorErrors(t *testing.T) {
	edit := func(old, repl string) string {
		if !strings.Contains(predictorYAML, old) {
			t.Fatalf("no %q in the profile", old)
		}
		return strings.Replace(predictorYAML, old, repl, 1)
	}
	cases := []struct {
		name, yaml, want string
	}{
		{"unknown kernel", edit("kernel: reshape", "kernel: resize"), `predictor.kernels[1].kernel: unknown kernel class "resize"`},
		{"duplicate kernel", edit("kernel: reshape", "kernel: conv-nchwc"), `predictor.kernels[1].kernel: kernel class "conv-nchwc" already modelled in kernels[0]`},
		{"negative knot", edit("latency: 151ns", "latency: -151ns"), "predictor.kernels[1].knots[0].latency: must be >= 0, got -151ns"},
		{"knots not ascending", edit("flops: 7225344", "flops: 25088"), "predictor.kernels[0].knots[1].flops: knots must be in ascending FLOPs, got 25088 after 25088"},
		{"no knots", edit("        - {flops: 0, latency: 151ns}\n", ""), "predictor.kernels[1].knots: required: at least one knot"},
		{"align above block", edit("channel_align: 4", "channel_align: 32"), "predictor.channel_align: must be between 0 and channel_block (16), got 32"},
		{"negative per byte", edit("ns_per_byte: 0.0011", "ns_per_byte: -0.1"), "predictor.kernels[0].ns_per_byte: must be >= 0"},
		{"batch 1 factor", edit("size: 8, factor", "size: 1, factor"), "predictor.batches[0].size: must be >= 2"},
		{"zero factor", edit("factor: 6.5", "factor: 0"), "predictor.batches[0].factor: must be > 0"},
		{"held-out fraction", edit("within_10pct: 0.9667", "within_10pct: 96.67"), "predictor.held_out.within_10pct: must be a fraction between 0 and 1"},
		{"negative overhead", edit("overhead: 1.5us", "overhead: -1.5us"), "predictor.overhead: must be >= 0, got -1.5us"},
		{"unknown key", edit("fit_error:", "fit_eror:"), `predictor.fit_eror: unknown key; did you mean "fit_error"?`},
		{"negative profiler overhead", edit("profiler_overhead: 1.42", "profiler_overhead: -1"), "models[0].profiler_overhead: must be >= 0"},
		{"negative layer spread", edit("latency: 850us}", "latency: 850us, spread: -0.1}"), "models[0].layers[0].spread: must be >= 0"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeDevice("board.yaml", []byte(tc.yaml))
			if err == nil || !strings.Contains(err.Error(), "board.yaml:") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error:\n%v\nwant board.yaml:LINE:COL: %s", err, tc.want)
			}
		})
	}
}

func TestMatchModel(t *testing.T) {
	d, err := DecodeDevice("board.yaml", []byte(deviceYAML))
	if err != nil {
		t.Fatal(err)
	}
	sha := d.Models[0].SHA256
	other := strings.Repeat("ab", 32)
	cases := []struct {
		name, model, sha string
		layers           []string
		want             string // "" for a match
	}{
		{"match", "fashion/edge", sha, []string{"conv1", "reshape"}, ""},
		{"no checks", "fashion/edge", "", nil, ""},
		{"unknown model", "fashion/heavy", sha, nil, `board.yaml: models: device "board" has no profile of model "fashion/heavy" (it profiles fashion/edge)`},
		{"other file", "fashion/edge", other, nil, `board.yaml: models[0].sha256: the profile of "fashion/edge" was measured on another file`},
		{"missing layers", "fashion/edge", sha, []string{"conv1", "conv2", "fc"}, `board.yaml: models[0].layers: no latency for 2 of the 3 layers of model "fashion/edge": conv2, fc`},
	}
	for _, tc := range cases {
		m, err := d.MatchModel("board.yaml", tc.model, tc.sha, tc.layers)
		switch {
		case tc.want == "" && (err != nil || m != &d.Models[0]):
			t.Errorf("%s: %v, %v; want the model's profile", tc.name, m, err)
		case tc.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.want)):
			t.Errorf("%s: error %v\nwant %q...", tc.name, err, tc.want)
		}
	}
}
