package profiles

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/tandem-edge/tandem/scenarios/strictyaml"
)

// A device profile file is YAML; durations carry their unit. For example
// (the numbers are illustrative):
//
//	name: my-board
//	source: tandem profile --model heavy.onnx --out my-board.yaml
//	host: {cpu: Example CPU, cores: 4, os: linux, arch: arm64, threads: 1}
//	models:
//	  - name: fashion/heavy
//	    sha256: 3f2a...        # 64 hex digits of the ONNX file measured
//	    graph_sha256: 9c01...  # of the same file without its weights (onnx.GraphDigest)
//	    latency: 1.234ms       # whole model, batch 1, median
//	    spread: 0.05
//	    batches: [{size: 1, latency: 1.234ms}, {size: 8, latency: 6.1ms}]
//	    layers:
//	      - {name: conv1, op: Conv, flops: 1000000, bytes: 4096, latency: 180us}

// DecodeDevice decodes and validates a device profile. name is the file's
// name for messages ("file:line:column: models[0].latency: ...").
func DecodeDevice(name string, b []byte) (*Device, error) {
	var d Device
	doc, err := strictyaml.Decode(name, b, &d)
	if err != nil {
		return nil, err
	}
	c := strictyaml.NewChecker(doc)
	d.check(c)
	if err := c.Err(); err != nil {
		return nil, err
	}
	return &d, nil
}

// LoadDevice loads a device profile: a built-in by name ("edge-cpu-1t" or
// "builtin:edge-cpu-1t"), else the file at path ref.
func LoadDevice(ref string) (*Device, error) {
	name := strings.TrimPrefix(ref, BuiltinPrefix)
	if b, ok := readBuiltin(name, ".yaml"); ok {
		return DecodeDevice(BuiltinPrefix+name, b)
	}
	if strings.HasPrefix(ref, BuiltinPrefix) {
		return nil, fmt.Errorf("profiles: no built-in device profile %q (built-ins: %s)", name, listOrNone(BuiltinDevices()))
	}
	b, err := os.ReadFile(ref)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("profiles: no built-in device profile %q and no such file (built-ins: %s)", ref, listOrNone(BuiltinDevices()))
	}
	if err != nil {
		return nil, fmt.Errorf("profiles: %w", err)
	}
	return DecodeDevice(ref, b)
}

// EncodeDevice writes d as a device profile file, after validating it.
// Durations are written exactly, in the largest unit that keeps them at least
// 1 ("1.234ms", "850us"), so that decoding gives d back.
func EncodeDevice(d *Device) ([]byte, error) {
	if err := d.Validate(); err != nil {
		return nil, err
	}
	b, err := strictyaml.Marshal(d, strictyaml.EncodeOptions{})
	if err != nil {
		return nil, fmt.Errorf("profiles: encoding device %q: %w", d.Name, err)
	}
	return b, nil
}

// Validate checks what DecodeDevice checks, for a profile made in code.
func (d *Device) Validate() error {
	c := strictyaml.NewChecker(nil)
	d.check(c)
	if err := c.Err(); err != nil {
		return fmt.Errorf("profiles: device %q: %w", d.Name, err)
	}
	return nil
}

var sha256Hex = regexp.MustCompile(`^[0-9a-f]{64}$`)

func (d *Device) check(c *strictyaml.Checker) {
	if strings.TrimSpace(d.Name) == "" {
		c.Errorf("name", "required: the profile's name")
	}
	if strings.TrimSpace(d.Source) == "" {
		c.Errorf("source", "required: where the numbers come from (the measuring command and host)")
	}
	for _, f := range []struct {
		key string
		v   int
	}{{"cores", d.Host.Cores}, {"memory_mb", d.Host.MemoryMB}, {"threads", d.Host.Threads}} {
		if f.v < 0 {
			c.Errorf("host."+f.key, "must be >= 0, got %d", f.v)
		}
	}
	if d.Host.Slowdown != 0 && !(d.Host.Slowdown >= 1 && d.Host.Slowdown <= 1000) {
		c.Errorf("host.slowdown", "must be from 1 to 1000 (how many times slower than the host), got %g", d.Host.Slowdown)
	}
	if len(d.Models) == 0 {
		c.Errorf("models", "required: at least one model")
	}
	seen := map[string]int{}
	for i := range d.Models {
		d.Models[i].check(c, fmt.Sprintf("models[%d]", i), seen, i)
	}
	d.Predictor.check(c)
	d.Power.Check(c, "power")
}

