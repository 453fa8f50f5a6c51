package profiles

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

const deviceYAML = `name: board
source: tandem profile --model m.onnx --out board.yaml
host:
  cpu: Test CPU
  cores: 4
  threads: 1
models:
  - name: fashion/edge
    sha256: 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
    latency: 1.234ms
    spread: 0.05
    batches:
      - {size: 1, latency: 1.234ms}
      - {size: 8, latency: 6ms}
    layers:
      - {name: conv1, op: Conv, flops: 1000, bytes: 64, latency: 850us}
      - {name: reshape, op: Reshape, latency: 0s}
    cold:
      - {gap: 10ms, latency: 1.3ms, runs: 40}
      - {gap: 100ms, latency: 1.5ms, spread: 0.1, runs: 50}
    serving:
      - {protocol: binary, latency: 1.6ms, runs: 200}
      - {protocol: json, latency: 2.9ms, runs: 200}
`

func TestDecodeDevice(t *testing.T) {
	d, err := DecodeDevice("board.yaml", []byte(deviceYAML))
	if err != nil {
		t.Fatal(err)
	}
	m, err := d.Model("fashion/edge")
	if err != nil {
		t.Fatal(err)
	}
	if d.Host.Cores != 4 || m.Latency != 1234*time.Microsecond || m.Batches[1].Latency != 6*time.Millisecond ||
		m.Layers[0].Latency != 850*time.Microsecond || m.Layers[0].FLOPs != 1000 ||
		m.Cold[1].Latency != 1500*time.Microsecond || m.Serving[1].Latency != 2900*time.Microsecond {
		t.Errorf("decoded %+v", d)
	}
	out, err := EncodeDevice(d)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"latency: 1.234ms", "latency: 850us", "latency: 0s"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("encoded profile lacks %q:\n%s", want, out)
		}
	}
	back, err := DecodeDevice("board.yaml", out)
	if err != nil {
		t.Fatalf("decoding EncodeDevice's output: %v\n%s", err, out)
	}
	if !reflect.DeepEqual(d, back) {
		t.Errorf("round trip changed the profile:\n got %+v\nwant %+v", back, d)
	}
}

