package splitcmd

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tandem-edge/tandem/cmd/tandem/internal/cli"
	"github.com/tandem-edge/tandem/dnn/onnx"
	"github.com/tandem-edge/tandem/profiles"
)

// The built-in scenario's heavy model cut at every clean point, from the
// built-in profiles: both ends are there, and on this CPU with a 20 ms
// round trip running the whole model on the device is fastest.
func TestBuiltinDefault(t *testing.T) {
	r, err := Run("builtin:default")
	if err != nil {
		t.Fatal(err)
	}
	first, last := r.Points[0], r.Points[len(r.Points)-1]
	if first.After != "" || last.TensorBytes != 0 || r.Best.After != last.After || len(r.Points) < 10 {
		t.Errorf("%d points, first %+v, last %+v, best %+v", len(r.Points), first, last, r.Best)
	}
	var out bytes.Buffer
	if err := print(&out, r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "fastest: cut after fc") {
		t.Errorf("table:\n%s", out.String())
	}
}

// A profile that has not measured the heavy model is a clear error.
func TestMissingHeavyProfile(t *testing.T) {
	d, err := profiles.LoadDevice("edge-cpu-1t")
	if err != nil {
		t.Fatal(err)
	}
	d.Models = slices.DeleteFunc(d.Models, func(m profiles.Model) bool { return strings.HasSuffix(m.Name, "/heavy") })
	b, err := profiles.EncodeDevice(d)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "board.yaml"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	sc := "requests: 10\nbundle: builtin:fashion\nworkload: {rate: 1}\nedge: {device: board.yaml}\nlink: {uplink_mbps: 10, rtt: 20ms}\ncloud: {device: server-cpu}\npolicy: {kind: cloud-only}\n"
	if err := os.WriteFile(filepath.Join(dir, "s.yaml"), []byte(sc), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Run(filepath.Join(dir, "s.yaml"))
	if err == nil || cli.ExitCode(err) != cli.ExitBadInput || !strings.Contains(err.Error(), "has not measured the bundle's heavy model") {
		t.Errorf("error %v", err)
	}
}

// --parts writes both parts of the cut or, for a point that is not a cut,
// neither.
func TestWriteParts(t *testing.T) {
	r, err := Run("builtin:default")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "parts")
	var out bytes.Buffer
	if err := writeParts(&out, r, "pool1", dir); err != nil {
		t.Fatal(err)
	}
	device, err := onnx.ReadFile(filepath.Join(dir, "device.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	cloud, err := onnx.ReadFile(filepath.Join(dir, "cloud.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cloud.InputShape, []int{32, 14, 14}) || device.Classes != 32*14*14 || cloud.Classes != 10 {
		t.Errorf("device gives %d values, cloud takes %v and gives %d", device.Classes, cloud.InputShape, cloud.Classes)
	}
	// Without --after, the fastest point between the ends: in the built-in
	// default's model the smallest tensor, the 256 channels of one value
	// each that the fourth pooling leaves and the rest keep.
	out.Reset()
	if err := writeParts(&out, r, "", filepath.Join(t.TempDir(), "fastest")); err != nil || !strings.Contains(out.String(), ": 256 values out") {
		t.Errorf("fastest cut: %v, %s", err, out.String())
	}
	bad := filepath.Join(t.TempDir(), "none")
	for _, after := range []string{"fc", "nope"} {
		err := writeParts(&out, r, after, bad)
		if cli.ExitCode(err) != cli.ExitBadInput {
			t.Errorf("--after %q: %v, want a bad-input error", after, err)
		}
		if _, err := os.Stat(bad); !os.IsNotExist(err) {
			t.Errorf("--after %q: %s exists after the error", after, bad)
		}
	}
}
