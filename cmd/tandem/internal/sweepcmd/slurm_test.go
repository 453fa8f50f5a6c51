package sweepcmd

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSlurm runs scripts/slurm-test.sh: a Slurm of its own on localhost
// (munged, slurmctld, slurmd), a sweep of 8 points submitted as a 4-task
// array and its merge job through the scripts --emit slurm writes, and the
// merged results compared byte for byte with a single-machine run. In CI
// (CI=true) it always runs, and fails, saying why, when Slurm cannot; outside
// CI it is skipped when Slurm is not installed.
func TestSlurm(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Slurm of its own: not with -short")
	}
	if os.Getenv("CI") != "true" {
		if _, err := exec.LookPath("slurmctld"); err != nil {
			t.Skip("slurm-wlm is not installed (scripts/setup.sh installs it); CI=true runs this test regardless")
		}
	}
	root, err := filepath.Abs("../../../..")
	if err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(root, "scripts", "slurm-test.sh")
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("go not found, to build tandem: %v", err)
	}
	tandem := filepath.Join(t.TempDir(), "tandem")
	build := exec.Command(gobin, "build", "-o", tandem, "./cmd/tandem")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/tandem: %v\n%s", err, out)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", script, tandem, "4")
	// SIGTERM, not SIGKILL, so that the script's trap stops its daemons.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = time.Minute
	out, err := cmd.CombinedOutput()
	t.Logf("%s", out)
	if err != nil {
		t.Fatalf("%s: %v: %s", script, err, lastError(string(out)))
	}
	if !strings.Contains(string(out), "slurm-test: tasks=4 wall_s=") || !strings.HasSuffix(string(out), "slurm-test: ok\n") {
		t.Fatalf("%s exited 0 without running the jobs", script)
	}
}

// lastError picks the script's own error line out of its output.
func lastError(out string) string {
	lines := strings.Split(out, "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.HasPrefix(lines[i], "slurm-test: error: ") {
			return strings.TrimPrefix(lines[i], "slurm-test: ")
		}
	}
	return "no error line; see the output above"
}