func TestDecodeDeviceErrors(t *testing.T) {
	edit := func(old, repl string) string {
		if !strings.Contains(deviceYAML, old) {
			t.Fatalf("no %q in the profile", old)
		}
		return strings.Replace(deviceYAML, old, repl, 1)
	}
	cases := []struct {
		name, yaml, want string
	}{
		{"missing source", edit("source: tandem profile --model m.onnx --out board.yaml\n", ""),
			`board.yaml:1:1: source: required: where the numbers come from (the measuring command and host)`},
		{"empty source", edit("source: tandem profile --model m.onnx --out board.yaml", "source: ''"),
			`board.yaml:2:9: source: required: where the numbers come from (the measuring command and host)`},
		{"missing name", edit("name: board\n", ""),
			`board.yaml:1:1: name: required: the profile's name`},
		{"unknown key", edit("    spread: 0.05", "    sprad: 0.05"),
			`board.yaml:11:5: models[0].sprad: unknown key; did you mean "spread"?`},
		{"bare number latency", edit("    latency: 1.234ms", "    latency: 1.234"),
			`board.yaml:10:14: models[0].latency: want a duration like "10ms", got a bare number 1.234 (add a unit: ns, us, ms, s, m, h)`},
		{"zero latency", edit("    latency: 1.234ms", "    latency: 0s"),
			`board.yaml:10:14: models[0].latency: must be > 0, got 0s`},
		{"negative batch latency", edit("{size: 8, latency: 6ms}", "{size: 8, latency: -6ms}"),
			`board.yaml:14:28: models[0].batches[1].latency: must be > 0, got -6ms`},
		{"batch sizes not ascending", edit("{size: 8, latency: 6ms}", "{size: 1, latency: 6ms}"),
			`board.yaml:14:16: models[0].batches[1].size: batch sizes must be ascending, got 1 after 1`},
		{"zero batch size", edit("{size: 1, latency: 1.234ms}", "{size: 0, latency: 1.234ms}"),
			`board.yaml:13:16: models[0].batches[0].size: must be >= 1, got 0`},
		{"empty layers", edit("    layers:\n      - {name: conv1, op: Conv, flops: 1000, bytes: 64, latency: 850us}\n      - {name: reshape, op: Reshape, latency: 0s}\n", "    layers: []\n"),
			`board.yaml:15:13: models[0].layers: empty; leave the key out when no per-layer profile was measured`},
		{"negative layer latency", edit("latency: 850us", "latency: -1us"),
			`board.yaml:16:66: models[0].layers[0].latency: must be >= 0, got -1us`},
		{"negative flops", edit("flops: 1000", "flops: -1"),
			`board.yaml:16:40: models[0].layers[0].flops: must be >= 0, got -1`},
		{"bad sha256", edit("sha256: 0123", "sha256: X123"),
			`board.yaml:9:13: models[0].sha256: want 64 lower-case hex digits, got "X123`},
		{"bad graph sha256", edit("    sha256: 0123", "    graph_sha256: abc\n    sha256: 0123"),
			`board.yaml:9:19: models[0].graph_sha256: want 64 lower-case hex digits, got "abc"`},
		{"no models", edit(deviceYAML[strings.Index(deviceYAML, "models:"):], "models: []\n"),
			`board.yaml:7:9: models: required: at least one model`},
		{"duplicate model", edit("models:\n", "models:\n  - {name: fashion/edge, latency: 1ms}\n"),
			`board.yaml:9:11: models[1].name: model "fashion/edge" already profiled in models[0]`},
		{"zero cold gap", edit("gap: 10ms", "gap: 0s"),
			`board.yaml:19:15: models[0].cold[0].gap: must be > 0, got 0s`},
		{"cold gaps not ascending", edit("gap: 100ms", "gap: 10ms"),
			`board.yaml:20:15: models[0].cold[1].gap: gaps must be ascending, got 10ms after 10ms`},
		{"no cold runs", edit("runs: 50", "runs: 0"),
			`board.yaml:20:57: models[0].cold[1].runs: must be >= 1, got 0`},
		{"unknown protocol", edit("protocol: json", "protocol: grpc"),
			`board.yaml:23:20: models[0].serving[1].protocol: want binary or json, got "grpc"`},
		{"protocol twice", edit("protocol: json", "protocol: binary"),
			`board.yaml:23:20: models[0].serving[1].protocol: protocol binary measured twice`},
		{"negative serving latency", edit("latency: 2.9ms", "latency: -2.9ms"),
			`board.yaml:23:35: models[0].serving[1].latency: must be > 0, got -2.9ms`},
		{"wrong type", edit("  cores: 4", "  cores: four"),
			`board.yaml:5:10: host.cores: want an integer, got "four"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeDevice("board.yaml", []byte(tc.yaml))
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			for _, line := range strings.Split(err.Error(), "\n") {
				if strings.HasPrefix(line, tc.want) {
					return
				}
			}
			t.Errorf("error:\n%v\nwant a line starting %q", err, tc.want)
		})
	}
}

func TestEncodeDeviceValidates(t *testing.T) {
	_, err := EncodeDevice(&Device{Name: "x", Models: []Model{{Name: "m", Latency: time.Millisecond}}})
	if err == nil || err.Error() != `profiles: device "x": source: required: where the numbers come from (the measuring command and host)` {
		t.Errorf("EncodeDevice without a source: %v", err)
	}
}

func TestLoadDeviceMissing(t *testing.T) {
	for ref, want := range map[string]string{
		"nope":          `profiles: no built-in device profile "nope" and no such file (built-ins: `,
		"builtin:nope":  `profiles: no built-in device profile "nope" (built-ins: `,
		"dir/nope.yaml": `profiles: no built-in device profile "dir/nope.yaml" and no such file`,
	} {
		if _, err := LoadDevice(ref); err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("LoadDevice(%q) = %v, want %q...", ref, err, want)
		}
	}
}

// TestBuiltinDevices checks each embedded profile: it decodes, and its name
// is its file's.
func TestBuiltinDevices(t *testing.T) {
	for _, name := range BuiltinDevices() {
		d, err := LoadDevice(name)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if d.Name != name {
			t.Errorf("builtin/%s.yaml is named %q; want the file's name", name, d.Name)
		}
		if !IsBuiltinDevice(name) || !IsBuiltinDevice(BuiltinPrefix+name) {
			t.Errorf("IsBuiltinDevice(%q) = false", name)
		}
	}
	if IsBuiltinDevice("README") || IsBuiltinDevice("../builtin/README.md") {
		t.Error("IsBuiltinDevice accepts a file that is not a profile")
	}
}