func (m *Model) check(c *strictyaml.Checker, p string, seen map[string]int, i int) {
	switch first, dup := seen[m.Name]; {
	case m.Name == "":
		c.Errorf(p+".name", "required: the model's name")
	case dup:
		c.Errorf(p+".name", "model %q already profiled in models[%d]", m.Name, first)
	default:
		seen[m.Name] = i
	}
	if m.SHA256 != "" && !sha256Hex.MatchString(m.SHA256) {
		c.Errorf(p+".sha256", "want 64 lower-case hex digits, got %q", m.SHA256)
	}
	if m.GraphSHA256 != "" && !sha256Hex.MatchString(m.GraphSHA256) {
		c.Errorf(p+".graph_sha256", "want 64 lower-case hex digits, got %q", m.GraphSHA256)
	}
	if m.Latency <= 0 {
		c.Errorf(p+".latency", "must be > 0, got %s", strictyaml.FormatDuration(m.Latency))
	}
	if m.Spread < 0 {
		c.Errorf(p+".spread", "must be >= 0, got %g", m.Spread)
	}
	if m.ProfilerOverhead < 0 {
		c.Errorf(p+".profiler_overhead", "must be >= 0, got %g", m.ProfilerOverhead)
	}
	if c.Has(p+".batches", m.Batches != nil) && len(m.Batches) == 0 {
		c.Errorf(p+".batches", "empty; leave the key out when no batch curve was measured")
	}
	for j, b := range m.Batches {
		bp := fmt.Sprintf("%s.batches[%d]", p, j)
		if b.Size < 1 {
			c.Errorf(bp+".size", "must be >= 1, got %d", b.Size)
		} else if j > 0 && b.Size <= m.Batches[j-1].Size {
			c.Errorf(bp+".size", "batch sizes must be ascending, got %d after %d", b.Size, m.Batches[j-1].Size)
		}
		if b.Latency <= 0 {
			c.Errorf(bp+".latency", "must be > 0, got %s", strictyaml.FormatDuration(b.Latency))
		}
	}
	checkCold(c, p+".cold", m.Cold)
	protocols := map[string]bool{}
	for j, s := range m.Serving {
		sp := fmt.Sprintf("%s.serving[%d]", p, j)
		switch {
		case s.Protocol != ProtocolBinary && s.Protocol != ProtocolJSON:
			c.Errorf(sp+".protocol", "want %s or %s, got %q", ProtocolBinary, ProtocolJSON, s.Protocol)
		case protocols[s.Protocol]:
			c.Errorf(sp+".protocol", "protocol %s measured twice", s.Protocol)
		}
		protocols[s.Protocol] = true
		checkTiming(c, sp, s.Latency, s.Spread, s.Runs)
		if s.RequestBytes < 0 || s.ResponseBytes < 0 || (s.RequestBytes == 0) != (s.ResponseBytes == 0) {
			c.Errorf(sp+".request_bytes", "request_bytes %d and response_bytes %d: want both > 0, or neither given", s.RequestBytes, s.ResponseBytes)
		}
		checkCold(c, sp+".cold", s.Cold)
	}
	if c.Has(p+".layers", m.Layers != nil) && len(m.Layers) == 0 {
		c.Errorf(p+".layers", "empty; leave the key out when no per-layer profile was measured")
	}
	for j, l := range m.Layers {
		lp := fmt.Sprintf("%s.layers[%d]", p, j)
		if l.Name == "" {
			c.Errorf(lp+".name", "required: the layer's name")
		}
		if l.FLOPs < 0 {
			c.Errorf(lp+".flops", "must be >= 0, got %d", l.FLOPs)
		}
		if l.Bytes < 0 {
			c.Errorf(lp+".bytes", "must be >= 0, got %d", l.Bytes)
		}
		if l.Latency < 0 {
			c.Errorf(lp+".latency", "must be >= 0, got %s", strictyaml.FormatDuration(l.Latency))
		}
		if l.Spread < 0 {
			c.Errorf(lp+".spread", "must be >= 0, got %g", l.Spread)
		}
	}
}

// checkCold checks a cold curve at key path p: gaps above 0 and ascending,
// latencies above 0.
func checkCold(c *strictyaml.Checker, p string, cold []ColdLatency) {
	for j, cl := range cold {
		cp := fmt.Sprintf("%s[%d]", p, j)
		if cl.Gap <= 0 {
			c.Errorf(cp+".gap", "must be > 0, got %s", strictyaml.FormatDuration(cl.Gap))
		} else if j > 0 && cl.Gap <= cold[j-1].Gap {
			c.Errorf(cp+".gap", "gaps must be ascending, got %s after %s", strictyaml.FormatDuration(cl.Gap), strictyaml.FormatDuration(cold[j-1].Gap))
		}
		checkTiming(c, cp, cl.Latency, cl.Spread, cl.Runs)
	}
}

// checkTiming checks a timed measurement at key path p: its median
// latency above 0, its spread not negative, at least one run.
func checkTiming(c *strictyaml.Checker, p string, latency time.Duration, spread float64, runs int) {
	if latency <= 0 {
		c.Errorf(p+".latency", "must be > 0, got %s", strictyaml.FormatDuration(latency))
	}
	if !(spread >= 0) {
		c.Errorf(p+".spread", "must be >= 0, got %g", spread)
	}
	if runs < 1 {
		c.Errorf(p+".runs", "must be >= 1, got %d", runs)
	}
}
