// Package hiltest holds what tests of ONNX Runtime's users share: the rule
// that under CI the runtime must be present, and a small real model.
package hiltest

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/tandem-edge/tandem/dnn"
	"github.com/tandem-edge/tandem/dnn/onnx"
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

// TinyModel writes the zoo's tiny network (a 1×12×12 input, 3 classes,
// seed 1) as ONNX into a temporary folder of t's and returns its path: a
// real model for tests of what serves or runs one, made by the code under
// test rather than kept as a file that drifts from it.
func TinyModel(t testing.TB) string {
	t.Helper()
	g, err := dnn.Zoo("tiny", []int{1, 12, 12}, 3, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "tiny.onnx")
	if err := onnx.WriteFile(path, g); err != nil {
		t.Fatal(err)
	}
	return path
}

// RequireNamespaces skips a test of the kernel link shaper (hil/kernlink)
// where network namespaces cannot be made: when not root, or without
// iproute2's tc. Under CI (CI=true, as root, iproute2 installed by
// scripts/setup.sh) it never skips: the test runs, and fails if it cannot.
func RequireNamespaces(t testing.TB) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		return
	}
	if os.Geteuid() != 0 {
		t.Skip("creating network namespaces needs root (CI runs this test as root)")
	}
	if _, err := exec.LookPath("tc"); err != nil {
		t.Skip("iproute2's tc is not installed (scripts/setup.sh installs it)")
	}
}
