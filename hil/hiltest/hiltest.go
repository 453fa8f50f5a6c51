// Package hiltest holds what tests of ONNX Runtime's users share: the rule
// that under CI the runtime must be present.
package hiltest

import (
	"os"
	"testing"

	"github.com/tandem-edge/tandem/hil"
)

// RequireORT loads ONNX Runtime. Under CI (CI=true) scripts/setup.sh has
// installed it, so a missing library fails the test; elsewhere it skips.
func RequireORT(t testing.TB) hil.ORTInfo {
	t.Helper()
	info, err := hil.InitORT()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("ONNX Runtime must be present under CI (run scripts/setup.sh): %v", err)
		}
		t.Skip(err)
	}
	return info
}
