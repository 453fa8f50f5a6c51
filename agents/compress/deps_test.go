package compress

import (
	"os/exec"
	"strings"
	"testing"
)

// The compressor prices candidates through package predict so that it builds
// and runs without ONNX Runtime; this keeps the hardware-in-the-loop package
// out of its dependencies.
func TestDependsOnNoRuntime(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, p := range strings.Fields(string(out)) {
		if p == "github.com/tandem-edge/tandem/hil" || strings.HasPrefix(p, "github.com/tandem-edge/tandem/hil/") {
			t.Errorf("agents/compress depends on %s", p)
		}
	}
}
